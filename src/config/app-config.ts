import { LogLevel } from '@nestjs/common';
import { IsOptional } from 'class-validator';
import { INT8_ACTIVATION_SCALES, Int8ActivationScale, MODEL_DTYPES, ModelDtype, ProviderPreference } from '../inference';
import { ChoiceVariable, FlagVariable, IntegerVariable, PatternVariable, TextVariable } from './variable-decorators';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

/** Nest's own level names, most severe last; LOG_LEVEL keeps the named level and all above it. */
export const NEST_LOG_LEVELS: readonly LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
/** pino's level names, the ones the log lines carry (`"level":"info"`); `silent` writes nothing. */
export const PINO_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type AppLogLevel = LogLevel | (typeof PINO_LOG_LEVELS)[number];
/** LOG_LEVEL takes either vocabulary: Nest's (existing deployments) or pino's (what the logs say). */
export const LOG_LEVELS: readonly AppLogLevel[] = [...new Set<AppLogLevel>([...NEST_LOG_LEVELS, ...PINO_LOG_LEVELS])];

export const PROVIDER_PREFERENCES: readonly ProviderPreference[] = ['cpu', 'cuda', 'auto'];

/**
 * Where /metrics is served: `separate` on its own listener at METRICS_PORT (the API port does not serve it),
 * `same-port` on the API port (METRICS_PORT unused), `off` nowhere (nothing is measured either).
 */
export const METRICS_MODES = ['separate', 'same-port', 'off'] as const;
export type MetricsMode = (typeof METRICS_MODES)[number];

const MIB = 1024 * 1024;

/**
 * The service's whole configuration, read from environment variables of the same names and validated
 * once at start-up (see load-app-config.ts). Property names are the variable names so every
 * validation message names the variable to fix. Defaults are the initialisers.
 *
 * Each property's decorator says the kind of variable (variable-decorators.ts): how its string converts, how
 * it is checked.
 */
export class AppConfig {
  @TextVariable()
  readonly HOST: string = '0.0.0.0';

  @IntegerVariable(0, 65535)
  readonly PORT: number = 8080;

  /** The metrics listener's port with METRICS_MODE=separate (`0` = any free port); on HOST like the API. */
  @IntegerVariable(0, 65535)
  readonly METRICS_PORT: number = 8000;

  @ChoiceVariable(METRICS_MODES)
  readonly METRICS_MODE: MetricsMode = 'separate';

  @ChoiceVariable(NODE_ENVS)
  readonly NODE_ENV: NodeEnv = 'development';

  @ChoiceVariable(LOG_LEVELS)
  readonly LOG_LEVEL: AppLogLevel = 'log';

  /** A Hugging Face style model directory; unset (and no QWEN3GUARD_MODEL) serves the synthetic demo model. */
  @IsOptional()
  @TextVariable()
  readonly QWEN3GUARD_MODEL_DIR?: string;

  /** A Hugging Face repo id (`owner/name`) served from the Hugging Face cache, where `qwen3guard pull` puts it. */
  @IsOptional()
  @TextVariable()
  readonly QWEN3GUARD_MODEL?: string;

  /** The Hugging Face cache (`huggingface_hub`'s variable); filled from HF_HOME / XDG_CACHE_HOME by loadAppConfig when unset. */
  @TextVariable()
  readonly HF_HUB_CACHE!: string;

  /** Shown in responses instead of the directory name. */
  @IsOptional()
  @TextVariable()
  readonly QWEN3GUARD_MODEL_ID?: string;

  /**
   * Which ONNX file to load. Unset: on the CPU provider the int8 file where the model has one
   * (`onnx/model_quantized.onnx`, `onnx/model_int8.onnx`), else fp32; fp32 on `cuda` and `auto` (defaultDtype).
   */
  @IsOptional()
  @ChoiceVariable(MODEL_DTYPES)
  readonly QWEN3GUARD_DTYPE?: ModelDtype;

  @ChoiceVariable(PROVIDER_PREFERENCES)
  readonly QWEN3GUARD_PROVIDER: ProviderPreference = 'cpu';

  /**
   * CUDA's own variable: the devices CUDA may use, comma-separated indexes or UUIDs. The first is the one
   * onnxruntime runs on, so it is the one the GPU gauges sample (see gpuDeviceSelector).
   */
  @IsOptional()
  @TextVariable()
  readonly CUDA_VISIBLE_DEVICES?: string;

  @IntegerVariable(1, 512)
  readonly QWEN3GUARD_MAX_NEW_TOKENS: number = 128;

  /** Where the demo model is built; filled from XDG_CACHE_HOME by loadAppConfig when unset. */
  @TextVariable()
  readonly QWEN3GUARD_CACHE_DIR!: string;

  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  @IntegerVariable(0, 1024)
  readonly QWEN3GUARD_THREADS: number = 0;

