/**
 * The demo model: a one-layer Qwen3 whose weights are set by hand so that greedy decoding answers in
 * Qwen3Guard-Gen's exact format, with a verdict that follows simple, documented word rules
 * (DEMO_TRIGGER_WORDS in demo-rules.ts). It is what `npm start` serves when no model is configured; its
 * verdicts are NOT real moderation.
 *
 * ## Design
 * Standard Qwen3 math (see qwen3-onnx-graph.ts), nothing custom: hidden 64, 8 heads = 8 KV heads,
 * head_dim 128, rope_theta 1e6, SwiGLU intermediate 32, untied lm_head, vocabulary 151936.
 *
 * Residual dimensions are named features (RESIDUAL below): `bias` (1 in every embedding), `pad`, one
 * `role.*` per answer-token role (DEMO_ROLES), one `class.*` per trigger class plus the response cue,
 * `prev.*` (copied from the previous token), `flag.*` (computed over the whole context) and one `out.*`
 * per token the model can write. Every embedding row has squared norm 2 (bias + one role / class / pad
 * dim), so after input_layernorm each present feature reads exactly sqrt(32).
 *
 * Attention (q_norm = k_norm = 5 everywhere, so a query and a key whose directions agree score
 * 5 * 5 * sqrt(128) ~ 283):
 * - head 0, previous token: constant q and k (from `bias`) spread over rotary pairs 0..23 with
 *   weights w_0 = 1/2 and w_i = 1/46, k rotated by +1 position, so the score is
 *   283 * sum_i w_i cos(theta_i (delta - 1)): it peaks at delta = 1 and every other offset up to
 *   max_position_embeddings scores at least ~69 lower. The value copies the `role.*` dims of the
 *   attended token into `prev.*` (groups in PREVIOUS_GROUPS).
 * - heads 1-4, one per trigger class: constant q in the lowest-frequency rotary dim (63; it turns by
 *   less than 0.06 rad over 40960 positions); k is non-zero only for that class's tokens (k_norm maps 0
 *   to 0), scoring ~283 against 0 for every other key; the value is 1 only on those tokens. So the flag
 *   is exactly 0 without a trigger (uniform attention over zero values) and ~1 with one anywhere.
 * - head 5, response mode: keys only on the response cue ` Ref` (from `..., else No: the Refusal line.` in
 *   the response-mode template, RESPONSE_CUE_DISTANCE tokens before the end of the prompt). Queries come
 *   only from the three category-end roles, each rotated to peak at its own distance to the cue
 *   (the answer has a fixed length up to that token), with a constant negative part: the cue at the
 *   right distance scores ~+18, a ` Ref` anywhere else <= ~-18, other keys 0. So a text cannot fake
 *   the mode by containing the cue; only the template's own line, at its fixed place, counts.
 * - heads 6, 7: unused (zero).
 *
 * MLP = a lookup table: one SwiGLU unit per DEMO_RULES entry. gate = K * (2 * sum(required features)
 * - 3 * sum(forbidden features) - (2 * required - 0.5) * bias) on the normalised residual: +K/2 when
 * the rule holds, <= -1.5 K otherwise (in residual units, which RMSNorm scales alike, so the sign never
 * depends on the norm: features are 0/1 and the threshold sits at a half-integer). up = bias; down
 * writes a value several hundred times the rest of the residual into the `out.*` dim of the token to
 * emit. For a verdict it writes the three verdict dims in the ratio of
 * VERDICT_LOGIT_OFFSETS, so after the final RMSNorm the logits are those offsets around ~20.
 *
 * lm_head reads `out.*` only (gain 4: a fired rule gives its token ~32, every other token 0) plus a
 * small `bias` term for <|im_end|>, so when no rule fires the model stops.
 *
 * Known limits (by design): triggers are matched per token anywhere in the conversation (also in the
 * user turn when judging a response); one category is reported; a template other than
 * SYNTHETIC_CHAT_TEMPLATE never gets a Refusal line.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEMO_ROLES,
  DEMO_RULES,
  DEMO_TOKENS,
  DemoFeature,
  DemoRole,
  PREVIOUS_GROUPS,
  PreviousGroup,
  RESPONSE_CUE_DISTANCE,
  TRIGGER_CLASSES,
  TriggerClass,
  VERDICT_LOGIT_OFFSETS,
  VerdictName,
  triggerTokenIds,
} from './demo-rules';
import { QWEN3_COMMON } from './model-presets';
import { Qwen3Config, Qwen3WeightSource } from './qwen3-config';
import { writeSyntheticModelDirectory } from './model-directory-writer';

export { DEMO_CLASS_VERDICTS, DEMO_TRIGGER_WORDS, TRIGGER_CLASSES } from './demo-rules';
export type { TriggerClass } from './demo-rules';

/** Bump whenever the weights, the config, the graph or the rules change: the cache directory name carries it. */
export const DEMO_MODEL_VERSION = 3;

