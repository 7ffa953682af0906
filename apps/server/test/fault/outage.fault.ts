/**
 * The operator's test of issue 8, automated: the built demo server (a child process)
 * on a throw-away PostgreSQL, a bounded load of 12 clients placing orders (retried with
 * their Idempotency-Key), submitting, approving and cancelling them (If-Match, re-read
 * on 412) against a small budget, while the database is killed (SIGKILL of the
 * postmaster, then `pg_ctl stop -m immediate`, alternating) and restarted after 1–3 s,
 * ten times. Then: the server is alive; no key placed two orders and every 201 order
 * exists; budgets equal what their orders hold; one audit record per order action;
 * every failure was a 503 problem+json within 3 s; /ready said 503 within 1 s during
 * outages and 200 again within 2 s of the database. Finally SIGTERM under load: every
 * request already sent is answered, and the process exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { signDevelopmentToken } from '@diandan/kernel';
import { freePort, postgresBinDir, scanLogText, startTemporaryPostgres, type TemporaryPostgres } from '@diandan/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRET } from '../../diandan.config.js';
import { DEMO_PRODUCTS, DEMO_UNITS, DEMO_USERS, DEMO_VENUES } from '../../src/demo/catalogue.js';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
const main = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));
const OUTAGES = Number(process.env.FAULT_OUTAGES ?? 10);
const CLIENTS = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

interface Outcome {
  readonly what: string;
  readonly status: number | 'network' | 'timeout';
  readonly ms: number;
  readonly code?: string;
  readonly problem?: boolean;
  readonly retryAfter?: string | null;
}

interface Outage {
  readonly how: 'SIGKILL' | 'immediate';
  /** When the kill or stop had returned: the database is down from then on. */
  downAt: number;
  upAt?: number;
  readyAt?: number;
}