  /** Every inference speed-up off (plain greedy over the whole prompt): the reference behaviour. */
  @FlagVariable()
  readonly QWEN3GUARD_EXACT: boolean = false;

  /** Compute the template preamble's keys and values once per mode and start every request from them. */
  @FlagVariable()
  readonly QWEN3GUARD_PREFIX_CACHE: boolean = true;

  /** Compute the LM head only for the positions a pass reads (a `logits_to_keep` input added to the graph at load). */
  @FlagVariable()
  readonly QWEN3GUARD_LOGITS_TO_KEEP: boolean = true;

  /** Attention reads each KV head once where the export repeats them per query head (rewritten at load). */
  @FlagVariable()
  readonly QWEN3GUARD_GROUPED_ATTENTION: boolean = true;

  /** Attention masked with the lowest float instead of -inf, without the softmax's NaN guard, where the export has one (rewritten at load). */
  @FlagVariable()
  readonly QWEN3GUARD_FINITE_ATTENTION_MASK: boolean = true;

  /** int8 files on CPU: one activation scale per token (given at load), or per pass as exported. */
  @ChoiceVariable(INT8_ACTIVATION_SCALES)
  readonly QWEN3GUARD_INT8_ACTIVATIONS: Int8ActivationScale = 'per-token';

  /** Read the verdict at the forced `Safety:` position and decode only the answer's open choices. */
  @FlagVariable()
  readonly QWEN3GUARD_CONSTRAINED_DECODING: boolean = true;

  /** Most inputs in one batch (dynamic batching; needs constrained decoding). */
  @IntegerVariable(1, 64)
  readonly QWEN3GUARD_MAX_BATCH: number = 8;

  /**
   * Most tokens in one batch, rows padded to the longest: bounds the KV cache a batch builds (about 230 KB a
   * token in float32 on the 0.6B shape). A longer input still runs, alone. 0 turns the limit off.
   */
  @IntegerVariable(0, 1_000_000)
  readonly QWEN3GUARD_MAX_BATCH_TOKENS: number = 8192;

  /** How long a batch waits for company once the model is free, in milliseconds. */
  @IntegerVariable(0, 1000)
  readonly QWEN3GUARD_BATCH_WAIT_MS: number = 2;

  /** Most inputs waiting for the model; beyond it requests get 503 QUEUE_FULL with Retry-After. */
  @IntegerVariable(1, 100_000)
  readonly QWEN3GUARD_MAX_QUEUE: number = 256;

  /**
   * Longest a request may expect to wait in the queue (the inputs ahead of it at the recent batch rate), in
   * milliseconds; beyond it the request gets 503 QUEUE_FULL at once. 0 turns the limit off.
   */
  @IntegerVariable(0, 600_000)
  readonly QWEN3GUARD_MAX_QUEUE_WAIT_MS: number = 2000;

  /**
   * Longest wait for a verdict, queue included, in milliseconds; past it the request gets 504 INFERENCE_TIMEOUT
   * and the model counts as stalled (not ready) until the late inference returns.
   */
  @IntegerVariable(100, 600_000)
  readonly QWEN3GUARD_INFERENCE_TIMEOUT_MS: number = 30_000;

  @IntegerVariable(1024, 64 * MIB)
  readonly BODY_LIMIT_BYTES: number = MIB;

  /**
   * Longest time to receive a whole request (headers and body), in milliseconds: a client trickling bytes
   * (slowloris) holds a socket for no longer than this. Not the time to answer: see QWEN3GUARD_INFERENCE_TIMEOUT_MS.
   */
  @IntegerVariable(1000, 600_000)
  readonly REQUEST_TIMEOUT_MS: number = 30_000;

  /** A socket with no traffic for this long is closed, in milliseconds (0 = never). */
  @IntegerVariable(0, 3_600_000)
  readonly CONNECTION_TIMEOUT_MS: number = 120_000;

  /** How long an idle keep-alive connection stays open; above a load balancer's own idle timeout (often 60 s). */
  @IntegerVariable(1000, 600_000)
  readonly KEEP_ALIVE_TIMEOUT_MS: number = 72_000;

  /**
   * Browser origins allowed to call the API cross-origin, comma-separated (`https://a.example,https://b.example`);
   * unset: no CORS headers at all, so browsers keep other sites' pages from reading responses.
   */
  @IsOptional()
  @PatternVariable(/^https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*$/, 'CORS_ORIGINS must be a comma-separated list of origins such as https://app.example')
  readonly CORS_ORIGINS?: string;

  @IntegerVariable(1, 1_000_000)
  readonly MAX_TEXT_CHARS: number = 20_000;

  @IntegerVariable(1, 1024)
  readonly MAX_BATCH_ITEMS: number = 32;

  /** Streaming moderation (src/streaming): a check is due every this many new answer tokens (and at sentence ends). */
  @IntegerVariable(1, 100_000)
  readonly STREAM_CHECK_EVERY_TOKENS: number = 32;