export const DEMO_MODEL_CONFIG: Qwen3Config = {
  ...QWEN3_COMMON,
  architectures: [...QWEN3_COMMON.architectures],
  hidden_size: 64,
  intermediate_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 8,
  num_key_value_heads: 8,
  head_dim: 128,
  tie_word_embeddings: false,
};

// ---------------------------------------------------------------------------------------------------
// Residual layout

type ResidualFeature = 'bias' | 'pad' | DemoFeature | `class.${TriggerClass | 'responseCue'}` | `out.${number}`;

/** Every token the model can write, in the order of their `out.*` dims. */
const OUTPUT_TOKENS: readonly number[] = [
  DEMO_TOKENS.safety,
  DEMO_TOKENS.colon,
  DEMO_TOKENS.newline,
  DEMO_TOKENS.safe,
  DEMO_TOKENS.unsafe,
  ...DEMO_TOKENS.controversial,
  DEMO_TOKENS.categories,
  DEMO_TOKENS.none,
  ...DEMO_TOKENS.violent,
  ...DEMO_TOKENS.pii,
  ...DEMO_TOKENS.political,
  ...DEMO_TOKENS.refusal,
  DEMO_TOKENS.yes,
  DEMO_TOKENS.no,
  DEMO_TOKENS.imEnd,
];

const ROLE_NAMES = Object.keys(DEMO_ROLES) as DemoRole[];
const PREVIOUS_NAMES = Object.keys(PREVIOUS_GROUPS) as PreviousGroup[];
const FLAG_NAMES = [...TRIGGER_CLASSES, 'response'] as const;
const CLASS_NAMES = [...TRIGGER_CLASSES, 'responseCue'] as const;

/** Residual dimension of each feature. */
export const RESIDUAL: ReadonlyMap<ResidualFeature, number> = (() => {
  const features: ResidualFeature[] = [
    'bias',
    'pad',
    ...ROLE_NAMES.map((role) => `role.${role}` as const),
    ...CLASS_NAMES.map((name) => `class.${name}` as const),
    ...PREVIOUS_NAMES.map((group) => `prev.${group}` as const),
    ...FLAG_NAMES.map((flag) => `flag.${flag}` as const),
    ...OUTPUT_TOKENS.map((token) => `out.${token}` as const),
  ];
  if (features.length > DEMO_MODEL_CONFIG.hidden_size) throw new Error('demo model: residual layout exceeds hidden_size');
  return new Map(features.map((feature, dim) => [feature, dim]));
})();

function dim(feature: ResidualFeature): number {
  const index = RESIDUAL.get(feature);
  if (index === undefined) throw new Error(`demo model: no residual dim for ${feature}`);
  return index;
}

// ---------------------------------------------------------------------------------------------------
// Constants of the construction

const HIDDEN = DEMO_MODEL_CONFIG.hidden_size;
const HEAD_DIM = DEMO_MODEL_CONFIG.head_dim;
const HALF = HEAD_DIM / 2;
const HEADS = DEMO_MODEL_CONFIG.num_attention_heads;
const INTERMEDIATE = DEMO_MODEL_CONFIG.intermediate_size;
const VOCAB = DEMO_MODEL_CONFIG.vocab_size;

