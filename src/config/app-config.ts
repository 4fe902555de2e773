import { LogLevel } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { MODEL_DTYPES, ModelDtype, ProviderPreference } from '../inference';
import { toBoolean, toInteger, toTrimmed } from './env-parsers';

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
 * class-validator runs a property's decorators bottom-up and stops at the first failure, so the type
 * check sits nearest the property and its message is the one reported for a malformed value.
 */
export class AppConfig {
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly HOST: string = '0.0.0.0';

  @Min(0)
  @Max(65535)
  @IsInt()
  @Transform(toInteger)
  readonly PORT: number = 8080;

  /** The metrics listener's port with METRICS_MODE=separate (`0` = any free port); on HOST like the API. */
  @Min(0)
  @Max(65535)
  @IsInt()
  @Transform(toInteger)
  readonly METRICS_PORT: number = 8000;

  @IsIn(METRICS_MODES)
  @Transform(toTrimmed)
  readonly METRICS_MODE: MetricsMode = 'separate';

  @IsIn(NODE_ENVS)
  @Transform(toTrimmed)
  readonly NODE_ENV: NodeEnv = 'development';

  @IsIn(LOG_LEVELS)
  @Transform(toTrimmed)
  readonly LOG_LEVEL: AppLogLevel = 'log';

  /** A Hugging Face style model directory; unset (and no QWEN3GUARD_MODEL) serves the synthetic demo model. */
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_MODEL_DIR?: string;

  /** A Hugging Face repo id (`owner/name`) served from the Hugging Face cache, where `qwen3guard pull` puts it. */
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_MODEL?: string;

  /** The Hugging Face cache (`huggingface_hub`'s variable); filled from HF_HOME / XDG_CACHE_HOME by loadAppConfig when unset. */
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly HF_HUB_CACHE!: string;

  /** Shown in responses instead of the directory name. */
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_MODEL_ID?: string;

  @IsIn(MODEL_DTYPES)
  @Transform(toTrimmed)
  readonly QWEN3GUARD_DTYPE: ModelDtype = 'fp32';

  @IsIn(PROVIDER_PREFERENCES)
  @Transform(toTrimmed)
  readonly QWEN3GUARD_PROVIDER: ProviderPreference = 'cpu';

  /**
   * CUDA's own variable: the devices CUDA may use, comma-separated indexes or UUIDs. The first is the one
   * onnxruntime runs on, so it is the one the GPU gauges sample (see gpuDeviceSelector).
   */
  @IsOptional()
  @IsString()
  @Transform(toTrimmed)
  readonly CUDA_VISIBLE_DEVICES?: string;

  @Min(1)
  @Max(512)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_MAX_NEW_TOKENS: number = 128;

  /** Where the demo model is built; filled from XDG_CACHE_HOME by loadAppConfig when unset. */
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_CACHE_DIR!: string;

  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  @Min(0)
  @Max(1024)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_THREADS: number = 0;

  /** Every inference speed-up off (plain greedy over the whole prompt): the reference behaviour. */
  @IsBoolean()
  @Transform(toBoolean)
  readonly QWEN3GUARD_EXACT: boolean = false;

  /** Compute the template preamble's keys and values once per mode and start every request from them. */
  @IsBoolean()
  @Transform(toBoolean)
  readonly QWEN3GUARD_PREFIX_CACHE: boolean = true;

  /** Compute the LM head only for the positions a pass reads (a `logits_to_keep` input added to the graph at load). */
  @IsBoolean()
  @Transform(toBoolean)
  readonly QWEN3GUARD_LOGITS_TO_KEEP: boolean = true;

  /** Read the verdict at the forced `Safety:` position and decode only the answer's open choices. */
  @IsBoolean()
  @Transform(toBoolean)
  readonly QWEN3GUARD_CONSTRAINED_DECODING: boolean = true;

  /** Most inputs in one batch (dynamic batching; needs constrained decoding). */
  @Min(1)
  @Max(64)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_MAX_BATCH: number = 8;