describe.skipIf(!postgresBinDir())('the demo server while its database is killed and restarted', () => {
  let pg: TemporaryPostgres;
  let server: ChildProcess;
  let base: string;
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  const logs: string[] = [];
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run pnpm build first`);
    pg = await startTemporaryPostgres();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [main], {
      cwd: serverDir,
      env: { ...process.env, DATABASE_URL: pg.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', DIANDAN_DEMO_SEED: 'on' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exit = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
    let partial = '';
    const collect = (d: Buffer) => {
      const text = partial + d.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      logs.push(...parts.filter(Boolean));
    };
    server.stdout!.on('data', collect);
    server.stderr!.on('data', collect);
    for (const user of DEMO_USERS) {
      tokens[user.sub] = await signDevelopmentToken(DEVELOPMENT_SECRET, { ...user, roles: [...user.roles] }, { expiresIn: '1h' });
    }
    const started = Date.now();
    while (!(await fetch(`${base}/ready`).then((r) => r.status === 200, () => false))) {
      if (Date.now() - started > 30_000) throw new Error(`the server did not become ready:\n${logs.slice(-20).join('\n')}`);
      if (server.exitCode !== null) throw new Error(`the server exited:\n${logs.slice(-20).join('\n')}`);
      await sleep(100);
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await exit;
    }
    await pg?.destroy();
  });

  it('survives, answers 503 fast, recovers fast, and loses or duplicates nothing', async () => {
    const testStarted = Date.now();
    const outcomes: Outcome[] = [];
    const readyProbes: { at: number; status: number | 'network' | 'timeout'; ms: number }[] = [];
    const outages: Outage[] = [];
    let stop = false;

    const call = async (what: string, user: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const started = performance.now();
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${tokens[user]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        const ms = performance.now() - started;
        const type = res.headers.get('content-type') ?? '';
        const json = text && type.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : {};
        const outcome: Outcome = {
          what,
          status: res.status,
          ms,
          code: typeof json.code === 'string' ? json.code : undefined,
          problem: type.startsWith('application/problem+json'),
          retryAfter: res.headers.get('retry-after'),
        };
        outcomes.push(outcome);
        return { status: res.status, json, etag: res.headers.get('etag') };
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        outcomes.push({ what, status: timedOut ? 'timeout' : 'network', ms: performance.now() - started });
        return { status: 0, json: {} as Record<string, unknown>, etag: null };
      }
    };
    const retryable = (status: number) => status === 0 || status === 503;

    // Placements: a key is retried until it gets its 201.
    const year = new Date().getFullYear();
    const placed = new Map<string, string>(); // Idempotency-Key → order id
    const replies = new Map<string, Set<string>>(); // every order id any 201 for the key carried
    const orderBody = (i: number) => {
      const product = i % 2 ? DEMO_PRODUCTS[0] : DEMO_PRODUCTS[2];
      return {
        unitId: DEMO_UNITS[0].id,
        productId: product.id,
        venueId: DEMO_VENUES[0].id,
        windowStart: `${year}-12-01`,
        windowEnd: `${year}-12-31`,
        expectedAudience: 60,
      };
    };
    const place = async (key: string, i: number, untilStopped: boolean) => {
      for (let attempt = 0; ; attempt++) {
        const res = await call('place', 'demo-unit-operator', 'POST', '/v1/orders', orderBody(i), { 'idempotency-key': key });
        if (res.status === 201) {
          const id = res.json.id as string;
          placed.set(key, id);
          if (!replies.has(key)) replies.set(key, new Set());
          replies.get(key)!.add(id);
          return id;
        }
        if (!retryable(res.status)) throw new Error(`placing ${key}: ${res.status} ${JSON.stringify(res.json)}`);
        if (untilStopped && stop) return undefined;
        await sleep(100 + Math.random() * 200);
      }
    };
    // A versioned action with If-Match: re-read on 412 and after a 503 (the action may
    // have committed before the connection was lost).
    const act = async (user: string, id: string, action: string, body?: unknown) => {
      for (let attempt = 0; attempt < 20 && !stop; attempt++) {
        const current = await call('read', user, 'GET', `/v1/orders/${id}`);
        if (current.status !== 200) {
          await sleep(150);
          continue;
        }
        const res = await call(action, user, 'POST', `/v1/orders/${id}/${action}`, body, { 'if-match': current.etag! });
        if (res.status === 200 || (res.status >= 400 && res.status < 500 && res.status !== 412)) return res.status;
        await sleep(100 + Math.random() * 150);
      }
      return undefined;
    };

    const abandoned: [string, number][] = [];
    const placer = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const key = `fault-${n}-${i}-${randomUUID()}`;
        const id = await place(key, n + i, true);
        if (id) await act('demo-unit-operator', id, 'submit');
        else abandoned.push([key, n + i]);
      }
    };
    const approver = async (user: string, filter: string) => {
      while (!stop) {
        const list = await call('list', user, 'GET', `/v1/orders?awaitingMyApproval=true&limit=10${filter}`);
        const items = (list.json.items as { id: string }[] | undefined) ?? [];
        if (!items.length) {
          await sleep(200);
          continue;
        }
        await act(user, items[Math.floor(Math.random() * items.length)]!.id, 'approve');
      }
    };
    const canceller = async () => {
      while (!stop) {
        await sleep(300);
        const list = await call('list', 'demo-unit-operator', 'GET', '/v1/orders?status=approving&limit=20');
        const items = (list.json.items as { id: string }[] | undefined) ?? [];
        if (items.length) await act('demo-unit-operator', items[Math.floor(Math.random() * items.length)]!.id, 'cancel', { reason: '故障测试：释放预算' });
      }
    };
    const prober = async () => {
      while (!stop) {
        const started = performance.now();
        const at = Date.now();
        const status = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(3000) }).then(
          async (r) => (await r.text(), r.status),
          (e: Error) => (e.name === 'TimeoutError' ? ('timeout' as const) : ('network' as const)),
        );
        readyProbes.push({ at, status, ms: performance.now() - started });
        const last = outages.at(-1);
        if (status === 200 && last?.upAt && !last.readyAt) last.readyAt = Date.now();
        await sleep(100);
      }
    };

    const clients = [
      ...Array.from({ length: 7 }, (_, n) => placer(n)),
      approver('demo-street-operator', ''),
      approver('demo-street-operator', ''),
      approver('demo-district-admin', ''),
      approver('demo-district-admin', ''),
      canceller(),
    ];
    expect(clients).toHaveLength(CLIENTS);
    const probing = prober();

    // The outages.
    await sleep(2500);
    for (let i = 0; i < OUTAGES; i++) {
      const how = i % 2 === 0 ? 'SIGKILL' : 'immediate';
      const outage: Outage = { how, downAt: Date.now() };
      outages.push(outage);
      if (how === 'SIGKILL') await pg.kill();
      else await pg.stopImmediate();
      // Down from here: a busy machine can take longer than the 200 ms grace to stop it.
      outage.downAt = Date.now();
      await sleep(between(1000, 3000));
      await pg.start();
      outage.upAt = Date.now();
      await sleep(between(2500, 3500));
      expect(server.exitCode, `the server exited during outage ${i + 1}:\n${logs.slice(-20).join('\n')}`).toBeNull();
    }
    await sleep(1500);
    stop = true;
    await Promise.all([...clients, probing]);

    // A key still unanswered when the load stopped gets its 201 now (the database is
    // up): its order may have been written before its connection was lost.
    for (const [key, i] of abandoned) await place(key, i, false);
    expect(server.exitCode).toBeNull();

    // Every failure: 503 problem+json with Retry-After, within 3 s. Never a 500, never a dropped connection.
    const failures = outcomes.filter((o) => o.status === 'network' || o.status === 'timeout' || (typeof o.status === 'number' && o.status >= 500));
    const bad = failures.filter((o) => o.status !== 503 || !o.problem || !o.retryAfter || o.ms > 3000);
    const clientErrors = outcomes.filter((o) => typeof o.status === 'number' && o.status >= 400 && o.status < 500);
    // 409: a full budget, a state changed by another client; 412: a stale ETag; 403: an
    // approval that another approver's (or our own lost answer's) step moved to the next level.
    const unexpected4xx = clientErrors.filter((o) => ![409, 412, 422].includes(o.status as number) && !(o.status === 403 && o.what === 'approve'));

    // /ready: within 1 s always; 503 while down; 200 again within 2 s of the database.
    const slowReady = readyProbes.filter((p) => p.status === 'timeout' || p.status === 'network' || p.ms > 1000);
    const recoveries = outages.map((o) => (o.readyAt && o.upAt ? o.readyAt - o.upAt : Infinity));
    const downProbes = readyProbes.filter((p) => outages.some((o) => p.at > o.downAt + 200 && o.upAt && p.at + 100 < o.upAt));

    // The database agrees.
    const db = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const ids = [...placed.values()];
      const orders = await db<{ id: string; version: number; status: string; reserved_amount: number; cost: number }[]>`
        select id, version, status, reserved_amount, cost from kernel.orders where id in ${db(ids)}`;
      const created = await db<{ n: number }[]>`
        select count(*)::int as n from kernel.orders where created_by = 'demo-unit-operator' and id not in ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e002')`;
      const budgetRows = await db<{ region_code: string; reserved: string; spent: string; allocated: string; held: string; settled: string; below: string }[]>`
        select b.region_code, b.reserved, b.spent, b.allocated,
          coalesce((select sum(o.reserved_amount) from kernel.orders o where o.region_code = b.region_code and o.budget_year = b.year), 0) as held,
          coalesce((select sum(o.cost) from kernel.orders o where o.region_code = b.region_code and o.budget_year = b.year and o.status in ('delivered', 'closed')), 0) as settled,
          coalesce((select sum(c.allocated) from kernel.budgets c join kernel.regions r on r.code = c.region_code where r.parent_code = b.region_code and c.year = b.year), 0) as below
        from kernel.budgets b`;
      const audit = await db<{ entity_id: string; records: number; creates: number }[]>`
        select entity_id, count(*)::int as records, count(*) filter (where action = 'order.create')::int as creates
        from kernel.audit_log where entity_type = 'order' and entity_id in ${db(ids)} group by entity_id`;
      const auditById = new Map(audit.map((a) => [a.entity_id, a]));

      const summary = {
        seconds: Math.round((Date.now() - testStarted) / 1000),
        outages: outages.map((o) => o.how),
        requests: outcomes.length,
        ordersPlaced: placed.size,
        submitted: outcomes.filter((o) => o.what === 'submit' && o.status === 200).length,
        approved: outcomes.filter((o) => o.what === 'approve' && o.status === 200).length,
        cancelled: outcomes.filter((o) => o.what === 'cancel' && o.status === 200).length,
        failures: failures.length,
        failuresNot503: bad.length,
        maxFailureMs: Math.round(Math.max(0, ...failures.map((f) => f.ms))),
        p99FailureMs: Math.round([...failures.map((f) => f.ms)].sort((a, b) => a - b)[Math.floor(failures.length * 0.99)] ?? 0),
        clientErrors: Object.fromEntries([...new Set(clientErrors.map((o) => `${o.status} ${o.code}`))].map((k) => [k, clientErrors.filter((o) => `${o.status} ${o.code}` === k).length])),
        readyProbes: readyProbes.length,
        readyDuringOutages: downProbes.length,
        readyMaxMs: Math.round(Math.max(0, ...readyProbes.map((p) => p.ms))),
        readyRecoveryMs: recoveries.map((r) => Math.round(r)),
        budgets: budgetRows.map((b) => `${b.region_code}: reserved ${b.reserved} (orders hold ${b.held})`),
      };
      console.log(`fault test summary: ${JSON.stringify(summary, null, 1)}`);

      expect(server.exitCode).toBeNull();
      expect(bad, 'failures that were not a 503 problem+json with Retry-After within 3 s').toEqual([]);
      expect(unexpected4xx, 'unexpected client errors').toEqual([]);
      expect(failures.length, 'the outages were felt').toBeGreaterThan(0);
      expect(slowReady, '/ready answers within 1 s').toEqual([]);
      expect(downProbes.length).toBeGreaterThan(OUTAGES);
      expect(downProbes.filter((p) => p.status !== 503), '/ready says 503 while the database is down').toEqual([]);
      expect(recoveries.filter((r) => r > 2000), '/ready says 200 within 2 s of the database').toEqual([]);

      expect([...replies.values()].filter((ids) => ids.size !== 1), 'one order per Idempotency-Key').toEqual([]);
      expect(orders.map((o) => o.id).sort(), 'every acknowledged order exists').toEqual(ids.sort());
      expect(created[0]!.n, 'no order without its key').toBe(placed.size);
      for (const b of budgetRows) {
        expect(Number(b.reserved), `budget ${b.region_code}: reserved = what its orders hold`).toBe(Number(b.held));
        expect(Number(b.spent), `budget ${b.region_code}: spent = its delivered orders`).toBe(Number(b.settled));
        expect(Number(b.allocated) - Number(b.below) - Number(b.reserved) - Number(b.spent), `budget ${b.region_code} not overspent`).toBeGreaterThanOrEqual(0);
      }
      for (const o of orders) {
        expect(auditById.get(o.id), `audit of order ${o.id}`).toEqual({ entity_id: o.id, records: o.version, creates: 1 });
      }
    } finally {
      await db.end();
    }

    const fatal = logs.filter((l) => /"level":60/.test(l));
    expect(fatal).toEqual([]);
    expect(scanLogText(logs.join('\n'), 'server stdout', { literals: Object.values(tokens) })).toEqual([]);
  });

  it('stops on SIGTERM under load: every request sent before is answered, then exit 0', async () => {
    expect(server.exitCode).toBeNull();
    // A pool of its own, exactly as large as a round: the second round goes out on the
    // very connections the first opened (never a new one, which a server that stopped
    // listening must refuse), and none is left over from the test above — where some
    // sat idle for about the server's 60 s connection timeout, so that the server could
    // be closing one just as a request went out on it.
    const agent = new Agent({ keepAlive: true, maxSockets: 24 });
    const headers = { authorization: `Bearer ${tokens['demo-unit-operator']}` };
    const request = (i: number) =>
      new Promise<number | string>((resolve) => {
        const req = get(`${base}/v1/orders?limit=${1 + (i % 20)}`, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
          res.on('error', (e) => resolve(`dropped: ${e.message}`));
        });
        req.on('error', (e) => resolve(`dropped: ${e.message}`));
      });
    const round = () => Array.from({ length: 24 }, (_, i) => request(i));
    // Open keep-alive connections first: the requests below are sent on connections the
    // server has accepted, some of them idle when the signal arrives.
    expect(await Promise.all(round())).toEqual(Array(24).fill(200));
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(24);
    const started = Date.now();
    const inFlight = round();
    await sleep(5);
    server.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    const { code } = await exit;
    expect(statuses.filter((s) => typeof s === 'string')).toEqual([]);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(logs.some((l) => l.includes('"msg":"shut down"'))).toBe(true);
    agent.destroy();
  });
});