/** q_norm / k_norm weight on every dim: a fully aligned query/key pair scores NORM^2 * sqrt(head_dim). */
const QK_NORM = 5;
/** Rotary pairs of the positional heads, and their weights (w_0 = 1/2, the rest share 1/2). */
const POSITIONAL_PAIRS = 24;
const POSITIONAL_WEIGHTS = Array.from({ length: POSITIONAL_PAIRS }, (_, i) => (i === 0 ? 0.5 : 0.5 / (POSITIONAL_PAIRS - 1)));
/**
 * A lower bound of min over offsets x != 0 (|x| < max_position_embeddings) of
 * sum_i w_i (1 - cos(theta_i x)) for the weights above (the spec recomputes it: ~0.246).
 */
export const POSITIONAL_MARGIN = 0.24;
/** The lowest-frequency rotary dim: the detectors' dim, and the response head's constant part. */
const FLAT_DIM = HALF - 1;
/**
 * Share of the response head's query/key on the positional pairs; the rest is a constant negative
 * score. Chosen so that the cue at the right distance and at any other distance sit symmetrically
 * around 0: alpha * (1 - margin / 2) = 1 - alpha.
 */
const RESPONSE_ALPHA = 1 / (2 - POSITIONAL_MARGIN / 2);

/** MLP gate gain, down-projection gain, lm_head gain, and the <|im_end|> fallback gain. */
const GATE_GAIN = 8;
const DOWN_GAIN = 8;
const LM_GAIN = 4;
const FALLBACK_GAIN = 1;

/** Every embedding row has squared norm 2, so input_layernorm scales each feature by 1 / sqrt(2/64). */
const EMBEDDING_RMS = Math.sqrt(2 / HIDDEN + DEMO_MODEL_CONFIG.rms_norm_eps);

const HEAD = { previous: 0, violent: 1, pii: 2, political: 3, refusal: 4, response: 5 } as const;

export function rotaryInverseFrequency(pair: number): number {
  return 1 / DEMO_MODEL_CONFIG.rope_theta ** ((2 * pair) / HEAD_DIM);
}

/** Tokens between the response cue and a category-end token of the answer (see RESPONSE_CUE_DISTANCE). */
export function responseCueDistance(role: 'categoryEndNone' | 'categoryEndTwoPiece' | 'categoryEndPolitical'): number {
  const T = DEMO_TOKENS;
  const answers = {
    categoryEndNone: [T.safety, T.colon, T.safe, T.newline, T.categories, T.colon, T.none],
    categoryEndTwoPiece: [T.safety, T.colon, T.unsafe, T.newline, T.categories, T.colon, ...T.violent],
    categoryEndPolitical: [T.safety, T.colon, ...T.controversial, T.newline, T.categories, T.colon, ...T.political],
  };
  return RESPONSE_CUE_DISTANCE + answers[role].length;
}

// ---------------------------------------------------------------------------------------------------
// Weights

class Matrix {
  readonly data: Float32Array;
  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    this.data = new Float32Array(rows * cols);
  }
  set(row: number, col: number, value: number): void {
    this.data[row * this.cols + col] = value;
  }
  add(row: number, col: number, value: number): void {
    this.data[row * this.cols + col] += value;
  }
}

function fill(length: number, value: number): Float32Array {
  return new Float32Array(length).fill(value);
}

/** Per-token feature of the embedding row: its role or trigger class, if any. */
function tokenFeatures(): Map<number, ResidualFeature> {
  const features = new Map<number, ResidualFeature>();
  const claim = (token: number, feature: ResidualFeature) => {
    const previous = features.get(token);
    if (previous !== undefined) throw new Error(`demo model: token ${token} is both ${previous} and ${feature}`);
    features.set(token, feature);
  };
  for (const role of ROLE_NAMES) for (const token of DEMO_ROLES[role]) claim(token, `role.${role}`);
  for (const triggerClass of TRIGGER_CLASSES) for (const token of triggerTokenIds(triggerClass)) claim(token, `class.${triggerClass}`);
  claim(DEMO_TOKENS.responseCue, 'class.responseCue');
  return features;
}

function embedding(): Float32Array {
  const rows = new Matrix(VOCAB, HIDDEN);
  const features = tokenFeatures();
  for (let token = 0; token < VOCAB; token++) {
    rows.set(token, dim('bias'), 1);
    rows.set(token, dim(features.get(token) ?? 'pad'), 1);
  }
  return rows.data;
}

