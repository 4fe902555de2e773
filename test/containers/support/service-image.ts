/**
 * The service's CPU image, built from the unchanged Dockerfile on its Node.js base image (pulled, or the local
 * stand-in of node-base-image.ts), as the README's `podman build` line does. podman's layer cache makes a
 * second build of the same tree quick, so each suite builds the tag it runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../monitoring/support/tools';
import { BaseImageSource, ensureNodeBaseImage, fullyQualified } from './node-base-image';
import { podmanOk } from './podman';

const NODE_VERSION = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
const NODE_IMAGE = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1];

/** The Dockerfiles' Node.js base image (NODE_IMAGE), present: found, pulled, or built as a stand-in. */
export async function ensureServiceBaseImage(log: (line: string) => void): Promise<BaseImageSource> {
  const baseSource = await ensureNodeBaseImage(NODE_IMAGE, NODE_VERSION, log);
  log(`base image ${fullyQualified(NODE_IMAGE)}: ${baseSource}`);
  return baseSource;
}

/** Builds `tag` from the Dockerfile; the base image is made present first. */
export async function buildServiceImage(tag: string, log: (line: string) => void): Promise<BaseImageSource> {
  const baseSource = await ensureServiceBaseImage(log);
  const started = Date.now();
  // The machine's CA bundle as the documented extra-CA secret: it shows the option builds (the stand-in trusts that bundle already).
  await podmanOk(['build', '--network=host', '--secret', 'id=extra_ca,src=/etc/ssl/certs/ca-certificates.crt', '-f', 'Dockerfile', '-t', tag, '.'], 1_500_000);
  log(`podman build --network=host -f Dockerfile -t ${tag}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return baseSource;
}
