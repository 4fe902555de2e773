/**
 * @huggingface/transformers, the benchmark's baseline (c). It is not in package.json: with its onnxruntime-web
 * and sharp it would add about 180 MB to every `npm ci` for this one benchmark. `npm run bench:setup` installs
 * it (the exact version is in package.json's script) without saving it; the next `npm ci` removes it again.
 */
export const TRANSFORMERS_JS = '@huggingface/transformers';

/** The part of transformers.js the benchmark calls. */
export interface TransformersJs {
  env: { allowRemoteModels: boolean; localModelPath: string };
  pipeline: (task: 'text-generation', model: string, options: { dtype: string; device: 'cpu' }) => Promise<TextGenerator>;
}

export interface TextGenerator {
  (text: string, options: { max_new_tokens: number; min_new_tokens: number; do_sample: false; return_full_text: false }): Promise<unknown>;
  dispose(): Promise<void>;
}

/** Loads transformers.js, or says how to install it. */
export async function loadTransformersJs(): Promise<TransformersJs> {
  // A specifier in a variable: the type check must not need the package, which a plain `npm ci` leaves out.
  const specifier: string = TRANSFORMERS_JS;
  try {
    return (await import(specifier)) as TransformersJs;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      `the transformers.js baseline needs ${TRANSFORMERS_JS}, which npm ci does not install: run \`npm run bench:setup\` once, then the benchmark again`,
      { cause: error },
    );
  }
}