function lmHead(): Float32Array {
  const rows = new Matrix(VOCAB, HIDDEN);
  for (const token of OUTPUT_TOKENS) rows.set(token, dim(`out.${token}`), LM_GAIN);
  rows.add(DEMO_TOKENS.imEnd, dim('bias'), FALLBACK_GAIN);
  return rows.data;
}

interface AttentionWeights {
  q: Matrix;
  k: Matrix;
  v: Matrix;
  o: Matrix;
}

function attention(): AttentionWeights {
  const width = HEADS * HEAD_DIM;
  const w: AttentionWeights = {
    q: new Matrix(width, HIDDEN),
    k: new Matrix(width, HIDDEN),
    v: new Matrix(width, HIDDEN),
    o: new Matrix(HIDDEN, width),
  };
  const row = (head: number, index: number) => head * HEAD_DIM + index;

  // Head 0: previous token. Constant q; k turned by one position, so q . R(delta) k peaks at delta = 1.
  for (let pair = 0; pair < POSITIONAL_PAIRS; pair++) {
    const amplitude = Math.sqrt(POSITIONAL_WEIGHTS[pair]);
    const angle = rotaryInverseFrequency(pair);
    w.q.set(row(HEAD.previous, pair), dim('bias'), amplitude);
    w.k.set(row(HEAD.previous, pair), dim('bias'), amplitude * Math.cos(angle));
    w.k.set(row(HEAD.previous, pair + HALF), dim('bias'), amplitude * Math.sin(angle));
  }
  PREVIOUS_NAMES.forEach((group, slot) => {
    for (const role of PREVIOUS_GROUPS[group]) w.v.set(row(HEAD.previous, slot), dim(`role.${role}`), EMBEDDING_RMS);
    w.o.set(dim(`prev.${group}`), row(HEAD.previous, slot), 1);
  });

  // Heads 1-4: one detector per trigger class.
  for (const triggerClass of TRIGGER_CLASSES) {
    const head = HEAD[triggerClass];
    w.q.set(row(head, FLAT_DIM), dim('bias'), 1);
    w.k.set(row(head, FLAT_DIM), dim(`class.${triggerClass}`), 1);
    w.v.set(row(head, 0), dim(`class.${triggerClass}`), EMBEDDING_RMS);
    w.o.set(dim(`flag.${triggerClass}`), row(head, 0), 1);
  }

  // Head 5: the response cue at the exact distance the current category-end token expects it.
  const head = HEAD.response;
  const cue = dim('class.responseCue');
  for (const role of ['categoryEndNone', 'categoryEndTwoPiece', 'categoryEndPolitical'] as const) {
    const distance = responseCueDistance(role);
    for (let pair = 0; pair < POSITIONAL_PAIRS; pair++) {
      const amplitude = Math.sqrt(RESPONSE_ALPHA * POSITIONAL_WEIGHTS[pair]);
      const angle = rotaryInverseFrequency(pair) * distance;
      w.q.set(row(head, pair), dim(`role.${role}`), amplitude * Math.cos(angle));
      w.q.set(row(head, pair + HALF), dim(`role.${role}`), -amplitude * Math.sin(angle));
    }
    w.q.set(row(head, FLAT_DIM), dim(`role.${role}`), -Math.sqrt(1 - RESPONSE_ALPHA));
  }
  for (let pair = 0; pair < POSITIONAL_PAIRS; pair++) {
    w.k.set(row(head, pair), cue, Math.sqrt(RESPONSE_ALPHA * POSITIONAL_WEIGHTS[pair]));
  }
  w.k.set(row(head, FLAT_DIM), cue, Math.sqrt(1 - RESPONSE_ALPHA));
  w.v.set(row(head, 0), cue, EMBEDDING_RMS);
  w.o.set(dim('flag.response'), row(head, 0), 1);
  return w;
}

/** The output direction of a rule: one token, or the three verdict tokens in their logit ratio. */
function emitDirection(emit: (typeof DEMO_RULES)[number]['emit']): Map<number, number> {
  if (typeof emit === 'number') return new Map([[dim(`out.${emit}`), 1]]);
  const logits = verdictLogits(emit.verdict);
  const norm = Math.hypot(...logits.values());
  return new Map([...logits].map(([token, logit]) => [dim(`out.${token}`), logit / norm]));
}

