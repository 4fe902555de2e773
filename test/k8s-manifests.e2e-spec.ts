import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ServiceMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { AppConfig } from '../src/config/app-config';
import { METRICS } from '../src/metrics/metric-names';
import { hubCacheDir } from '../src/config/hub-config';
import { DASHBOARDS } from '../tools/dashboards/generate';
import { ALERTS_FILE } from '../tools/k8s/generate';
import { engineThatFailsToLoad, startTestApp } from './support/test-app';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
const OVERLAYS = ['cpu', 'gpu'] as const;
/** The component that shares the ledger and rate limits, and the Secret (and keys) it reads their URLs from. */
const SHARED_STATE_COMPONENT = join('k8s', 'components', 'shared-state');
const SHARED_STATE_SECRET = 'qwen3guard-shared-state';
const SHARED_STATE_VARIABLES = { QWEN3GUARD_DATABASE_URL: 'database-url', QWEN3GUARD_REDIS_URL: 'redis-url' };
/** kustomize v5 renders k8s/ (labels, patches by path, directories as resources); older ones do not. */
const KUSTOMIZE_MAJOR = 5;
/** The namespace kube-prometheus-stack runs in, as the NetworkPolicy and README assume. */
const MONITORING_NAMESPACE = 'monitoring';
/** Hugging Face's own variables the pods set beside AppConfig's (read by the model cache lookup and `pull`). */
const HUGGING_FACE_VARIABLES = ['HF_HOME', 'HF_TOKEN'];
const CONFIG_DEFAULTS = new AppConfig();

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [field: string]: any };

type SchemaModel = new (data: never) => { validate(): void };
/**
 * prometheus-operator's classes inherit validate() from @kubernetes-models/base, whose types this project's
 * node10 module resolution cannot see (the package declares them under "exports" only): the method exists at
 * run time, the cast only restores it for the type checker.
 */
const operatorModel = (model: unknown) => model as SchemaModel;

/** The schema each rendered kind is validated against; a kind not listed here fails the suite. */
const MODELS: Record<string, SchemaModel> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': operatorModel(ServiceMonitor),
  'monitoring.coreos.com/v1/PrometheusRule': operatorModel(PrometheusRule),
};

async function kubectl(args: string[]): Promise<string> {
  try {
    return (await promisify(execFile)('kubectl', args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `kubectl is not installed: these tests render k8s/ with \`kubectl kustomize\` (kustomize v${KUSTOMIZE_MAJOR}, kubectl >= 1.27); install kubectl`,
        { cause: error },
      );
    }
    throw new Error(`kubectl ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`, { cause: error });
  }
}

/** Renders a kustomization directory (repository-relative or absolute). */
async function render(directory: string): Promise<K8sObject[]> {
  const { kustomizeVersion } = JSON.parse(await kubectl(['version', '--client', '-o', 'json'])) as { kustomizeVersion?: string };
  const major = Number(/^v(\d+)\./.exec(kustomizeVersion ?? '')?.[1] ?? 0);
  if (major < KUSTOMIZE_MAJOR) {
    throw new Error(
      `kubectl's kustomize is ${kustomizeVersion ?? 'unknown'}; k8s/ needs kustomize v${KUSTOMIZE_MAJOR} (kubectl >= 1.27): install a newer kubectl`,
    );
  }
  const output = await kubectl(['kustomize', directory]);
  return parseAllDocuments(output).map((document) => document.toJS() as K8sObject);
}

