import { dtypeOnnxFiles, GENAI_ONNX_FILE, ModelDtype } from '../inference';

/** A file of a repository, as the Hub's tree listing describes it. */
export interface RepoFile {
  path: string;
  size: number;
  /** Git blob sha1 (of the LFS pointer, for LFS files). */
  oid: string;
  /** For files stored with LFS (or Xet): the content's sha256 and size. */
  lfs?: { oid: string; size: number };
}

/**
 * Configuration, tokenizer and template files: small, and all the engine needs besides the weights. Other
 * weight formats (safetensors, PyTorch, GGUF) and the weights of dtypes not asked for are left on the Hub.
 */
const METADATA_FILE = /\.(json|jinja|txt|model)$/i;

/**
 * The files a model directory needs to serve the given dtypes: the metadata files, and for each dtype the
 * ONNX file the engine would pick (see model-directory.ts: the dtype's own file, else onnxruntime-genai's
 * `model.onnx`) with its external-data files (`model.onnx_data`, `model.onnx_data_1`, `model.onnx.data`).
 * Throws when a dtype has no ONNX file in the repository.
 */
export function selectModelFiles(files: readonly RepoFile[], dtypes: readonly ModelDtype[]): RepoFile[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const onnxFiles = new Set(dtypes.map((dtype) => onnxFileFor(byPath, dtype)));
  return files.filter((file) => METADATA_FILE.test(file.path) || [...onnxFiles].some((onnx) => belongsTo(file.path, onnx)));
}

function onnxFileFor(byPath: ReadonlyMap<string, RepoFile>, dtype: ModelDtype): string {
  const candidates = [...dtypeOnnxFiles(dtype), GENAI_ONNX_FILE];
  const found = candidates.find((candidate) => byPath.has(candidate));
  if (found !== undefined) return found;
  const available = [...byPath.keys()].filter((path) => path.endsWith('.onnx'));
  throw new Error(
    `no ONNX file for dtype ${dtype} (looked for ${candidates.join(', ')}); ` +
      (available.length > 0 ? `the repository has ${available.join(', ')}` : 'the repository has no ONNX file: is it an ONNX export?'),
  );
}

/** The ONNX file itself or one of its external-data files. */
function belongsTo(path: string, onnxFile: string): boolean {
  return path.startsWith(onnxFile) && /^(|\.data|_data(_\d+)?)$/.test(path.slice(onnxFile.length));
}
