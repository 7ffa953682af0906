/*
 * The outbox survives a crash between commit and delivery. A child process (its own
 * Node process, running the kernel's sources through tsx) starts a server with a
 * durable subscriber and workers off, commits a change that publishes an event, and is
 * killed with SIGKILL as the first thing after the commit. A second server, in this
 * process and with workers on, opens the same database: the subscriber gets the event
 * exactly once. On PostgreSQL the database is a fresh one on the server; on PGlite a
 * data folder both processes open one after the other.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase, createTestServer, type TestDatabase } from '@diandan/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempts, change, outboxProbe, received } from './fixtures/outbox-probe/plugin.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kernelDir = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/outbox-probe/publish-and-die.ts', import.meta.url));

/** Runs the child to its death; resolves to how it ended and what it printed. */
function publishAndDie(database: object, label: string): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--conditions=@diandan/source', '--import', 'tsx', child, JSON.stringify(database), label], {
      cwd: kernelDir,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('durable events across a crash', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ persistent: true });
    if (db.driver === 'pglite') {
      // Start the folder from the blank template rather than from initdb (seconds in WASM).
      const template = (await createTestDatabase()).config.initialData!;
      const pg = await PGlite.create(db.config.dataDir!, { loadDataDir: template });
      await pg.close();
    }
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('delivers an event committed just before the process was killed, exactly once, after restart', async () => {
    const label = `kill-${randomBytes(4).toString('hex')}`;
    const died = await publishAndDie(db.config, label);
    expect(died.stderr).not.toMatch(/Error/);
    expect(died.stdout).toContain('started');
    expect(died.stdout).not.toContain('survived');
    expect(died.signal).toBe('SIGKILL');

    const app = await createTestServer({ database: db.config, plugins: [outboxProbe.configure()], kernel: { jobs: { pollingIntervalSeconds: 0.5 } } });
    try {
      const database = app.diandan.database.db;
      // The change committed in the killed process...
      expect(await change(database, label)).toBe(true);
      // ...and its event reaches the subscriber, once.
      const deadline = Date.now() + 20_000;
      while ((await received(database, label)).length === 0) {
        if (Date.now() > deadline) throw new Error(`the event of ${label} was never delivered`);
        await sleep(100);
      }
      await sleep(1500);
      const got = await received(database, label);
      expect(got).toHaveLength(1);
      expect(await attempts(database, got[0]!.event_id)).toEqual([1]);
    } finally {
      await app.close();
    }
  }, 180_000);
});
