/*
 * When the job workers start: a job due at start-up (sent from a plugin's `ready`, as
 * the demo seeds do) is not run while the server is still starting — on PGlite its
 * queries would hold the one thread the start runs on. `createServer` starts the
 * workers once its routes are ready, `serve` once it listens. Runs on PGlite, and on
 * PostgreSQL with DATABASE_URL set.
 */
import { definePlugin, serve, type JobDefinition } from '@diandan/kernel';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, createTestServer, TEST_AUTH_SECRET, TEST_LEVELS, TEST_PERSONAL_DATA_KEY, type TestDatabase } from '@diandan/testing';
import { afterEach, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A plugin that sends a job from `ready` and records, when it runs, how far the start had got. */
function startupProbe() {
  const seen: { routesRegistered: boolean; listening: boolean | undefined }[] = [];
  let routesRegistered = false;
  let app: FastifyInstance | undefined;
  const plugin = definePlugin({
    name: 'probe-startup-jobs',
    version: '1.0.0',
    kernel: '^0.1.0',
    init: (ctx): { due: JobDefinition<Record<string, never>, null> } => ({
      due: ctx.jobs.define('due', async () => {
        seen.push({ routesRegistered, listening: app?.server.listening });
        return null;
      }),
    }),
    // Sent without a delay: a worker already polling would take it at once.
    ready: async (ctx, { due }) => void (await ctx.jobs.send(due, {})),
    routes: async (scope) => {
      app = scope as unknown as FastifyInstance;
      // Route registration takes time on a real deployment (hundreds of routes); here, a little.
      await sleep(300);
      routesRegistered = true;
    },
  });
  return { plugin, seen };
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('jobs due at start-up', () => {
  it('createServer: run once the routes are registered, not while the plugins start', async () => {
    const probe = startupProbe();
    const app = await createTestServer({ plugins: [probe.plugin.configure({})] });
    close = () => app.close();
    await until(() => probe.seen.length > 0);
    expect(probe.seen[0]!.routesRegistered).toBe(true);
  });

  it('serve: run once the server listens', async () => {
    const probe = startupProbe();
    const database: TestDatabase = await createTestDatabase();
    // serve() installs signal handlers; the test closes the server itself.
    const before = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
    const app = await serve(
      {
        city: 'Test City',
        levels: TEST_LEVELS,
        auth: { secret: TEST_AUTH_SECRET },
        personalData: { key: TEST_PERSONAL_DATA_KEY },
        database: database.config,
        logger: false,
        plugins: [probe.plugin.configure({})],
      },
      { port: 0, host: '127.0.0.1' },
    );
    close = async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.off(signal, l);
      }
      await app.close();
      await database.drop();
    };
    await until(() => probe.seen.length > 0);
    expect(probe.seen[0]).toEqual({ routesRegistered: true, listening: true });
  });

  it('a plugin whose ready() waits for its own job still starts (ctx.jobs.wait starts the workers)', async () => {
    let state: string | undefined;
    const waiting = definePlugin({
      name: 'probe-waiting-seed',
      version: '1.0.0',
      kernel: '^0.1.0',
      init: (ctx) => ({ seed: ctx.jobs.define<Record<string, never>, string>('seed', async () => 'seeded') }),
      ready: async (ctx, { seed }) => {
        const id = (await ctx.jobs.send(seed, {}))!;
        state = (await ctx.jobs.wait(id, { timeoutMs: 10_000 })).state;
      },
    });
    const app = await createTestServer({ plugins: [waiting.configure({})] });
    close = () => app.close();
    expect(state).toBe('completed');
  });
});
