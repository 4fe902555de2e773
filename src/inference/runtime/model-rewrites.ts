import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';
import { makeAttentionMaskFinite } from './finite-attention-mask';
import { AttentionHeads, groupQueryHeads } from './grouped-attention';
import { addLogitsToKeep } from './logits-to-keep';
import { quantizeActivationsPerToken } from './per-token-int8';

/**
 * Above this the weights are inside the file (no external data): rewriting it would hold the file twice at
 * load, besides onnxruntime's own copy. Such a model runs as exported.
 */
export const REWRITE_FILE_LIMIT_BYTES = 256 * 1024 * 1024;

/** The load-time graph rewrites, each asked for separately. */
export interface RewriteRequest {
  /** A `logits_to_keep` input (logits-to-keep.ts). */
  logitsToKeep: boolean;
  /** Per-token int8 activation scales (per-token-int8.ts); CPU provider only. */
  perTokenInt8: boolean;
  /** A finite attention mask in place of -inf and softmax's NaN guard (finite-attention-mask.ts). */
  finiteAttentionMask?: boolean;
  /** Attention that reads each KV head once (grouped-attention.ts), for a model with these heads; false: as exported. */
  groupedAttention?: AttentionHeads | false;
}

export type RewriteName = keyof RewriteRequest;

/** How much of a model each load-time rewrite changed (0: as exported). */
export interface AppliedRewrites {
  /** Activation quantizers now scaled per token. */
  perTokenQuantizers: number;
  /** Attention layers now masked with a finite number, their softmax unguarded. */
  finiteMaskLayers: number;
  /** Attention layers now reading each KV head once. */
  groupedAttentionLayers: number;
}

export interface ModelRewrite {
  /** The rewritten model, for onnxruntime to load from memory, and the folder its external weights are in; unset: load the file itself. */
  rewritten?: { model: Uint8Array; externalDataFolder: string };
  /** Why an asked-for rewrite does not apply. */
  skipped: Partial<Record<RewriteName, string>>;
  applied: AppliedRewrites;
}

/** Reads a decoder export and applies the asked-for rewrites that its graph allows. */
export function readRewritten(onnxPath: string, request: RewriteRequest): ModelRewrite {
  const asked = (Object.keys(request) as RewriteName[]).filter((name) => request[name]);
  const none = (): AppliedRewrites => ({ perTokenQuantizers: 0, finiteMaskLayers: 0, groupedAttentionLayers: 0 });
  const skipAll = (reason: string): ModelRewrite => ({ skipped: Object.fromEntries(asked.map((name) => [name, reason])), applied: none() });
  if (asked.length === 0) return { skipped: {}, applied: none() };
  const size = statSync(onnxPath).size;
  if (size > REWRITE_FILE_LIMIT_BYTES) {
    return skipAll(`its weights are inside the ${Math.round(size / 2 ** 20)} MiB file (export them as external data to rewrite it)`);
  }
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(onnxPath));
  } catch (error) {
    // A file this cannot read is onnxruntime's to refuse, with its own message.
    return skipAll(`it could not be read as a model (${(error as Error).message})`);
  }
  const result: ModelRewrite = { skipped: {}, applied: none() };
  const { applied } = result;
  // In this order: the per-token rewrite moves logits_to_keep's slice before the LM head's quantizer, and the
  // finite mask applies only once no activation is quantized per pass.
  if (request.logitsToKeep) {
    const skipped = addLogitsToKeep(model);
    if (skipped !== undefined) result.skipped.logitsToKeep = skipped;
  }
  if (request.perTokenInt8) {
    const perToken = quantizeActivationsPerToken(model);
    if ('skipped' in perToken) result.skipped.perTokenInt8 = perToken.skipped;
    else applied.perTokenQuantizers = perToken.rewritten;
  }
  if (request.finiteAttentionMask) {
    const finite = makeAttentionMaskFinite(model);
    if ('skipped' in finite) result.skipped.finiteAttentionMask = finite.skipped;
    else applied.finiteMaskLayers = finite.rewritten;
  }
  if (request.groupedAttention) {
    const grouped = groupQueryHeads(model, request.groupedAttention);
    if ('skipped' in grouped) result.skipped.groupedAttention = grouped.skipped;
    else applied.groupedAttentionLayers = grouped.rewritten;
  }
  const changed = (request.logitsToKeep && !result.skipped.logitsToKeep) || Object.values(applied).some((count) => count > 0);
  if (!changed) return result;
  const externalDataFolder = relocateExternalData(model, dirname(onnxPath));
  if (externalDataFolder === null) return skipAll('its external data files are in more than one folder');
  return { ...result, rewritten: { model: onnx.ModelProto.encode(model).finish(), externalDataFolder } };
}

/**
 * onnxruntime loads external weights of a model given from memory only from one folder, and refuses a location
 * that resolves outside it: a Hugging Face snapshot's files are links into its `blobs/` folder. The locations
 * are resolved here and pointed at the folder they really share; null when they share none.
 */
function relocateExternalData(model: onnx.IModelProto, modelFolder: string): string | null {
  const entries = (model.graph?.initializer ?? [])
    .filter((tensor) => tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    .flatMap((tensor) => (tensor.externalData ?? []).filter((entry) => entry.key === 'location'));
  const resolved = new Map<string, string>();
  for (const entry of entries) {
    if (!resolved.has(entry.value!)) resolved.set(entry.value!, realpathSync(join(modelFolder, entry.value!)));
  }
  const folders = new Set([...resolved.values()].map((path) => dirname(path)));
  if (folders.size > 1) return null;
  for (const entry of entries) entry.value = basename(resolved.get(entry.value!)!);
  return folders.values().next().value ?? modelFolder;
}
