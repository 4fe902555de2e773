import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTES } from '../src/common/routes';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { BuiltService, buildDist, startBuiltService } from './support/build-output';
import { describeWithDatabaseServers, PostgresServer, RedisServer } from './support/database-servers';
import { waitFor } from './monitoring/support/tools';
import { bearer, TestTenant, testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(600_000);

const REPLICAS = 3;
/** The limited tenant's allowance (tenants file rateLimit) and the pace it sends at: four times that. */
const LIMIT = { requestsPerSecond: 4, burst: 4 };
const LIMITED_PACE_PER_SECOND = 4 * LIMIT.requestsPerSecond;
const LIMITED_REQUESTS = 96;
/** Requests per phase and how many are on their way at once (the demo model shares the machine's cores). */
const SPREAD_REQUESTS = 100;
const FAULT_REQUESTS = 60;
const CONCURRENCY = 4;
/** Every phase of load stops here, answered or not. */
const PHASE_DEADLINE_MS = 120_000;

interface Outcome {
  status: number;
  code?: string;
  retryAfter?: string;
}

/** What one tenant's requests came to: acknowledged means the whole 200 answer with its results arrived. */
class Tally {
  acknowledged = 0;
  readonly statuses = new Map<number, number>();
  readonly codes = new Map<string, number>();
  readonly retryAfters: string[] = [];

  record({ status, code, retryAfter }: Outcome): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (code) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (status === 429) this.retryAfters.push(retryAfter ?? '');
  }

  count(status: number): number {
    return this.statuses.get(status) ?? 0;
  }
}

/**
 * Three compiled service processes share one PostgreSQL (the usage ledger) and one Redis (the rate limits),
 * both throwaway servers the suite starts. A client spreads moderation requests from three tenants over the
 * replicas in turn and checks that the fleet meters and limits as one: the same /v1/usage everywhere, equal
 * to what was acknowledged; a rate limit that holds for the fleet, not per replica; coded 503s while
 * PostgreSQL is stopped and recovery without a restart; and no acknowledged request lost when a replica is
 * SIGKILLed. Counts only: nothing here asserts how long anything took.
 */