  /**
   * Most tokens in one batch, rows padded to the longest: bounds the KV cache a batch builds (about 230 KB a
   * token in float32 on the 0.6B shape). A longer input still runs, alone. 0 turns the limit off.
   */
  @Min(0)
  @Max(1_000_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_MAX_BATCH_TOKENS: number = 8192;

  /** How long a batch waits for company once the model is free, in milliseconds. */
  @Min(0)
  @Max(1000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_BATCH_WAIT_MS: number = 2;

  /** Most inputs waiting for the model; beyond it requests get 503 QUEUE_FULL with Retry-After. */
  @Min(1)
  @Max(100_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_MAX_QUEUE: number = 256;

  /**
   * Longest a request may expect to wait in the queue (the inputs ahead of it at the recent batch rate), in
   * milliseconds; beyond it the request gets 503 QUEUE_FULL at once. 0 turns the limit off.
   */
  @Min(0)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_MAX_QUEUE_WAIT_MS: number = 2000;

  /**
   * Longest wait for a verdict, queue included, in milliseconds; past it the request gets 504 INFERENCE_TIMEOUT
   * and the model counts as stalled (not ready) until the late inference returns.
   */
  @Min(100)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_INFERENCE_TIMEOUT_MS: number = 30_000;

  @Min(1024)
  @Max(64 * MIB)
  @IsInt()
  @Transform(toInteger)
  readonly BODY_LIMIT_BYTES: number = MIB;

  /**
   * Longest time to receive a whole request (headers and body), in milliseconds: a client trickling bytes
   * (slowloris) holds a socket for no longer than this. Not the time to answer: see QWEN3GUARD_INFERENCE_TIMEOUT_MS.
   */
  @Min(1000)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly REQUEST_TIMEOUT_MS: number = 30_000;

  /** A socket with no traffic for this long is closed, in milliseconds (0 = never). */
  @Min(0)
  @Max(3_600_000)
  @IsInt()
  @Transform(toInteger)
  readonly CONNECTION_TIMEOUT_MS: number = 120_000;

  /** How long an idle keep-alive connection stays open; above a load balancer's own idle timeout (often 60 s). */
  @Min(1000)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly KEEP_ALIVE_TIMEOUT_MS: number = 72_000;

  /**
   * Browser origins allowed to call the API cross-origin, comma-separated (`https://a.example,https://b.example`);
   * unset: no CORS headers at all, so browsers keep other sites' pages from reading responses.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*$/, { message: 'CORS_ORIGINS must be a comma-separated list of origins such as https://app.example' })
  @IsString()
  @Transform(toTrimmed)
  readonly CORS_ORIGINS?: string;

  @Min(1)
  @Max(1_000_000)
  @IsInt()
  @Transform(toInteger)
  readonly MAX_TEXT_CHARS: number = 20_000;

  @Min(1)
  @Max(1024)
  @IsInt()
  @Transform(toInteger)
  readonly MAX_BATCH_ITEMS: number = 32;

  /** Serve Swagger UI and the OpenAPI document; unset: on, except with NODE_ENV=production (see loadAppConfig). */
  @IsBoolean()
  @Transform(toBoolean)
  readonly DOCS_ENABLED: boolean = true;

  /** Serve the web playground at `/`; unset: on, except with NODE_ENV=production (see loadAppConfig). */
  @IsBoolean()
  @Transform(toBoolean)
  readonly PLAYGROUND_ENABLED: boolean = true;

  /**
   * After SIGTERM, how long requests already accepted may take to finish before the process closes anyway.
   * Keep it under the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds minus preStop).
   */
  @Min(0)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly SHUTDOWN_DRAIN_MS: number = 25_000;

  /** The tenants file (YAML): tenants, their API key hashes, policies, limits; unset: anonymous callers only. */
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_TENANTS_FILE?: string;

  /** Whether requests without an API key are served (as tenant `anonymous`); unset: yes, except with NODE_ENV=production. */
  @IsOptional()
  @IsBoolean()
  @Transform(toBoolean)
  readonly ALLOW_ANONYMOUS?: boolean;

  /** Tenants (in file order) whose id is their `tenant` metric label; later ones are counted as `other`. */
  @Min(0)
  @Max(10_000)
  @IsInt()
  @Transform(toInteger)
  readonly MAX_TENANT_LABELS: number = 50;

  /** The SQLite usage ledger (one row per tenant, hour and endpoint); `:memory:` keeps nothing across restarts. */
  @IsNotEmpty()
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_USAGE_DB: string = 'data/usage.sqlite';

  /**
   * The shared usage ledger on PostgreSQL (`postgres://user:password@host:5432/db`; TLS through the URL, e.g.
   * `?sslmode=verify-full&sslrootcert=/ca.pem`); unset: the SQLite file at QWEN3GUARD_USAGE_DB.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'QWEN3GUARD_DATABASE_URL must be a postgres:// or postgresql:// URL' })
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_DATABASE_URL?: string;

  /** PostgreSQL connections this replica may hold open. */
  @Min(1)
  @Max(1000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_DATABASE_POOL_SIZE: number = 10;

  /** How long a ledger write waits for a PostgreSQL connection before the request gets 503 USAGE_LEDGER_UNAVAILABLE. */
  @Min(1)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_DATABASE_CONNECT_TIMEOUT_MS: number = 2000;

  /** Longest one ledger statement may run on PostgreSQL (server-side statement_timeout and the client's own wait). */
  @Min(1)
  @Max(600_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_DATABASE_STATEMENT_TIMEOUT_MS: number = 2000;

  /** Shared rate limits on Redis or Valkey (`redis://host:6379`, `rediss://` for TLS); unset: each replica limits in memory. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'QWEN3GUARD_REDIS_URL must be a redis:// or rediss:// URL' })
  @IsString()
  @Transform(toTrimmed)
  readonly QWEN3GUARD_REDIS_URL?: string;

  /** Longest a rate-limit check waits for Redis before this replica limits on its own for that request. */
  @Min(1)
  @Max(60_000)
  @IsInt()
  @Transform(toInteger)
  readonly QWEN3GUARD_REDIS_TIMEOUT_MS: number = 250;

  get anonymousAllowed(): boolean {
    return this.ALLOW_ANONYMOUS ?? this.NODE_ENV !== 'production';
  }

  /** True when no model is configured and the synthetic demo model serves. */
  get usesDemoModel(): boolean {
    return this.QWEN3GUARD_MODEL_DIR === undefined && this.QWEN3GUARD_MODEL === undefined;
  }
}
