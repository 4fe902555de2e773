/**
 * Podman as this kind of machine runs it: Debian's podman with Debian's runc (crun fails on the hybrid cgroup
 * layout) and no default ulimits (they cannot be set here). Nothing is installed here: .ci/run installs the
 * packages; this module only writes the one containers.conf setting, idempotently.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findTool, run, RunResult } from '../../monitoring/support/tools';

export const CONTAINERS_CONF = '/etc/containers/containers.conf';
const NO_DEFAULT_ULIMITS = 'default_ulimits = []';

/** Sets `default_ulimits = []` under [containers], replacing another value, keeping the rest of the file. */
export function configurePodman(file = CONTAINERS_CONF): 'unchanged' | 'written' {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (/^\s*default_ulimits\s*=\s*\[\s*\]\s*$/m.test(current)) return 'unchanged';
  let next: string;
  if (/^\s*default_ulimits\s*=.*$/m.test(current)) next = current.replace(/^\s*default_ulimits\s*=.*$/m, NO_DEFAULT_ULIMITS);
  else if (/^\[containers\]\s*$/m.test(current)) next = current.replace(/^\[containers\]\s*$/m, `[containers]\n${NO_DEFAULT_ULIMITS}`);
  else next = `${current}${current && !current.endsWith('\n') ? '\n' : ''}[containers]\n${NO_DEFAULT_ULIMITS}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, next);
  return 'written';
}

/** `podman --runtime <runc> ...`; the exit code and output come back, nothing throws. */
export function podman(args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return run(findTool('podman')!, ['--runtime', findTool('runc')!, ...args], { timeoutMs });
}

/** Like podman(), but a non-zero exit throws with the command's output. */
export async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}:\n${(result.stdout + result.stderr).slice(-6000)}`);
  return result.stdout;
}