/**
 * Target verdict logits: the offsets of VERDICT_LOGIT_OFFSETS shifted so the vector's length is what a
 * single fired rule produces after the final RMSNorm (sqrt(hidden) * LM_GAIN): then the logits are the
 * offsets plus a common level (~20).
 */
export function verdictLogits(verdict: VerdictName): Map<number, number> {
  const offsets = VERDICT_LOGIT_OFFSETS[verdict];
  const tokens: Record<VerdictName, number> = {
    safe: DEMO_TOKENS.safe,
    controversial: DEMO_TOKENS.controversial[0],
    unsafe: DEMO_TOKENS.unsafe,
  };
  const values = Object.values(offsets);
  const target = Math.sqrt(HIDDEN) * LM_GAIN;
  // |level + offsets| = target: n level^2 + 2 level sum(o) + sum(o^2) - target^2 = 0.
  const n = values.length;
  const sum = values.reduce((a, b) => a + b, 0);
  const sumSquares = values.reduce((a, b) => a + b * b, 0);
  const level = (-2 * sum + Math.sqrt(4 * sum * sum - 4 * n * (sumSquares - target * target))) / (2 * n);
  return new Map((Object.keys(tokens) as VerdictName[]).map((name) => [tokens[name], level + offsets[name]]));
}

interface MlpWeights {
  gate: Matrix;
  up: Matrix;
  down: Matrix;
}

function mlp(): MlpWeights {
  if (DEMO_RULES.length > INTERMEDIATE) throw new Error('demo model: more rules than MLP units');
  const w: MlpWeights = {
    gate: new Matrix(INTERMEDIATE, HIDDEN),
    up: new Matrix(INTERMEDIATE, HIDDEN),
    down: new Matrix(HIDDEN, INTERMEDIATE),
  };
  DEMO_RULES.forEach((rule, unit) => {
    for (const condition of rule.when) {
      const anyOf = typeof condition === 'string' ? [condition] : condition;
      for (const feature of anyOf) w.gate.add(unit, dim(feature), 2 * GATE_GAIN);
    }
    for (const feature of rule.unless ?? []) w.gate.add(unit, dim(feature), -3 * GATE_GAIN);
    w.gate.add(unit, dim('bias'), -(2 * rule.when.length - 0.5) * GATE_GAIN);
    w.up.set(unit, dim('bias'), 1);
    for (const [outDim, value] of emitDirection(rule.emit)) w.down.set(outDim, unit, DOWN_GAIN * value);
  });
  return w;
}

/**
 * The demo model's weights by Hugging Face name. Small tensors are built once; the embedding and the
 * lm_head (151936 x 64 each) are built when asked for, so a writer can stream them.
 */
