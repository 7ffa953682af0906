/*
 * Background jobs through their public entry points: a test plugin defines jobs in
 * `init` and sends them from a route (as its actor) or directly; `GET /v1/jobs…` shows
 * them. Runs on PGlite, and on PostgreSQL with DATABASE_URL set.
 */
import { definePlugin, queryRows, requireActor, transaction, type JobDefinition, type JobRun, type Jobs } from '@diandan/kernel';
import { authHeader, createTestDatabase, createTestServer, seedRegions, testDriver } from '@diandan/testing';
import { sql, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` answers something truthy, polling; fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(50);
  }
}

/** A gate a job waits on until the test opens it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

interface Probe {
  jobs: Jobs;
  echo: JobDefinition<{ n: number }, { doubled: number }>;
  flaky: JobDefinition<{ tag: string }, string>;
  doomed: JobDefinition<{ tag: string }, never>;
  slow: JobDefinition<{ tag: string }, string>;
  crunch: JobDefinition<{ ms: number }, { spins: number; isMainThread: boolean; threadId: number }>;
  /** Start times of each run of `flaky`, by tag. */
  flakyRuns: Map<string, number[]>;
  /** Gates `slow` runs wait on, by tag; `slow` also ends when its signal aborts. */
  gates: Map<string, ReturnType<typeof gate>>;
  /** What `slow` saw of its signal, by tag. */
  aborted: Map<string, boolean>;
}

const probe = definePlugin({
  name: 'probe-jobs',
  version: '1.0.0',
  kernel: '^0.1.0',
  init(ctx): Probe {
    const flakyRuns = new Map<string, number[]>();
    const gates = new Map<string, ReturnType<typeof gate>>();
    const aborted = new Map<string, boolean>();
    return {
      jobs: ctx.jobs,
      flakyRuns,
      gates,
      aborted,
      echo: ctx.jobs.define('echo', async (job: JobRun<{ n: number }>) => ({ doubled: job.data.n * 2 })),
      flaky: ctx.jobs.define(
        'flaky',
        async (job: JobRun<{ tag: string }>) => {
          flakyRuns.set(job.data.tag, [...(flakyRuns.get(job.data.tag) ?? []), Date.now()]);
          if (job.attempt === 1) throw new Error('first attempt fails');
          return `done on attempt ${job.attempt}`;
        },
        { retryLimit: 2, retryDelaySeconds: 1 },
      ),
      doomed: ctx.jobs.define(
        'doomed',
        async (job: JobRun<{ tag: string }>) => {
          throw new Error(`no luck for ${job.data.tag} (attempt ${job.attempt})`);
        },
        { retryLimit: 1, retryDelaySeconds: 1 },
      ),
      slow: ctx.jobs.define(
        'slow',
        async (job: JobRun<{ tag: string }>) => {
          await job.progress(50, `halfway through ${job.data.tag}`);
          const g = gates.get(job.data.tag) ?? gate();
          gates.set(job.data.tag, g);
          const abort = new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
          await Promise.race([g.opened, abort]);
          aborted.set(job.data.tag, job.signal.aborted);
          if (job.signal.aborted) throw new Error('aborted');
          return `${job.data.tag} finished`;
        },
        { concurrency: 3 },
      ),
      crunch: ctx.jobs.defineWorker('crunch', { module: new URL('./fixtures/jobs/crunch.worker.mjs', import.meta.url) }),
    };
  },
  routes(app, _ctx, probe: Probe) {
    // Sends `slow` or `echo` as the caller: the caller owns the job.
    app.post(
      '/v1/probe-jobs/:job',
      { schema: { params: Type.Object({ job: Type.Union([Type.Literal('slow'), Type.Literal('echo')]) }), body: Type.Object({ tag: Type.String() }) } },
      async (req, reply) => {
        const owner = requireActor(req);
        const id =
          req.params.job === 'slow'
            ? await probe.jobs.send(probe.slow, { tag: req.body.tag }, { owner })
            : await probe.jobs.send(probe.echo, { n: req.body.tag.length }, { owner });
        reply.code(202);
        return { id };
      },
    );
  },
});

/** Lets the `slow` run tagged `tag` finish (before or after it started). */
function release(p: Probe, tag: string): void {
  const g = p.gates.get(tag) ?? gate();
  p.gates.set(tag, g);
  g.open();
}

const servicesOf = (app: FastifyInstance) => app.diandan.plugins.find((p) => p.definition.name === 'probe-jobs')!.services as Probe;

const CITY_ADMIN = { roles: ['city-admin'], region: '440100', sub: 'city-admin' };
const DISTRICT_IN = { roles: ['district-admin'], region: '440103', sub: 'liwan-admin' };
const DISTRICT_OUT = { roles: ['district-admin'], region: '440104', sub: 'yuexiu-admin' };
const ALICE = { roles: ['community-operator'], region: '440103001001', sub: 'alice' };
const BOB = { roles: ['community-operator'], region: '440103001001', sub: 'bob' };

describe('background jobs', () => {
  let app: FastifyInstance;
  let p: Probe;
  const get = async (id: string, who: object) => app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: await authHeader(who as never) });

  beforeAll(async () => {
    app = await createTestServer({ plugins: [probe.configure()], kernel: { jobs: { pollingIntervalSeconds: 0.5 } } });
    await seedRegions(app);
    p = servicesOf(app);
  });
  afterAll(async () => {
    for (const g of p?.gates.values() ?? []) g.open();
    await app?.close();
  });

  it('runs a job and keeps its result', async () => {
    const id = await p.jobs.send(p.echo, { n: 21 });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const done = await p.jobs.wait(id!);
    expect(done).toMatchObject({ id, queue: 'probe-jobs.echo', plugin: 'probe-jobs', state: 'completed', result: { doubled: 42 }, attempts: 1, error: null, progress: 100, ownerId: null });
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!));
  });

  it('retries a failed run after a back-off, then completes', async () => {
    const id = await p.jobs.send(p.flaky, { tag: 'once' });
    const done = await p.jobs.wait(id!);
    expect(done).toMatchObject({ state: 'completed', attempts: 2, result: 'done on attempt 2', error: null });
    const [first, second] = p.flakyRuns.get('once')!;
    // retryDelaySeconds: 1, doubled with jitter: the second run starts 1–2 s after the first.
    expect(second! - first!).toBeGreaterThanOrEqual(900);
  });

  it('fails for good after its retries, keeping the error', async () => {
    const id = await p.jobs.send(p.doomed, { tag: 'x' });
    const done = await p.jobs.wait(id!);
    expect(done).toMatchObject({ state: 'failed', attempts: 2, error: 'no luck for x (attempt 2)', result: null });
    expect(done.finishedAt).not.toBeNull();
  });

  it('sends inside a transaction: the job exists only if the transaction commits', async () => {
    let abandoned: string | null = null;
    await expect(
      transaction(app.diandan.database.db, async (tx) => {
        abandoned = await p.jobs.send(p.echo, { n: 100 }, { tx });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(abandoned).not.toBeNull();
    await expect(p.jobs.wait(abandoned!)).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect(await rowsOf(app, sql`select id from pgboss.job where id = ${abandoned}`)).toEqual([]);
    const kept = await transaction(app.diandan.database.db, (tx) => p.jobs.send(p.echo, { n: 4 }, { tx }));
    expect(await p.jobs.wait(kept!)).toMatchObject({ state: 'completed', result: { doubled: 8 } });
  });

  it('sends at most one queued or active job per singleton key', async () => {
    const first = await p.jobs.send(p.slow, { tag: 'single' }, { singletonKey: 'only-one' });
    expect(first).not.toBeNull();
    expect(await p.jobs.send(p.slow, { tag: 'single-2' }, { singletonKey: 'only-one' })).toBeNull();
    // Another key, or none, is another job.
    const other = await p.jobs.send(p.slow, { tag: 'single-3' }, { singletonKey: 'another' });
    expect(other).not.toBeNull();
    release(p, 'single');
    release(p, 'single-3');
    expect((await p.jobs.wait(first!)).state).toBe('completed');
    await p.jobs.wait(other!);
    // Once finished, the key is free again.
    const again = await p.jobs.send(p.echo, { n: 1 }, { singletonKey: 'only-one' });
    expect(again).not.toBeNull();
    await p.jobs.wait(again!);
  });

  it('shows progress and its message over HTTP while the job runs', async () => {
    const sent = await app.inject({ method: 'POST', url: '/v1/probe-jobs/slow', headers: await authHeader(ALICE), payload: { tag: 'progress' } });
    expect(sent.statusCode).toBe(202);
    const { id } = sent.json() as { id: string };
    const running = await eventually(async () => {
      const res = await get(id, ALICE);
      expect(res.statusCode).toBe(200);
      const job = res.json();
      return job.state === 'active' && job.progress === 50 ? job : undefined;
    });
    expect(running).toMatchObject({ id, state: 'active', progress: 50, message: 'halfway through progress', ownerId: 'alice', finishedAt: null });
    release(p, 'progress');
    await p.jobs.wait(id);
    expect((await get(id, ALICE)).json()).toMatchObject({ state: 'completed', progress: 100, result: 'progress finished' });
  });

  it('cancels a queued job, and refuses to cancel it twice', async () => {
    const id = await p.jobs.send(p.echo, { n: 5 }, { startAfter: 3600 });
    const res = await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: await authHeader(CITY_ADMIN) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, state: 'cancelled', attempts: 0 });
    expect((await p.jobs.wait(id!)).state).toBe('cancelled');
    const again = await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: await authHeader(CITY_ADMIN) });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('INVALID_TRANSITION');
  });

  it('cancels a running job: its signal is aborted and it ends cancelled', async () => {
    const sent = await app.inject({ method: 'POST', url: '/v1/probe-jobs/slow', headers: await authHeader(ALICE), payload: { tag: 'cancel-me' } });
    const { id } = sent.json() as { id: string };
    await eventually(async () => (await get(id, ALICE)).json().state === 'active');
    const res = await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: await authHeader(ALICE) });
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('cancelled');
    await eventually(async () => p.aborted.has('cancel-me'));
    expect(p.aborted.get('cancel-me')).toBe(true);
    await sleep(300);
    expect((await get(id, ALICE)).json()).toMatchObject({ state: 'cancelled', result: null });
  });

  it('shows a job to its owner and administrators within scope, to nobody else', async () => {
    const sent = await app.inject({ method: 'POST', url: '/v1/probe-jobs/echo', headers: await authHeader(ALICE), payload: { tag: 'abc' } });
    const { id } = sent.json() as { id: string };
    await p.jobs.wait(id);
    const platform = (await p.jobs.send(p.echo, { n: 1 }))!;
    await p.jobs.wait(platform);

    const status = async (jobId: string, who: object) => (await get(jobId, who)).statusCode;
    expect(await status(id, ALICE)).toBe(200);
    expect(await status(id, DISTRICT_IN)).toBe(200);
    expect(await status(id, CITY_ADMIN)).toBe(200);
    expect(await status(id, DISTRICT_OUT)).toBe(404);
    expect(await status(id, BOB)).toBe(404);
    const hidden = await get(id, BOB);
    expect(hidden.json().code).toBe('JOB_NOT_FOUND');
    // A job without an owner belongs to the platform: administrators at the top only.
    expect(await status(platform, CITY_ADMIN)).toBe(200);
    expect(await status(platform, DISTRICT_IN)).toBe(404);
    expect(await status(platform, ALICE)).toBe(404);
    // Nor may they cancel what they cannot see.
    const refused = await app.inject({ method: 'POST', url: `/v1/jobs/${platform}/cancel`, headers: await authHeader(DISTRICT_IN) });
    expect(refused.statusCode).toBe(404);

    const list = async (who: object, query = '') =>
      ((await app.inject({ method: 'GET', url: `/v1/jobs${query}`, headers: await authHeader(who as never) })).json().items as { id: string }[]).map((j) => j.id);
    expect(await list(ALICE)).toContain(id);
    expect(await list(ALICE)).not.toContain(platform);
    expect(await list(BOB)).toEqual([]);
    expect(await list(DISTRICT_OUT)).toEqual([]);
    expect(await list(DISTRICT_IN)).toContain(id);
    expect(await list(DISTRICT_IN)).not.toContain(platform);
    expect(await list(CITY_ADMIN)).toEqual(expect.arrayContaining([id, platform]));
    expect(await list(CITY_ADMIN, '?queue=probe-jobs.echo&state=completed')).toEqual(expect.arrayContaining([id, platform]));
    expect(await list(CITY_ADMIN, '?queue=probe-jobs.doomed&state=completed')).toEqual([]);
    expect((await get(id, { roles: ['city-admin'], region: '440100' })).statusCode).toBe(200);
  });

  it('pages the list newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await app.inject({ method: 'POST', url: '/v1/probe-jobs/echo', headers: await authHeader({ ...BOB, sub: 'pager' }), payload: { tag: `p${i}` } })).json().id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        headers: await authHeader({ ...BOB, sub: 'pager' }),
      });
      const page = res.json() as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('runs a CPU-heavy job in a worker thread, with progress, while the event loop stays responsive', async () => {
    let worst = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    try {
      const id = (await p.jobs.send(p.crunch, { ms: 1500 }))!;
      // While the thread spins, HTTP answers at once, and shows the progress it posted.
      let slowest = 0;
      const halfway = await eventually(async () => {
        const asked = performance.now();
        const res = await get(id, CITY_ADMIN);
        slowest = Math.max(slowest, performance.now() - asked);
        const job = res.json();
        return job.progress === 50 ? job : undefined;
      });
      expect(halfway).toMatchObject({ state: 'active', message: 'halfway' });
      expect(slowest).toBeLessThan(700);
      const done = await p.jobs.wait(id);
      expect(done.state).toBe('completed');
      expect(done.result).toMatchObject({ isMainThread: false });
      expect((done.result as { spins: number }).spins).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
    // 1.5 s of CPU ran, yet no timer waited anywhere near that long.
    expect(worst).toBeLessThan(700);
  });

  it('schedules the idempotency-key purge hourly, and the purge runs as a job', async () => {
    const rows = await rowsOf(app, sql`select name, key, cron, timezone from pgboss.schedule where name = 'kernel.purge-idempotency-keys'`);
    expect(rows).toEqual([{ name: 'kernel.purge-idempotency-keys', key: '', cron: '17 * * * *', timezone: 'UTC' }]);
    await app.diandan.database.db.execute(
      sql`insert into kernel.idempotency_keys (scope, key, fingerprint, status, response, created_at)
          values ('test', 'old', 'f', 201, '{}', now() - interval '3 days'), ('test', 'new', 'f', 201, '{}', now())`,
    );
    const purge = { plugin: 'kernel', name: 'purge-idempotency-keys', queue: 'kernel.purge-idempotency-keys' } as JobDefinition<object, unknown>;
    const done = await p.jobs.wait((await p.jobs.send(purge, {}))!);
    expect(done).toMatchObject({ state: 'completed', result: { purged: 1 }, ownerId: null });
    expect(await rowsOf(app, sql`select key from kernel.idempotency_keys where scope = 'test'`)).toEqual([{ key: 'new' }]);
  });

  it('forgets the records of jobs finished more than jobRecordDays (30) ago, in a daily job', async () => {
    const rows = await rowsOf(app, sql`select cron from pgboss.schedule where name = 'kernel.purge-job-records'`);
    expect(rows).toEqual([{ cron: '41 3 * * *' }]);
    await app.diandan.database.db.execute(
      sql`insert into kernel.jobs (id, queue, plugin, state, finished_at) values
          ('00000000-0000-4000-8000-0000000000a1', 'test.old', 'test', 'completed', now() - interval '31 days'),
          ('00000000-0000-4000-8000-0000000000a2', 'test.recent', 'test', 'failed', now() - interval '2 days'),
          ('00000000-0000-4000-8000-0000000000a3', 'test.stuck', 'test', 'queued', null)`,
    );
    const purge = { plugin: 'kernel', name: 'purge-job-records', queue: 'kernel.purge-job-records' } as JobDefinition<object, unknown>;
    const done = await p.jobs.wait((await p.jobs.send(purge, {}))!);
    expect(done).toMatchObject({ state: 'completed', result: { purged: 1 } });
    expect(await rowsOf(app, sql`select queue from kernel.jobs where plugin = 'test' order by queue`)).toEqual([{ queue: 'test.recent' }, { queue: 'test.stuck' }]);
  });

  it('refuses to send what no plugin defined', async () => {
    const ghost = { plugin: 'nobody', name: 'ghost', queue: 'nobody.ghost' } as JobDefinition<object, unknown>;
    await expect(p.jobs.send(ghost, {})).rejects.toThrow(/No job "nobody.ghost"/);
  });
});

const rowsOf = (app: FastifyInstance, query: SQL) => queryRows(app.diandan.database.db, query);

describe.runIf(testDriver() === 'postgres')('background jobs across processes (PostgreSQL)', () => {
  it('stores a cron schedule once when two servers share the database', async () => {
    const db = await createTestDatabase();
    const scheduler = definePlugin({
      name: 'probe-cron',
      version: '1.0.0',
      kernel: '^0.1.0',
      init: (ctx) => ({ jobs: ctx.jobs, tick: ctx.jobs.define('tick', async () => 'tock') }),
      ready: (_ctx, s) => s.jobs.schedule(s.tick, '*/5 * * * *', {}),
    });
    const one = await createTestServer({ database: db.config, plugins: [scheduler.configure()] });
    const two = await createTestServer({ database: db.config, plugins: [scheduler.configure()] });
    try {
      const rows = await rowsOf(one, sql`select name, key, cron from pgboss.schedule order by name`);
      expect(rows).toEqual([
        { name: 'kernel.purge-idempotency-keys', key: '', cron: '17 * * * *' },
        { name: 'kernel.purge-job-records', key: '', cron: '41 3 * * *' },
        { name: 'probe-cron.tick', key: '', cron: '*/5 * * * *' },
      ]);
    } finally {
      await one.close();
      await two.close();
      await db.drop();
    }
  });
});
