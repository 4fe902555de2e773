/**
 * Dockerfile.gpu, built as far as this machine allows. Its runtime stage is NVIDIA's CUDA image, which a
 * stand-in cannot replace (the CUDA runtime and cuDNN are the point of it), and its build stage downloads
 * onnxruntime-node's CUDA 12 provider from NuGet, which only the npm registry, PyPI and Debian being reachable
 * rules out. So when the CUDA base cannot be pulled, the build stage (`--target build`) is built: it must get
 * through apt-get, npm and `npm ci`, and may stop only at the CUDA provider download, for want of the network.
 * What is not checked is printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithTools, ROOT } from '../monitoring/support/tools';
import { configurePodman, podman } from './support/podman';
import { ensureServiceBaseImage } from './support/service-image';

jest.setTimeout(30 * 60_000);

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile.gpu'), 'utf8');
const CUDA_IMAGE = /^ARG CUDA_IMAGE=(\S+)$/m.exec(DOCKERFILE)![1];
const TAG = 'localhost/qwen3guard-gen-web-gpu:container-test';
/** Errors of a download that could not reach its host. */
const UNREACHABLE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH/;

const report = (line: string) => process.stdout.write(`[gpu image] ${line}\n`);

describeWithTools('GPU image (Dockerfile.gpu), built as far as this machine allows', ['podman', 'runc', 'debootstrap'], () => {
  it('builds the build stage through npm ci; only the CUDA provider download and the CUDA runtime stage may be out of reach', async () => {
    configurePodman();
    await ensureServiceBaseImage(report);
    const cudaBase = await podman(['pull', CUDA_IMAGE], 90_000);
    const target = cudaBase.code === 0 ? [] : ['--target', 'build'];
    if (cudaBase.code !== 0) report(`NOT BUILT: the runtime stage - ${CUDA_IMAGE} cannot be pulled here, and no stand-in can take its place`);

    const started = Date.now();
    const build = await podman(
      ['build', '--network=host', '--secret', 'id=extra_ca,src=/etc/ssl/certs/ca-certificates.crt', '-f', 'Dockerfile.gpu', ...target, '-t', TAG, '.'],
      1_500_000,
    );
    const output = build.stdout + build.stderr;
    report(`podman build -f Dockerfile.gpu ${target.join(' ')}: exit ${build.code} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await podman(['rmi', '-f', TAG]);

    if (build.code === 0) {
      report(cudaBase.code === 0 ? 'built the whole image (not run: that needs an NVIDIA GPU)' : 'built the build stage');
    } else {
      // Got through apt-get and npm ci; stopped in onnxruntime-node's CUDA download, which could not reach NuGet.
      const npmCi = /added \d+ packages/.exec(output);
      const tail = npmCi ? output.slice(npmCi.index) : '';
      if (!UNREACHABLE.test(tail)) throw new Error(`the GPU build stage failed before or apart from the CUDA download:\n${output.slice(-4000)}`);
      report(
        `STOPPED at the CUDA 12 provider download (onnxruntime-node's install script; NuGet is not reachable here): ${UNREACHABLE.exec(tail)![0]}. ` +
          'NOT CHECKED: that download, the rest of the build stage after it (the same steps as the CPU image, checked there), ' +
          `the runtime stage on ${CUDA_IMAGE}, and serving with QWEN3GUARD_PROVIDER=cuda on a GPU`,
      );
    }
  });
});
