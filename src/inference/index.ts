/**
 * The inference engine's one door: the app, the CLI, bench/, tools/ and test/ import from here only
 * (src/inference/layering.spec.ts enforces it). The rooms behind it:
 *   model-format/   where a model folder's files are and what its configuration says
 *   runtime/        onnxruntime: the decoder session, its thread, I/O names, logits, float16
 *   answer-format/  the Qwen3Guard text protocol: prompt, answer grammar, verdict parsing
 *   decoding/       prefill, greedy and constrained decoding, the prefix cache
 * and, at this level, the engine that puts them together with its contract (options, observer, errors, verdicts).
 */

// The engine and its contract.
export * from './verdict';
export * from './engine-error';
export * from './engine-observer';
export * from './moderation-engine';
export * from './onnx-engine-options';
export type { BatchingOptions } from './batch-scheduler';
export { OnnxModerationEngine } from './onnx-moderation-engine';
export type { FirstFlag, ModerationStream, StreamCheck } from './moderation-stream';

// Model folders, for the model hub and the CLI.
export { dtypeOnnxFiles, GENAI_ONNX_FILE, readModelDirectory } from './model-format/model-directory';
export type { ModelDirectory } from './model-format/model-directory';
export { defaultDirectoryDtype, defaultDtype, INT8_DTYPES } from './model-format/default-dtype';
export type { DtypeChoice } from './model-format/default-dtype';

// The prompt protocol, for callers that need the mode of a conversation or the answer's token ids.
export { PromptEncoder } from './answer-format/prompt-encoder';
export { AnswerGrammar } from './answer-format/answer-grammar';
export { measureTemplateLengths } from './answer-format/template-lengths';
export type { TemplateLengths } from './answer-format/template-lengths';

/*
 * Low-level pieces, for the benchmark, the fidelity suites, fault injection and the synthetic model builder
 * only: they run the decoder directly or write tensors. The service itself never needs them.
 */
export { ort } from './runtime/onnxruntime';
export { float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, toFloat16Bits } from './runtime/float16';
export { argmaxVocabulary, gatheredIds, lastPositionLogits, positionLogits, vocabularySize, withReadout } from './runtime/logits';
export type { LogitsRow } from './runtime/logits';
export { DecoderSession } from './runtime/decoder-session';
export type { ForwardStep } from './runtime/decoder-session';
export { ThreadedSession } from './runtime/session-thread/threaded-session';
export type { SessionRun } from './runtime/session-thread/threaded-session';
export { prefill, PREFILL_CHUNK_TOKENS } from './decoding/prefill';
export { greedyGenerate } from './decoding/greedy-decoder';
