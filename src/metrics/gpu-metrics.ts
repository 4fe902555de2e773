import { execFile } from 'node:child_process';
import { Gauge, Registry } from 'prom-client';
import { METRICS } from './metric-names';
import { gaugeFor } from './service-metrics';

/**
 * GPU memory and utilisation of the device running the model, sampled from `nvidia-smi` while the CUDA
 * execution provider serves. On CPU nothing here runs and the three gauges are absent from the exposition.
 *
 * A gauge is only exposed while its last sample has a value: when nvidia-smi fails, or reports a field as
 * `[N/A]` / `[Not Supported]` (e.g. utilisation on some MIG slices), the gauge disappears instead of
 * showing a stale or made-up number.
 */

/** One reading; a field nvidia-smi could not give is undefined. */
export interface GpuSample {
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  /** 0..1 */
  utilizationRatio?: number;
}

/** The fields asked for, in this order (memory in MiB and utilisation in percent with `nounits`). */
export const NVIDIA_SMI_QUERY = ['memory.used', 'memory.total', 'utilization.gpu'] as const;

const MIB = 1024 * 1024;

/**
 * Parses `nvidia-smi --query-gpu=memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits`
 * output for one device: `"1234, 81559, 37"`. Throws when the line does not have the three fields.
 */
export function parseNvidiaSmiCsv(stdout: string): GpuSample {
  const line = stdout.split(/\r?\n/).find((l) => l.trim() !== '');
  if (line === undefined) throw new Error('nvidia-smi printed nothing');
  const fields = line.split(',').map((f) => f.trim());
  if (fields.length !== NVIDIA_SMI_QUERY.length) {
    throw new Error(`nvidia-smi printed ${fields.length} fields where ${NVIDIA_SMI_QUERY.length} were asked for`);
  }
  const [used, total, utilization] = fields.map(numberOrUndefined);
  return {
    memoryUsedBytes: used === undefined ? undefined : used * MIB,
    memoryTotalBytes: total === undefined ? undefined : total * MIB,
    utilizationRatio: utilization === undefined ? undefined : utilization / 100,
  };
}

/** A number, or undefined for nvidia-smi's `[N/A]`, `[Not Supported]`, `N/A` and anything else non-numeric. */
function numberOrUndefined(field: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(field)) return undefined;
  return Number(field);
}

/**
 * The device nvidia-smi should report: the first entry of CUDA_VISIBLE_DEVICES (an index or a UUID, both
 * accepted by `--id`), which is the device CUDA calls 0 and onnxruntime runs on; else device 0.
 */
export function gpuDeviceSelector(cudaVisibleDevices: string | undefined): string {
  const first = cudaVisibleDevices?.split(',')[0]?.trim();
  return first ? first : '0';
}

export type GpuQuery = () => Promise<GpuSample>;

/**
 * Runs nvidia-smi, found on the PATH of `env` (read at each run), for one device. The child's environment,
 * not configuration: passed explicitly because the default is Node's own process.env, which a test runner's
 * sandboxed process.env does not reach.
 */
export function nvidiaSmiQuery(device: string, timeoutMs = 5000, env: () => NodeJS.ProcessEnv = () => process.env): GpuQuery {
  const args = [`--query-gpu=${NVIDIA_SMI_QUERY.join(',')}`, '--format=csv,noheader,nounits', `--id=${device}`];
  return () =>
    new Promise((resolve, reject) => {
      execFile('nvidia-smi', args, { timeout: timeoutMs, maxBuffer: 64 * 1024, env: env() }, (error, stdout) => {
        if (error !== null) return reject(new Error(error.message, { cause: error }));
        try {
          resolve(parseNvidiaSmiCsv(String(stdout)));
        } catch (parseError) {
          reject(parseError);
        }
      });
    });
}

/** The three gauges, each registered only while it has a value. */
export class GpuGauges {
  readonly memoryUsed: Gauge;
  readonly memoryTotal: Gauge;
  readonly utilization: Gauge;

  constructor(private readonly registry: Registry) {
    this.memoryUsed = gaugeFor(METRICS.gpuMemoryUsed, null);
    this.memoryTotal = gaugeFor(METRICS.gpuMemoryTotal, null);
    this.utilization = gaugeFor(METRICS.gpuUtilization, null);
  }

  /** Shows the sample; null (no reading) removes all three. */
  update(sample: GpuSample | null): void {
    this.show(this.memoryUsed, METRICS.gpuMemoryUsed.name, sample?.memoryUsedBytes);
    this.show(this.memoryTotal, METRICS.gpuMemoryTotal.name, sample?.memoryTotalBytes);
    this.show(this.utilization, METRICS.gpuUtilization.name, sample?.utilizationRatio);
  }

  private show(gauge: Gauge, name: string, value: number | undefined): void {
    const registered = this.registry.getSingleMetric(name) !== undefined;
    if (value === undefined) {
      if (registered) this.registry.removeSingleMetric(name);
      return;
    }
    gauge.set(value);
    if (!registered) this.registry.registerMetric(gauge);
  }
}

export interface SamplerLogger {
  warn(message: string): void;
  log(message: string): void;
}

/** Default time between two nvidia-smi runs. */
export const GPU_SAMPLE_INTERVAL_MS = 5000;

/**
 * Samples the GPU every `intervalMs` while started; the timer never keeps the process alive. Failures are
 * logged once (and once more when sampling recovers), not on every tick.
 */
export class GpuSampler {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly gauges: GpuGauges,
    private readonly query: GpuQuery,
    private readonly logger: SamplerLogger,
    private readonly intervalMs = GPU_SAMPLE_INTERVAL_MS,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Samples now, then every interval. Starting twice is a no-op. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sampleOnce(), this.intervalMs);
    this.timer.unref();
    void this.sampleOnce();
  }

  /** Stops sampling and removes the gauges (nothing is known about the GPU any more). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    this.gauges.update(null);
  }

  /** One reading, applied to the gauges; overlapping calls share the run in progress. */
  sampleOnce(): Promise<void> {
    this.inFlight ??= this.sample().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async sample(): Promise<void> {
    try {
      const sample = await this.query();
      this.gauges.update(sample);
      if (this.failing) this.logger.log('nvidia-smi answers again; GPU metrics are back');
      this.failing = false;
    } catch (error) {
      this.gauges.update(null);
      if (!this.failing) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`GPU metrics unavailable (nvidia-smi failed: ${reason}); retrying every ${this.intervalMs / 1000} s`);
      }
      this.failing = true;
    }
  }
}