/** An overlay with the shared-state component added, as an operator's own kustomization would add it. */
async function renderWithSharedState(overlay: string, workDir: string): Promise<K8sObject[]> {
  const directory = mkdtempSync(join(workDir, `${overlay}-shared-state-`));
  const from = (path: string) => relative(directory, join(ROOT, path));
  writeFileSync(
    join(directory, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${from(join('k8s', 'overlays', overlay))}`,
      'components:',
      `  - ${from(SHARED_STATE_COMPONENT)}`,
      '',
    ].join('\n'),
  );
  return render(directory);
}

/** Each object that fails its kind's schema (or whose kind this test has no schema for), as a line. */
function schemaProblems(objects: K8sObject[]): string[] {
  return objects.flatMap((object) => {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (!Model) return [`${object.apiVersion} ${object.kind} ${object.metadata.name}: no schema in this test`];
    try {
      new Model(asServerReads(object) as never).validate();
      return [];
    } catch (error) {
      return [`${object.kind} ${object.metadata.name}: ${(error as Error).message}`];
    }
  });
}

const kinds = (objects: K8sObject[]) => new Set(objects.map((object) => object.kind));

function only(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.filter((object) => object.kind === kind);
  expect(found.map((object) => object.metadata.name)).toHaveLength(1);
  return found[0];
}

function named(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in the rendered overlay`);
  return found;
}

/**
 * kustomize wraps a Secret's base64 data over several lines; the API server's decoder (Go's encoding/base64)
 * skips the newlines, the schema's "byte" format does not. Validate what the server reads.
 */
function asServerReads(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !object.data) return object;
  return { ...object, data: Object.fromEntries(Object.entries(object.data as Record<string, string>).map(([key, value]) => [key, value.replace(/\n/g, '')])) };
}

/** True when every selector label is on the labelled object, as a Kubernetes equality selector matches. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.keys(selector ?? {}).length > 0 && Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);
}

/** AppConfig's variables, as loadAppConfig reads them (the properties class-validator knows). */
function appConfigVariables(): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(AppConfig, '', true, false)
      .map((entry) => entry.propertyName),
  );
}