export function createDemoWeights(): Qwen3WeightSource {
  const config = DEMO_MODEL_CONFIG;
  const prefix = 'model.layers.0';
  const attn = attention();
  const ffn = mlp();
  const tensors: Record<string, () => Float32Array> = {
    'model.embed_tokens.weight': embedding,
    'lm_head.weight': lmHead,
    'model.norm.weight': () => fill(HIDDEN, 1),
    [`${prefix}.input_layernorm.weight`]: () => fill(HIDDEN, 1),
    [`${prefix}.post_attention_layernorm.weight`]: () => fill(HIDDEN, 1),
    [`${prefix}.self_attn.q_norm.weight`]: () => fill(HEAD_DIM, QK_NORM),
    [`${prefix}.self_attn.k_norm.weight`]: () => fill(HEAD_DIM, QK_NORM),
    [`${prefix}.self_attn.q_proj.weight`]: () => attn.q.data.slice(),
    [`${prefix}.self_attn.k_proj.weight`]: () => attn.k.data.slice(),
    [`${prefix}.self_attn.v_proj.weight`]: () => attn.v.data.slice(),
    [`${prefix}.self_attn.o_proj.weight`]: () => attn.o.data.slice(),
    [`${prefix}.mlp.gate_proj.weight`]: () => ffn.gate.data.slice(),
    [`${prefix}.mlp.up_proj.weight`]: () => ffn.up.data.slice(),
    [`${prefix}.mlp.down_proj.weight`]: () => ffn.down.data.slice(),
  };
  const shapes: Record<string, number[]> = {
    'model.embed_tokens.weight': [VOCAB, HIDDEN],
    'lm_head.weight': [VOCAB, HIDDEN],
    'model.norm.weight': [HIDDEN],
    [`${prefix}.input_layernorm.weight`]: [HIDDEN],
    [`${prefix}.post_attention_layernorm.weight`]: [HIDDEN],
    [`${prefix}.self_attn.q_norm.weight`]: [HEAD_DIM],
    [`${prefix}.self_attn.k_norm.weight`]: [HEAD_DIM],
    [`${prefix}.self_attn.q_proj.weight`]: [HEADS * HEAD_DIM, HIDDEN],
    [`${prefix}.self_attn.k_proj.weight`]: [config.num_key_value_heads * HEAD_DIM, HIDDEN],
    [`${prefix}.self_attn.v_proj.weight`]: [config.num_key_value_heads * HEAD_DIM, HIDDEN],
    [`${prefix}.self_attn.o_proj.weight`]: [HIDDEN, HEADS * HEAD_DIM],
    [`${prefix}.mlp.gate_proj.weight`]: [INTERMEDIATE, HIDDEN],
    [`${prefix}.mlp.up_proj.weight`]: [INTERMEDIATE, HIDDEN],
    [`${prefix}.mlp.down_proj.weight`]: [HIDDEN, INTERMEDIATE],
  };
  return {
    get(name: string, shape: readonly number[]): Float32Array {
      const build = tensors[name];
      if (!build) throw new Error(`demo model has no tensor ${name}`);
      const expected = shapes[name];
      if (expected.length !== shape.length || expected.some((size, i) => size !== shape[i])) {
        throw new Error(`demo model tensor ${name} has shape [${expected.join(', ')}], asked for [${shape.join(', ')}]`);
      }
      return build();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The cached model directory

const building = new Map<string, Promise<string>>();

/** Temp directories of builds that crashed are removed once they are this old. */
const STALE_BUILD_MS = 60 * 60 * 1000;

/** The directory `ensureDemoModel` uses under `cacheRoot`. */
export function demoModelDirectory(cacheRoot: string): string {
  return join(cacheRoot, `demo-${DEMO_MODEL_VERSION}`);
}

/**
 * Returns the demo model's directory under `<cacheRoot>/demo-<version>`, building it on first use
 * (fp32 and fp16 optimum exports). The build goes to a private temp directory that is renamed into
 * place when complete, so a crash or a concurrent start never leaves a half-written model: the final
 * directory exists only whole. Later calls, and other processes, reuse it.
 */
export function ensureDemoModel(cacheRoot: string): Promise<string> {
  const target = demoModelDirectory(cacheRoot);
  const pending = building.get(target);
  if (pending) return pending;
  const build = buildOnce(cacheRoot, target).finally(() => building.delete(target));
  building.set(target, build);
  return build;
}

function isComplete(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'onnx', 'model.onnx'));
}

async function buildOnce(cacheRoot: string, target: string): Promise<string> {
  if (isComplete(target)) return target;
  mkdirSync(cacheRoot, { recursive: true });
  removeStaleBuilds(cacheRoot);
  const temp = join(cacheRoot, `.demo-${DEMO_MODEL_VERSION}.building-${process.pid}-${Date.now().toString(36)}`);
  try {
    await writeSyntheticModelDirectory(temp, {
      config: DEMO_MODEL_CONFIG,
      weights: createDemoWeights(),
      variants: [
        { dtype: 'fp32', io: 'optimum' },
        { dtype: 'fp16', io: 'optimum' },
      ],
    });
    try {
      renameSync(temp, target);
    } catch (error) {
      // Another process finished first (the target exists and is not empty): use its copy.
      if (!isComplete(target)) {
        throw new Error(`cannot put the demo model in place at ${target} (remove it if it is left over): ${String(error)}`, { cause: error });
      }
    }
    return target;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

function removeStaleBuilds(cacheRoot: string): void {
  const now = Date.now();
  for (const entry of readdirSync(cacheRoot)) {
    if (!entry.startsWith('.demo-') || !entry.includes('.building-')) continue;
    const path = join(cacheRoot, entry);
    try {
      if (now - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove: ignore.
    }
  }
}
