/**
 * GPU metrics without a GPU: nvidia-smi is a stand-in shell script put first on PATH, printing what a test
 * wrote for it (or failing), and recording the arguments it got. No real GPU or driver is involved.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Registry } from 'prom-client';
import { ModelInfo } from '../inference';
import { gpuDeviceSelector, GpuGauges, GpuSampler, nvidiaSmiQuery, parseNvidiaSmiCsv } from './gpu-metrics';
import { METRICS } from './metric-names';
import { PrometheusEngineObserver } from './prometheus-engine-observer';
import { ServiceMetrics } from './service-metrics';

const MIB = 1024 * 1024;
const GPU_NAMES: string[] = [METRICS.gpuMemoryUsed.name, METRICS.gpuMemoryTotal.name, METRICS.gpuUtilization.name];

describe('parseNvidiaSmiCsv', () => {
  it('reads MiB and percent into bytes and a 0..1 ratio', () => {
    expect(parseNvidiaSmiCsv('1234, 81559, 37\n')).toEqual({ memoryUsedBytes: 1234 * MIB, memoryTotalBytes: 81559 * MIB, utilizationRatio: 0.37 });
  });

  it('reads the first device line and tolerates CRLF and decimals', () => {
    expect(parseNvidiaSmiCsv('\r\n512, 1024, 12.5\r\n9, 9, 9\r\n')).toEqual({
      memoryUsedBytes: 512 * MIB,
      memoryTotalBytes: 1024 * MIB,
      utilizationRatio: 0.125,
    });
  });

  it('leaves out fields nvidia-smi cannot report', () => {
    expect(parseNvidiaSmiCsv('[N/A], 16384, [Not Supported]')).toEqual({
      memoryUsedBytes: undefined,
      memoryTotalBytes: 16384 * MIB,
      utilizationRatio: undefined,
    });
  });

  it.each([[''], ['\n\n'], ['1234, 81559'], ['1, 2, 3, 4'], ['No devices were found']])('rejects %j', (text) => {
    expect(() => parseNvidiaSmiCsv(text)).toThrow(/nvidia-smi/);
  });
});

describe('gpuDeviceSelector', () => {
  it.each([
    [undefined, '0'],
    ['', '0'],
    ['2,3', '2'],
    [' 1 ', '1'],
    ['GPU-8f3a2c1e-0000-1111-2222-333344445555', 'GPU-8f3a2c1e-0000-1111-2222-333344445555'],
  ])('CUDA_VISIBLE_DEVICES=%j -> %s', (cudaVisibleDevices, device) => {
    expect(gpuDeviceSelector(cudaVisibleDevices)).toBe(device);
  });
});

describe('with a stand-in nvidia-smi on PATH', () => {
  let dir: string;
  let savedPath: string | undefined;
  const logger = { warn: jest.fn(), log: jest.fn() };

  const answer = (text: string) => {
    // Renamed into place: a stand-in run reading the file while it is rewritten would see it empty, fail, and
    // warn a second time.
    writeFileSync(join(dir, 'output.next'), text);
    renameSync(join(dir, 'output.next'), join(dir, 'output'));
    if (existsSync(join(dir, 'fail'))) unlinkSync(join(dir, 'fail'));
  };
  const fail = () => writeFileSync(join(dir, 'fail'), '');
  const calls = () => (existsSync(join(dir, 'args.log')) ? readFileSync(join(dir, 'args.log'), 'utf8').trim().split('\n') : []);
  const exposed = async (registry: Registry) => {
    const json = await registry.getMetricsAsJSON();
    return Object.fromEntries(json.filter((m) => GPU_NAMES.includes(m.name)).map((m) => [m.name, m.values[0]?.value]));
  };
  const until = async (check: () => Promise<boolean>) => {
    const deadline = Date.now() + 5000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-nvidia-smi-'));
    const script = join(dir, 'nvidia-smi');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `echo "$*" >> '${dir}/args.log'`,
        `if [ -f '${dir}/fail' ]; then echo 'NVIDIA-SMI has failed' >&2; exit 9; fi`,
        `cat '${dir}/output'`,
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    savedPath = process.env.PATH;
    process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
  });

  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    rmSync(join(dir, 'args.log'), { force: true });
    logger.warn.mockClear();
    logger.log.mockClear();
    answer('2048, 8192, 50\n');
  });

  it('nvidiaSmiQuery asks for the three fields of one device in CSV without units', async () => {
    await expect(nvidiaSmiQuery('3')()).resolves.toEqual({ memoryUsedBytes: 2048 * MIB, memoryTotalBytes: 8192 * MIB, utilizationRatio: 0.5 });
    expect(calls()).toEqual(['--query-gpu=memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits --id=3']);
  });

  it('nvidiaSmiQuery rejects when nvidia-smi fails or prints something else', async () => {
    fail();
    await expect(nvidiaSmiQuery('0')()).rejects.toThrow();
    answer('garbage');
    await expect(nvidiaSmiQuery('0')()).rejects.toThrow(/fields/);
  });

  it('the sampler shows the gauges while readings succeed and removes them when nvidia-smi fails', async () => {
    const registry = new Registry();
    const sampler = new GpuSampler(new GpuGauges(registry), nvidiaSmiQuery('0'), logger, 30);
    expect(await exposed(registry)).toEqual({});

    sampler.start();
    await until(async () => Object.keys(await exposed(registry)).length === 3);
    expect(await exposed(registry)).toEqual({
      [METRICS.gpuMemoryUsed.name]: 2048 * MIB,
      [METRICS.gpuMemoryTotal.name]: 8192 * MIB,
      [METRICS.gpuUtilization.name]: 0.5,
    });

    answer('4096, 8192, 75\n');
    await until(async () => (await exposed(registry))[METRICS.gpuMemoryUsed.name] === 4096 * MIB);
    expect((await exposed(registry))[METRICS.gpuUtilization.name]).toBe(0.75);

    fail();
    await until(async () => Object.keys(await exposed(registry)).length === 0);
    const failingCalls = calls().length;
    await until(async () => calls().length >= failingCalls + 2); // still retrying...
    expect(logger.warn).toHaveBeenCalledTimes(1); // ...but says so once

    answer('[N/A], 8192, [N/A]\n');
    await until(async () => Object.keys(await exposed(registry)).length === 1);
    expect(await exposed(registry)).toEqual({ [METRICS.gpuMemoryTotal.name]: 8192 * MIB });
    expect(logger.log).toHaveBeenCalledWith(expect.stringContaining('back'));

    await sampler.stop();
    expect(sampler.running).toBe(false);
    expect(await exposed(registry)).toEqual({});
    const stoppedAt = calls().length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls().length).toBe(stoppedAt);
  });

  describe('through the engine observer', () => {
    const info = (provider: ModelInfo['provider']): ModelInfo => ({ id: 'm', dtype: 'fp16', provider, demo: false, directory: '/models/m' });

    it('never runs nvidia-smi and exposes no GPU series on the CPU provider', async () => {
      const metrics = new ServiceMetrics(new Registry(), false);
      const sampler = new GpuSampler(new GpuGauges(metrics.registry), nvidiaSmiQuery('0'), logger, 30);
      new PrometheusEngineObserver(metrics, '1.2.3', sampler).modelLoaded(info('cpu'), 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sampler.running).toBe(false);
      expect(calls()).toEqual([]);
      expect(await metrics.registry.metrics()).not.toContain('qwen3guard_gpu_');
    });

    it('samples the GPU while a model is served on CUDA, and stops when it is unloaded', async () => {
      const metrics = new ServiceMetrics(new Registry(), false);
      const sampler = new GpuSampler(new GpuGauges(metrics.registry), nvidiaSmiQuery('0'), logger, 30);
      const observer = new PrometheusEngineObserver(metrics, '1.2.3', sampler);
      observer.modelLoaded(info('cuda'), 1);
      await until(async () => Object.keys(await exposed(metrics.registry)).length === 3);
      const text = await metrics.registry.metrics();
      expect(text).toContain(`${METRICS.gpuMemoryUsed.name} ${2048 * MIB}`);
      expect(text).toContain(`${METRICS.gpuUtilization.name} 0.5`);
      expect(text).toContain('provider="cuda"');

      observer.modelUnloaded();
      await until(async () => Object.keys(await exposed(metrics.registry)).length === 0);
      expect(sampler.running).toBe(false);
    });
  });
});