describeWithDatabaseServers('several replicas sharing PostgreSQL and Redis (e2e)', () => {
  const alpha = testTenant('alpha');
  const beta = testTenant('beta');
  const limited = testTenant('limited', { rateLimit: LIMIT });
  /** Reads every tenant's usage: /v1/usage is rate-limited like any route, so the limited tenant's own reads would be refused. */
  const auditor = testTenant('auditor', { admin: true });
  const tallies = new Map<string, Tally>([alpha, beta, limited].map((tenant) => [tenant.id, new Tally()]));
  let workDir: string;
  let postgres: PostgresServer;
  let redis: RedisServer;
  const replicas: BuiltService[] = [];
  let next = 0;

  beforeAll(async () => {
    await buildDist();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-fleet-'));
    await ensureDemoModel(join(workDir, 'cache'));
    [postgres, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
    const env = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      QWEN3GUARD_CACHE_DIR: join(workDir, 'cache'),
      QWEN3GUARD_TENANTS_FILE: writeTenantsFile(workDir, [alpha, beta, limited, auditor]),
      ALLOW_ANONYMOUS: 'false',
      QWEN3GUARD_MAX_QUEUE_WAIT_MS: '0', // every request accepted, however slow the machine
      QWEN3GUARD_DATABASE_URL: await postgres.createDatabase('fleet'),
      QWEN3GUARD_REDIS_URL: redis.url,
    };
    // One at a time: the first runs the migrations, and three model loads at once would crowd two cores.
    for (let index = 0; index < REPLICAS; index++) replicas.push(await startBuiltService(env, 180_000));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await Promise.all([postgres?.remove(), redis?.remove()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const live = () => replicas.filter((replica) => replica.running());
  /** What each replica that exited wrote: expected empty unless the test killed it. */
  const exitedOutput = (except?: BuiltService) => replicas.filter((replica) => replica !== except && !replica.running()).map((replica) => replica.output());
  const url = (replica: BuiltService, path: string) => `http://127.0.0.1:${replica.port}${path}`;

  /** One moderation request to `replica`; undefined when the connection failed (a killed replica). */
  async function moderate(replica: BuiltService, tenant: TestTenant, n: number): Promise<Outcome | undefined> {
    const tally = tallies.get(tenant.id)!;
    try {
      const response = await fetch(url(replica, ROUTES.moderations), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(tenant) },
        body: JSON.stringify({ input: `hello ${n}` }),
      });
      const body = (await response.json()) as { results?: unknown[]; code?: string };
      const outcome = { status: response.status, code: body.code, retryAfter: response.headers.get('retry-after') ?? undefined };
      if (response.status === 200 && body.results?.length === 1) tally.acknowledged++;
      tally.record(outcome);
      return outcome;
    } catch {
      return undefined;
    }
  }

  interface Spread {
    tenant: TestTenant;
    requests: number;
    /** Called after each answer; stops the phase early when it returns true. */
    after?: (outcome: Outcome | undefined, sent: number) => Promise<boolean | void> | boolean | void;
    /** Counts requests on their way per replica, for the kill. */
    inFlight?: Map<BuiltService, number>;
  }

  /** `requests` requests from CONCURRENCY workers, each to the next live replica in turn; bounded by PHASE_DEADLINE_MS. */
  async function spread({ tenant, requests, after, inFlight }: Spread): Promise<number> {
    const deadline = Date.now() + PHASE_DEADLINE_MS;
    let sent = 0;
    let stopped = false;
    const worker = async () => {
      while (!stopped && sent < requests && Date.now() < deadline) {
        const targets = live();
        const replica = targets[next++ % targets.length];
        const n = sent++;
        inFlight?.set(replica, (inFlight.get(replica) ?? 0) + 1);
        const outcome = await moderate(replica, tenant, n);
        inFlight?.set(replica, inFlight.get(replica)! - 1);
        if (await after?.(outcome, sent)) stopped = true;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return sent;
  }

  /** The tenant's /v1/moderations requests in the ledger, as `replica` reports them. */
  async function ledgered(replica: BuiltService, tenant: TestTenant): Promise<number> {
    const response = await fetch(url(replica, ROUTES.usage), { headers: bearer(auditor) });
    expect(response.status).toBe(200);
    const { rows } = (await response.json()) as { rows: Array<{ tenant: string; endpoint: string; requests: number }> };
    return rows.filter((row) => row.tenant === tenant.id && row.endpoint === ROUTES.moderations).reduce((sum, row) => sum + row.requests, 0);
  }

  const everyReplicaReports = async (tenant: TestTenant) => Promise.all(live().map((replica) => ledgered(replica, tenant)));

  it('meters every tenant once for the fleet, and holds a rate limit for the fleet, not per replica', async () => {
    let firstSent = 0;
    let lastSent = 0;
    const limitedLoad = async () => {
      // Paced at four times the limit, answers not awaited (a refusal is quick, an acceptance runs the model).
      const pending: Array<Promise<unknown>> = [];
      firstSent = Date.now();
      for (let n = 0; n < LIMITED_REQUESTS; n++) {
        lastSent = Date.now();
        pending.push(moderate(replicas[n % REPLICAS], limited, n));
        await new Promise((resolve) => setTimeout(resolve, 1000 / LIMITED_PACE_PER_SECOND));
      }
      await Promise.all(pending);
    };
    await Promise.all([spread({ tenant: alpha, requests: SPREAD_REQUESTS }), spread({ tenant: beta, requests: SPREAD_REQUESTS }), limitedLoad()]);

    // (a) Every replica reports the same totals, and they are what the client saw answered.
    for (const tenant of [alpha, beta, limited]) {
      const tally = tallies.get(tenant.id)!;
      expect([tenant.id, [...tally.statuses.keys()].filter((status) => status !== 200 && status !== 429)]).toEqual([tenant.id, []]);
      expect([tenant.id, await everyReplicaReports(tenant)]).toEqual([tenant.id, Array(REPLICAS).fill(tally.acknowledged)]);
    }
    expect(tallies.get(alpha.id)!.acknowledged).toBe(SPREAD_REQUESTS);
    expect(tallies.get(beta.id)!.acknowledged).toBe(SPREAD_REQUESTS);

    // (b) The limiter's fixed one-second windows: at most requestsPerSecond per window and burst per burst
    // window that the sending interval touches, for the whole fleet; per-replica limits would allow 3 times it.
    const seconds = (lastSent - firstSent) / 1000;
    const burstWindow = Math.max(1, Math.ceil(LIMIT.burst / LIMIT.requestsPerSecond));
    const fleetAllowance = LIMIT.requestsPerSecond * (Math.ceil(seconds) + 1) + LIMIT.burst * (Math.ceil(seconds / burstWindow) + 1);
    const { acknowledged: allowed, retryAfters } = tallies.get(limited.id)!;
    process.stdout.write(
      `limited tenant: ${allowed} allowed, ${retryAfters.length} refused of ${LIMITED_REQUESTS} over ${seconds.toFixed(1)} s; fleet allowance ${fleetAllowance}\n`,
    );
    expect(allowed).toBeGreaterThanOrEqual(LIMIT.requestsPerSecond + LIMIT.burst);
    expect(allowed).toBeLessThanOrEqual(fleetAllowance);
    expect(fleetAllowance).toBeLessThan(REPLICAS * LIMIT.requestsPerSecond * Math.floor(seconds));
    expect(allowed + retryAfters.length).toBe(LIMITED_REQUESTS);
    for (const retryAfter of retryAfters) expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('answers coded 503s while PostgreSQL is stopped, never a 500, and meters again by itself once it is back', async () => {
    const outage = new Map<number, number>();
    let stoppedAt: number | undefined;
    await spread({
      tenant: alpha,
      requests: FAULT_REQUESTS,
      after: async (outcome, sent) => {
        if (stoppedAt === undefined && sent >= FAULT_REQUESTS / 3) {
          stoppedAt = sent;
          await postgres.stop();
        }
        if (stoppedAt !== undefined && outcome) outage.set(outcome.status, (outage.get(outcome.status) ?? 0) + 1);
      },
    });
    const tally = tallies.get(alpha.id)!;
    expect(stoppedAt).toBeDefined();
    expect([...tally.statuses.keys()].filter((status) => status >= 500 && status !== 503)).toEqual([]);
    expect(outage.get(503)).toBeGreaterThan(0);
    expect(tally.codes.get('USAGE_LEDGER_UNAVAILABLE')).toBe(tally.count(503));
    expect(exitedOutput()).toEqual([]);

    await postgres.resume();
    // Recovery without a restart: each replica answers 200 again (a few coded 503s while its pool reconnects).
    for (const replica of replicas) {
      let n = 0;
      await waitFor('a replica to meter again', async () => ((await moderate(replica, alpha, n++))?.status === 200 ? true : undefined), 30_000, 200);
    }
    expect(exitedOutput()).toEqual([]);
    expect(await everyReplicaReports(alpha)).toEqual(Array(REPLICAS).fill(tally.acknowledged));
    process.stdout.write(
      `PostgreSQL outage: statuses while stopped ${JSON.stringify(Object.fromEntries(outage))}; ledger = acknowledged = ${tally.acknowledged}\n`,
    );
  });

  it('loses no acknowledged request when a replica is SIGKILLed mid-run', async () => {
    const victim = replicas[REPLICAS - 1];
    const inFlight = new Map<BuiltService, number>();
    let inFlightAtKill = -1;
    const acknowledgedBefore = tallies.get(beta.id)!.acknowledged;
    await spread({
      tenant: beta,
      requests: FAULT_REQUESTS,
      inFlight,
      after: async (_outcome, sent) => {
        if (inFlightAtKill < 0 && sent >= FAULT_REQUESTS / 3) {
          inFlightAtKill = inFlight.get(victim) ?? 0;
          await victim.kill();
        }
      },
    });
    expect(victim.running()).toBe(false);
    expect(exitedOutput(victim)).toEqual([]);
    const { acknowledged } = tallies.get(beta.id)!;
    expect(acknowledged).toBeGreaterThan(acknowledgedBefore);
    const reports = await everyReplicaReports(beta);
    expect(new Set(reports).size).toBe(1);
    // A row committed just before the kill may have lost its answer: at most the requests then on the victim.
    expect(reports[0]).toBeGreaterThanOrEqual(acknowledged);
    expect(reports[0]).toBeLessThanOrEqual(acknowledged + inFlightAtKill);
    process.stdout.write(`SIGKILL: acknowledged ${acknowledged}, ledger ${reports[0]}, in flight on the killed replica ${inFlightAtKill}\n`);
  });
});