  /** Longest chunk one append may carry, in characters. */
  @IntegerVariable(1, 1_000_000)
  readonly STREAM_MAX_CHUNK_CHARS: number = 4_000;

  /** Open streams in total; past it a new one is refused with 503 + Retry-After. */
  @IntegerVariable(1, 100_000)
  readonly STREAM_MAX_SESSIONS: number = 256;

  /** Open streams per tenant; past it the tenant's new one is refused with 429 + Retry-After. */
  @IntegerVariable(1, 100_000)
  readonly STREAM_MAX_SESSIONS_PER_TENANT: number = 32;

  /**
   * KV positions all streams may hold together (about 224 KB each for the 0.6B model in float32); past it the
   * least recently used streams lose their KV, and their next check recomputes it.
   */
  @IntegerVariable(1, 100_000_000)
  readonly STREAM_MAX_KV_TOKENS: number = 65_536;

  /** A stream nobody appended to or checked for this long is closed. */
  @IntegerVariable(1_000, 86_400_000)
  readonly STREAM_IDLE_TIMEOUT_MS: number = 60_000;

  /** Serve Swagger UI and the OpenAPI document; unset: on, except with NODE_ENV=production (see loadAppConfig). */
  @FlagVariable()
  readonly DOCS_ENABLED: boolean = true;

  /** Serve the web playground at `/`; unset: on, except with NODE_ENV=production (see loadAppConfig). */
  @FlagVariable()
  readonly PLAYGROUND_ENABLED: boolean = true;

  /**
   * After SIGTERM, how long requests already accepted may take to finish before the process closes anyway.
   * Keep it under the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds minus preStop).
   */
  @IntegerVariable(0, 600_000)
  readonly SHUTDOWN_DRAIN_MS: number = 25_000;

  /** The tenants file (YAML): tenants, their API key hashes, policies, limits; unset: anonymous callers only. */
  @IsOptional()
  @TextVariable()
  readonly QWEN3GUARD_TENANTS_FILE?: string;

  /** Whether requests without an API key are served (as tenant `anonymous`); unset: yes, except with NODE_ENV=production. */
  @IsOptional()
  @FlagVariable()
  readonly ALLOW_ANONYMOUS?: boolean;

  /** Tenants (in file order) whose id is their `tenant` metric label; later ones are counted as `other`. */
  @IntegerVariable(0, 10_000)
  readonly MAX_TENANT_LABELS: number = 50;

  /** The SQLite usage ledger (one row per tenant, hour and endpoint); `:memory:` keeps nothing across restarts. */
  @TextVariable()
  readonly QWEN3GUARD_USAGE_DB: string = 'data/usage.sqlite';

  /**
   * The shared usage ledger on PostgreSQL (`postgres://user:password@host:5432/db`; TLS through the URL, e.g.
   * `?sslmode=verify-full&sslrootcert=/ca.pem`); unset: the SQLite file at QWEN3GUARD_USAGE_DB.
   */
  @IsOptional()
  @PatternVariable(/^postgres(ql)?:\/\/\S+$/, 'QWEN3GUARD_DATABASE_URL must be a postgres:// or postgresql:// URL')
  readonly QWEN3GUARD_DATABASE_URL?: string;

  /** PostgreSQL connections this replica may hold open. */
  @IntegerVariable(1, 1000)
  readonly QWEN3GUARD_DATABASE_POOL_SIZE: number = 10;

  /** How long a ledger write waits for a PostgreSQL connection before the request gets 503 USAGE_LEDGER_UNAVAILABLE. */
  @IntegerVariable(1, 600_000)
  readonly QWEN3GUARD_DATABASE_CONNECT_TIMEOUT_MS: number = 2000;

  /** Longest one ledger statement may run on PostgreSQL (server-side statement_timeout and the client's own wait). */
  @IntegerVariable(1, 600_000)
  readonly QWEN3GUARD_DATABASE_STATEMENT_TIMEOUT_MS: number = 2000;

  /** Shared rate limits on Redis or Valkey (`redis://host:6379`, `rediss://` for TLS); unset: each replica limits in memory. */
  @IsOptional()
  @PatternVariable(/^rediss?:\/\/\S+$/, 'QWEN3GUARD_REDIS_URL must be a redis:// or rediss:// URL')
  readonly QWEN3GUARD_REDIS_URL?: string;

  /** Longest a rate-limit check waits for Redis before this replica limits on its own for that request. */
  @IntegerVariable(1, 60_000)
  readonly QWEN3GUARD_REDIS_TIMEOUT_MS: number = 250;

  get anonymousAllowed(): boolean {
    return this.ALLOW_ANONYMOUS ?? this.NODE_ENV !== 'production';
  }

  /** True when no model is configured and the synthetic demo model serves. */
  get usesDemoModel(): boolean {
    return this.QWEN3GUARD_MODEL_DIR === undefined && this.QWEN3GUARD_MODEL === undefined;
  }
}