describe('Kubernetes manifests (e2e)', () => {
  const rendered = new Map<string, K8sObject[]>();
  const renderedWithSharedState = new Map<string, K8sObject[]>();
  let app: NestFastifyApplication;

  let workDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-k8s-'));
    for (const overlay of OVERLAYS) {
      rendered.set(overlay, await render(join('k8s', 'overlays', overlay)));
      renderedWithSharedState.set(overlay, await renderWithSharedState(overlay, workDir));
    }
    app = await startConfiguredApp(rendered.get('cpu')!);
  });

  afterAll(async () => {
    await app?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /**
   * The application as the pods configure it: the ConfigMap's environment (NODE_ENV=production, no anonymous
   * callers) and the tenants file from the Secret, so the probes meet the real routes and guards. Only the
   * paths move to a temporary directory, and the model is one that never loads (no weights here).
   */
  async function startConfiguredApp(objects: K8sObject[]): Promise<NestFastifyApplication> {
    const pod = only(objects, 'Deployment').spec.template.spec;
    const env = named(objects, 'ConfigMap', pod.containers[0].envFrom[0].configMapRef.name).data as Record<string, string>;
    const tenantsVolume = pod.volumes.find((volume: { secret?: unknown }) => volume.secret);
    const tenants = named(objects, 'Secret', tenantsVolume.secret.secretName).data[posix.basename(env.QWEN3GUARD_TENANTS_FILE)] as string;
    writeFileSync(join(workDir, 'tenants.yaml'), Buffer.from(tenants, 'base64'));
    return startTestApp({
      engine: engineThatFailsToLoad(),
      env: {
        ...env,
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        LOG_LEVEL: 'fatal',
        QWEN3GUARD_MODEL: '',
        QWEN3GUARD_MODEL_DIR: workDir,
        QWEN3GUARD_TENANTS_FILE: join(workDir, 'tenants.yaml'),
        QWEN3GUARD_USAGE_DB: join(workDir, 'usage.sqlite'),
        QWEN3GUARD_CACHE_DIR: workDir,
        HF_HOME: workDir,
      },
    });
  }

  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    const objects = () => rendered.get(overlay)!;
    const deployment = () => only(objects(), 'Deployment');
    const podSpec = () => deployment().spec.template.spec;
    const service = () => only(objects(), 'Service');
    const container = () => podSpec().containers.find((candidate: { name: string }) => candidate.name === 'qwen3guard');
    /** The service's environment: the ConfigMap the container's envFrom names. */
    const environment = (): Record<string, string> => {
      const references = container()
        .envFrom.map((source: { configMapRef?: { name: string } }) => source.configMapRef?.name)
        .filter(Boolean);
      expect(references).toHaveLength(1);
      return named(objects(), 'ConfigMap', references[0]).data;
    };

    it('renders only objects that validate against the Kubernetes and prometheus-operator schemas', () => {
      expect(schemaProblems(objects())).toEqual([]);
      const everyKind = Object.keys(MODELS).map((key) => key.split('/').pop());
      expect(kinds(objects())).toEqual(new Set(everyKind.filter((kind) => kind !== 'HorizontalPodAutoscaler')));
    });

    it('keeps a single replica and no autoscaler: the ledger and rate limits live in the pod', () => {
      expect(deployment().spec.replicas).toBe(1);
      expect(kinds(objects()).has('HorizontalPodAutoscaler')).toBe(false);
      const env = environment();
      for (const name of Object.keys(SHARED_STATE_VARIABLES))
        expect([name, env[name], container().env?.some((entry: { name: string }) => entry.name === name)]).toEqual([name, undefined, undefined]);
    });

    it("listens on the configuration's default ports, named http and metrics, and the ConfigMap says the same", () => {
      const ports = Object.fromEntries(container().ports.map((port: { name: string; containerPort: number }) => [port.name, port.containerPort]));
      expect(ports).toEqual({ http: CONFIG_DEFAULTS.PORT, metrics: CONFIG_DEFAULTS.METRICS_PORT });
      expect(environment()).toMatchObject({
        PORT: String(CONFIG_DEFAULTS.PORT),
        METRICS_PORT: String(CONFIG_DEFAULTS.METRICS_PORT),
        METRICS_MODE: 'separate',
        NODE_ENV: 'production',
      });
    });

    it('configures only variables AppConfig declares, with values it accepts', () => {
      const env = environment();
      const declared = appConfigVariables();
      expect(Object.keys(env).filter((name) => !declared.has(name) && !HUGGING_FACE_VARIABLES.includes(name))).toEqual([]);
      // loadAppConfig's field checks; its cross-field ones need the model in a local Hugging Face cache.
      const config = plainToInstance(AppConfig, { HF_HUB_CACHE: hubCacheDir(env), ...env });
      expect(validateSync(config, { stopAtFirstError: true }).flatMap((error) => Object.values(error.constraints ?? {}))).toEqual([]);
      expect(config.QWEN3GUARD_MODEL).toMatch(/^[^/]+\/[^/]+$/);
    });

    it("probes the application's real health routes on the http port, with time for the model to load", async () => {
      const { startupProbe, readinessProbe, livenessProbe } = container();
      for (const probe of [startupProbe, readinessProbe, livenessProbe]) expect(probe.httpGet.port).toBe('http');
      expect(startupProbe.httpGet.path).toBe(readinessProbe.httpGet.path);
      expect(startupProbe.periodSeconds * startupProbe.failureThreshold).toBeGreaterThanOrEqual(120);
      const [ready, live] = await Promise.all([readinessProbe, livenessProbe].map((probe) => app.inject({ method: 'GET', url: probe.httpGet.path })));
      // This engine never loads: readiness must say 503 with the model's state, liveness 200, both without a key.
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'error', error: { model: { status: 'down' } } });
      expect(live.statusCode).toBe(200);
      // ...while the API itself, configured as in production, wants a tenant's key.
      expect((await app.inject({ method: 'POST', url: '/predict', payload: { text: 'hello' } })).statusCode).toBe(401);
    });

    it('runs as a non-root user on a read-only root filesystem, without privileges, writing only to volumes', () => {
      const pod = podSpec();
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const each of [...pod.initContainers, ...pod.containers]) {
        expect([each.name, each.securityContext]).toEqual([
          each.name,
          { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        ]);
      }
      const env = environment();
      const writable = (path: string) =>
        container().volumeMounts.some((mount: { mountPath: string; readOnly?: boolean; name: string }) => {
          const volume = pod.volumes.find((candidate: { name: string }) => candidate.name === mount.name);
          return !mount.readOnly && (volume.emptyDir || volume.persistentVolumeClaim) && (path === mount.mountPath || path.startsWith(`${mount.mountPath}/`));
        });
      expect([posix.dirname(env.QWEN3GUARD_USAGE_DB), env.QWEN3GUARD_CACHE_DIR, '/tmp'].filter((path) => !writable(path))).toEqual([]);
    });

    it('mounts the tenants Secret as the file QWEN3GUARD_TENANTS_FILE names', () => {
      const file = environment().QWEN3GUARD_TENANTS_FILE;
      expect(file).toBe('/etc/qwen3guard/tenants.yaml');
      const mount = container().volumeMounts.find((candidate: { mountPath: string }) => candidate.mountPath === posix.dirname(file));
      const volume = podSpec().volumes.find((candidate: { name: string }) => candidate.name === mount.name);
      const secret = named(objects(), 'Secret', volume.secret.secretName);
      const content = Buffer.from(secret.data[posix.basename(file)], 'base64').toString('utf8');
      const { tenants } = parse(content) as { tenants: Array<{ id: string; enabled: boolean; keys: string[] }> };
      expect(tenants.length).toBeGreaterThan(0);
      for (const tenant of tenants) for (const key of tenant.keys) expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('gives in-flight requests time to finish: preStop plus SHUTDOWN_DRAIN_MS fit in the grace period', () => {
      const [command, seconds] = container().lifecycle.preStop.exec.command;
      expect(command).toBe('sleep');
      const drainSeconds = Number(environment().SHUTDOWN_DRAIN_MS ?? CONFIG_DEFAULTS.SHUTDOWN_DRAIN_MS) / 1000;
      // A few seconds more for closing the listeners and the engine after the drain.
      expect(Number(seconds) + drainSeconds + 5).toBeLessThanOrEqual(podSpec().terminationGracePeriodSeconds);
    });

    it('has a Service that selects the pods and names both ports', () => {
      expect(selects(service().spec.selector, deployment().spec.template.metadata.labels)).toBe(true);
      const containerPorts = new Set(container().ports.map((port: { name: string }) => port.name));
      const ports = service().spec.ports.map((port: { name: string; port: number; targetPort: string }) => [
        port.name,
        port.port,
        containerPorts.has(port.targetPort) ? port.targetPort : undefined,
      ]);
      expect(ports).toEqual([
        ['http', CONFIG_DEFAULTS.PORT, 'http'],
        ['metrics', CONFIG_DEFAULTS.METRICS_PORT, 'metrics'],
      ]);
    });

    it('has a ServiceMonitor that selects the Service and scrapes its metrics port every 15 s, for kube-prometheus-stack', () => {
      const monitor = only(objects(), 'ServiceMonitor');
      expect(monitor.metadata.namespace).toBe(service().metadata.namespace);
      expect(selects(monitor.spec.selector.matchLabels, service().metadata.labels)).toBe(true);
      expect(monitor.spec.endpoints).toHaveLength(1);
      const [endpoint] = monitor.spec.endpoints;
      expect(service().spec.ports.map((port: { name: string }) => port.name)).toContain(endpoint.port);
      expect(endpoint).toMatchObject({ port: 'metrics', path: '/metrics', interval: '15s' });
      expect(monitor.spec.sampleLimit).toBeGreaterThan(0);
      expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
      // Prometheus names the job after the Service (no jobLabel): the alert rules match that job name.
      expect(monitor.spec.jobLabel).toBeUndefined();
      // node-exporter is kube-prometheus-stack's node exporter job, which ProcessMemoryHigh joins with.
      const jobs = new Set([...readFileSync(join(ROOT, ALERTS_FILE), 'utf8').matchAll(/\bjob="([^"]+)"/g)].map((match) => match[1]));
      jobs.delete('node-exporter');
      expect([...jobs]).toEqual([service().metadata.name]);
    });

    it("has a PrometheusRule whose groups are config/prometheus/alerts.yml's", () => {
      const rule = only(objects(), 'PrometheusRule');
      const alerts = parse(readFileSync(join(ROOT, ALERTS_FILE), 'utf8')) as { groups: unknown[] };
      expect(rule.spec.groups).toEqual(alerts.groups);
      expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    });

    it('has a Grafana dashboard ConfigMap for each committed dashboard', () => {
      const dashboards = objects().filter((object) => object.kind === 'ConfigMap' && object.metadata.labels?.grafana_dashboard === '1');
      expect(dashboards).toHaveLength(DASHBOARDS.length);
      for (const { file } of DASHBOARDS) {
        const holder = dashboards.find((configMap) => basename(file) in configMap.data);
        expect(holder?.data[basename(file)]).toBe(readFileSync(join(ROOT, file), 'utf8'));
      }
    });

    it(`has a NetworkPolicy that admits the metrics port only from the ${MONITORING_NAMESPACE} namespace, and http from anywhere`, () => {
      const policy = only(objects(), 'NetworkPolicy');
      expect(selects(policy.spec.podSelector.matchLabels, deployment().spec.template.metadata.labels)).toBe(true);
      const containerPorts = Object.fromEntries(container().ports.map((port: { name: string; containerPort: number }) => [port.name, port.containerPort]));
      const admits = (rule: { ports?: Array<{ port: string | number }> }, name: string) =>
        (rule.ports ?? []).some((entry) => entry.port === name || entry.port === containerPorts[name]) || rule.ports === undefined;
      const metricsRules = policy.spec.ingress.filter((rule: never) => admits(rule, 'metrics'));
      expect(metricsRules).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': MONITORING_NAMESPACE } } }],
          ports: [{ port: 'metrics', protocol: 'TCP' }],
        },
      ]);
      expect(policy.spec.ingress.filter((rule: { from?: unknown }) => admits(rule as never, 'http') && rule.from === undefined)).toHaveLength(1);
    });

    it('has a PodDisruptionBudget over the pods that lets a drain evict one', () => {
      const budget = only(objects(), 'PodDisruptionBudget');
      expect(selects(budget.spec.selector.matchLabels, deployment().spec.template.metadata.labels)).toBe(true);
      expect(budget.spec.maxUnavailable).toBe(1);
    });

    it('spreads pods over nodes and zones', () => {
      const constraints = podSpec().topologySpreadConstraints as Array<{ topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }>;
      expect(constraints.map((constraint) => constraint.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const constraint of constraints) expect(selects(constraint.labelSelector.matchLabels, deployment().spec.template.metadata.labels)).toBe(true);
    });

    it(
      overlay === 'gpu'
        ? 'asks for one NVIDIA GPU on GPU nodes and runs the CUDA provider from the GPU image'
        : 'runs the CPU provider from the CPU image, without GPUs',
      () => {
        const gpu = overlay === 'gpu';
        expect(environment().QWEN3GUARD_PROVIDER).toBe(gpu ? 'cuda' : 'cpu');
        expect(container().resources.limits['nvidia.com/gpu']).toBe(gpu ? 1 : undefined);
        expect(container().image.split(':')[0].endsWith('-gpu')).toBe(gpu);
        for (const each of podSpec().initContainers) expect(each.image).toBe(container().image);
        expect((podSpec().tolerations ?? []).some((toleration: { key: string }) => toleration.key === 'nvidia.com/gpu')).toBe(gpu);
        expect(Object.keys(podSpec().nodeSelector ?? {}).length > 0).toBe(gpu);
      },
    );
  });

  describe.each(OVERLAYS)('overlay %s with the shared-state component', (overlay) => {
    const objects = () => renderedWithSharedState.get(overlay)!;
    const deployment = () => only(objects(), 'Deployment');
    const container = () => deployment().spec.template.spec.containers.find((candidate: { name: string }) => candidate.name === 'qwen3guard');

    it('renders objects that validate, every kind of the plain overlay plus the autoscaler, in its namespace', () => {
      expect(schemaProblems(objects())).toEqual([]);
      expect(kinds(objects())).toEqual(new Set([...kinds(rendered.get(overlay)!), 'HorizontalPodAutoscaler']));
      expect(only(objects(), 'HorizontalPodAutoscaler').metadata.namespace).toBe(deployment().metadata.namespace);
    });

    it('reads the database and Redis URLs from the Secret, never from the ConfigMap', () => {
      const fromSecret = Object.fromEntries(
        (container().env as Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>)
          .filter((entry) => entry.name in SHARED_STATE_VARIABLES)
          .map((entry) => [entry.name, entry.valueFrom?.secretKeyRef]),
      );
      expect(fromSecret).toEqual(Object.fromEntries(Object.entries(SHARED_STATE_VARIABLES).map(([name, key]) => [name, { name: SHARED_STATE_SECRET, key }])));
      const declared = appConfigVariables();
      for (const name of Object.keys(SHARED_STATE_VARIABLES)) expect([name, declared.has(name)]).toEqual([name, true]);
      const configMap = named(objects(), 'ConfigMap', container().envFrom[0].configMapRef.name).data as Record<string, string>;
      for (const name of Object.keys(SHARED_STATE_VARIABLES)) expect(configMap[name]).toBeUndefined();
      // We ship no credentials: the operator creates that Secret.
      expect(objects().filter((object) => object.kind === 'Secret' && object.metadata.name.startsWith(SHARED_STATE_SECRET))).toEqual([]);
    });

    it('starts with as many replicas as the autoscaler keeps at least', () => {
      expect(deployment().spec.replicas).toBe(only(objects(), 'HorizontalPodAutoscaler').spec.minReplicas);
    });

    it('changes nothing else in the plain overlay', () => {
      const withoutSharedState = (object: K8sObject): K8sObject => {
        if (object.kind !== 'Deployment') return object;
        const { replicas: _replicas, ...spec } = object.spec;
        const containers = spec.template.spec.containers.map(({ env, ...rest }: { env?: Array<{ name: string }> }) => {
          const kept = (env ?? []).filter((entry) => !(entry.name in SHARED_STATE_VARIABLES));
          return kept.length ? { ...rest, env: kept } : rest;
        });
        return { ...object, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers } } } };
      };
      const plain = rendered.get(overlay)!.map(withoutSharedState);
      expect(
        objects()
          .filter((object) => object.kind !== 'HorizontalPodAutoscaler')
          .map(withoutSharedState),
      ).toEqual(plain);
    });

    it('scales on CPU and on the queue-depth metric that prometheus-adapter serves', () => {
      const autoscaler = only(objects(), 'HorizontalPodAutoscaler');
      expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment().metadata.name });
      const metrics = autoscaler.spec.metrics as Array<{ type: string; resource?: { name: string }; pods?: { metric: { name: string } } }>;
      expect(metrics.filter((metric) => metric.type === 'Resource').map((metric) => metric.resource!.name)).toEqual(['cpu']);
      const podMetrics = metrics.filter((metric) => metric.type === 'Pods').map((metric) => metric.pods!.metric.name);
      expect(podMetrics).toEqual([METRICS.queueDepth.name]);
      const adapter = parse(readFileSync(join(ROOT, 'k8s', 'prometheus-adapter', 'values.yaml'), 'utf8')) as {
        rules: { custom: Array<{ seriesQuery: string; name: { as: string } }> };
      };
      const served = adapter.rules.custom.filter((rule) => rule.name.as === podMetrics[0]);
      expect(served).toHaveLength(1);
      expect(served[0].seriesQuery.startsWith(`${METRICS.queueDepth.name}{`)).toBe(true);
      // The CPU target is a share of the request: there must be one.
      expect(container().resources.requests.cpu).toBeDefined();
      expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
    });

    it('has a PodDisruptionBudget that leaves at least one pod serving', () => {
      const budget = only(objects(), 'PodDisruptionBudget');
      expect(selects(budget.spec.selector.matchLabels, deployment().spec.template.metadata.labels)).toBe(true);
      expect(budget.spec.maxUnavailable).toBeLessThan(only(objects(), 'HorizontalPodAutoscaler').spec.minReplicas);
    });
  });

  it('pulls the model into the volume the service reads its Hugging Face cache from', () => {
    const objects = rendered.get('cpu')!;
    const pod = only(objects, 'Deployment').spec.template.spec;
    const [pull] = pod.initContainers;
    expect(pull.args).toEqual(['pull']);
    const env = named(objects, 'ConfigMap', pod.containers[0].envFrom[0].configMapRef.name).data as Record<string, string>;
    const modelsMount = (mounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>) =>
      mounts.find((mount) => hubCacheDir(env).startsWith(`${mount.mountPath}/`));
    expect(modelsMount(pull.volumeMounts)).toMatchObject({ name: 'models' });
    expect(modelsMount(pull.volumeMounts)?.readOnly).toBeUndefined();
    expect(modelsMount(pod.containers[0].volumeMounts)).toMatchObject({ name: 'models', readOnly: true });
    expect(dirname(hubCacheDir(env))).toBe(env.HF_HOME);
  });
});
