/**
 * The images docker-compose.yml names besides the service's own, for a machine that cannot reach their
 * registries: each is used as it is when podman has it (pulled, or a stand-in of the current recipe) or can
 * pull it, and otherwise built here under the same name from Debian's package of the same program, laid out
 * as the upstream image is (binary path, user, data folder, defaults). Grafana, Loki and Promtail have no
 * Debian package (Debian's `loki` is an unrelated genetics program): they get no stand-in.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianRootfsTarball, fullyQualified } from './node-base-image';
import { podman, podmanOk } from './podman';

type Suite = 'bookworm' | 'trixie';

interface StandInRecipe {
  /** Debian release whose package matches the image's version (PostgreSQL 17 is trixie's, not bookworm's). */
  suite: Suite;
  /** The Debian package installed, whose version the report names. */
  debianPackage: string;
  /** Containerfile lines after the package is installed. */
  layout: string[];
  /** Extra files of the build context, by name. */
  files?: Record<string, string>;
}

const LABEL = 'org.qwen3guard.stand-in';

/**
 * A data folder owned by `user` that keeps a placeholder file: podman copies a non-empty folder's owner into a
 * new named volume, as Docker does for an empty one (an empty folder's volume would stay root's).
 */
const dataFolder = (folder: string, owner: string) => `RUN mkdir -p ${folder} && touch ${folder}/.volume-owner && chown -R ${owner} ${folder}`;

/**
 * The official image's entrypoint, as far as docker-compose.yml uses it: a first start initialises PGDATA with
 * POSTGRES_USER/POSTGRES_PASSWORD (password auth over the network) and creates POSTGRES_DB; then the server
 * runs as postgres, listening on every interface.
 */
const POSTGRES_ENTRYPOINT = `#!/bin/sh
set -eu
: "\${POSTGRES_USER:=postgres}" "\${POSTGRES_DB:=$POSTGRES_USER}"
mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp) && printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile" && chown postgres "$pwfile"
  runuser -u postgres -- initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256
  rm -f "$pwfile"
  echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \\"$POSTGRES_DB\\" OWNER \\"$POSTGRES_USER\\";" | runuser -u postgres -- postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses='*'
`;

/** nobody:nogroup, the upstream images' user. */
const NOBODY = '65534:65534';

/** The recipe for each upstream image name docker-compose.yml uses (without its tag). */
const RECIPES: Record<string, StandInRecipe> = {
  'prom/prometheus': {
    suite: 'bookworm',
    debianPackage: 'prometheus',
    layout: [dataFolder('/prometheus', NOBODY), 'WORKDIR /prometheus', 'USER 65534:65534', 'ENTRYPOINT ["/bin/prometheus"]'],
  },
  'prom/alertmanager': {
    suite: 'bookworm',
    debianPackage: 'prometheus-alertmanager',
    layout: [
      'RUN ln -s prometheus-alertmanager /usr/bin/alertmanager',
      dataFolder('/alertmanager', NOBODY),
      'WORKDIR /alertmanager',
      'USER 65534:65534',
      'ENTRYPOINT ["/bin/alertmanager"]',
    ],
  },
  'prom/node-exporter': {
    suite: 'bookworm',
    debianPackage: 'prometheus-node-exporter',
    layout: ['RUN ln -s prometheus-node-exporter /usr/bin/node_exporter', 'USER 65534:65534', 'ENTRYPOINT ["/bin/node_exporter"]'],
  },
  redis: {
    suite: 'bookworm',
    debianPackage: 'redis-server',
    // The official image's default: no config file, so no password and protected mode off; data in /data.
    layout: [dataFolder('/data', 'redis:redis'), 'WORKDIR /data', 'USER redis', 'ENTRYPOINT ["redis-server", "--protected-mode", "no"]'],
  },
  postgres: {
    suite: 'trixie',
    debianPackage: 'postgresql-17',
    files: { 'docker-entrypoint.sh': POSTGRES_ENTRYPOINT },
    layout: [
      'ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data',
      'COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh',
      'RUN chmod 755 /usr/local/bin/docker-entrypoint.sh',
      'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
    ],
  },
};

export type StandInSource = 'local' | 'pulled' | 'stand-in';

/** Whether an image name (`prom/prometheus:v2.53.0`, `postgres:17`) is one this module can stand in for. */
export function hasStandIn(image: string): boolean {
  return image.replace(/:[^/:]+$/, '') in RECIPES;
}

/** The image, present under its name: this recipe's stand-in already here, pulled, or built now. */
export async function ensureStandInImage(image: string, log: (line: string) => void): Promise<StandInSource> {
  const recipe = RECIPES[image.replace(/:[^/:]+$/, '')];
  if (!recipe) throw new Error(`no stand-in recipe for ${image}`);
  const name = fullyQualified(image);
  const { containerfile, hash } = standInContainerfile(recipe);
  const label = await podman(['image', 'inspect', '--format', `{{index .Config.Labels "${LABEL}"}}`, name]);
  if (label.code === 0 && label.stdout.trim() === hash) {
    log(`${name}: the stand-in built earlier (${await debianVersion(name, recipe)})`);
    return 'local';
  }
  const pulled = await podman(['pull', name], 90_000);
  if (pulled.code === 0) return 'pulled';
  const reason = (pulled.stderr.trim().split('\n').at(-1) ?? '').slice(0, 160);
  const started = Date.now();
  await buildStandIn(name, recipe, containerfile, log);
  log(
    `${name} cannot be pulled here (${reason}): built a stand-in from Debian ${recipe.suite}'s ${await debianVersion(name, recipe)} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return 'stand-in';
}

function standInContainerfile(recipe: StandInRecipe): { containerfile: string; hash: string } {
  const body = [
    `FROM ${debianBaseImage(recipe.suite)}`,
    `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${recipe.debianPackage} && rm -rf /var/lib/apt/lists/*`,
    ...recipe.layout,
  ].join('\n');
  const hash = createHash('sha256')
    .update(body)
    .update(JSON.stringify(recipe.files ?? {}))
    .digest('hex')
    .slice(0, 16);
  return { containerfile: `${body}\nLABEL ${LABEL}=${hash}\n`, hash };
}

function debianBaseImage(suite: Suite): string {
  return `localhost/qwen3guard-stand-in/debian:${suite}-minbase`;
}

async function buildStandIn(name: string, recipe: StandInRecipe, containerfile: string, log: (line: string) => void): Promise<void> {
  const base = debianBaseImage(recipe.suite);
  if ((await podman(['image', 'exists', base])).code !== 0) await podmanOk(['import', await debianRootfsTarball(recipe.suite, log), base], 300_000);
  const context = mkdtempSync(join(tmpdir(), 'qwen3guard-stand-in-'));
  try {
    writeFileSync(join(context, 'Containerfile'), containerfile);
    for (const [file, text] of Object.entries(recipe.files ?? {})) writeFileSync(join(context, file), text);
    await podmanOk(['build', '--network=host', '--pull=never', '-t', name, context], 600_000);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** `<package> <version>` as installed in the image. */
async function debianVersion(name: string, recipe: StandInRecipe): Promise<string> {
  const version = await podmanOk(['run', '--rm', '--network=none', '--entrypoint', 'dpkg-query', name, '-W', '-f', '${Version}', recipe.debianPackage]);
  return `${recipe.debianPackage} ${version.trim()}`;
}
