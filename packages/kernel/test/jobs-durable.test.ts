/*
 * Durable events (the outbox): a durable subscription's delivery is written in the
 * transaction of the change and delivered by the job runner after the commit, at least
 * once, with the same event id on every attempt. PGlite, and PostgreSQL with DATABASE_URL.
 */
import { definePlugin, on, queryRows, transaction } from '@diandan/kernel';
import { createTestServer } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempts, outboxProbe, probeHappened, received, type Received } from './fixtures/outbox-probe/plugin.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(50);
  }
}

/** A second durable subscriber that always fails and is never retried: its deliveries go to the dead letters. */
const hopeless = definePlugin({
  name: 'hopeless',
  version: '1.0.0',
  kernel: '^0.1.0',
  hooks: () => [
    on(
      probeHappened,
      async (event) => {
        if (event.label.startsWith('dead-')) throw new Error(`cannot take ${event.label}`);
      },
      { durable: true, retryLimit: 0 },
    ),
  ],
});

describe('durable events', () => {
  let app: FastifyInstance;
  const db = () => app.diandan.database.db;
  const delivered = (label: string) => eventually(async () => (await received(db(), label))[0]);

  beforeAll(async () => {
    app = await createTestServer({ plugins: [outboxProbe.configure(), hopeless.configure()], kernel: { jobs: { pollingIntervalSeconds: 0.5 } } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('are delivered after the commit, with an event id and a frozen payload', async () => {
    let before: number | undefined;
    await transaction(db(), async (tx) => {
      await app.diandan.hooks.publish(tx, probeHappened, { label: 'committed', nested: { list: [1, 2] } });
      // Nothing is delivered while the transaction is open.
      await sleep(1200);
      before = (await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from outbox_probe.received where label = 'committed'`))[0]!.n;
    });
    expect(before).toBe(0);
    const got: Received = await delivered('committed');
    expect(got.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(got).toMatchObject({ hook_id: 'outbox-probe.happened', payload: { label: 'committed', nested: { list: [1, 2] } }, frozen: true });
    expect(await attempts(db(), got.event_id)).toEqual([1]);
  });

  it('are not delivered when the transaction rolls back', async () => {
    await expect(
      transaction(db(), async (tx) => {
        await app.diandan.hooks.publish(tx, probeHappened, { label: 'rolled-back' });
        throw new Error('change abandoned');
      }),
    ).rejects.toThrow('change abandoned');
    // A later event of the same subscription is delivered; the abandoned one, written first, never is.
    await transaction(db(), (tx) => app.diandan.hooks.publish(tx, probeHappened, { label: 'after-rollback' }));
    await delivered('after-rollback');
    await sleep(500);
    expect(await received(db(), 'rolled-back')).toEqual([]);
    // Attempts so far: 'committed' and 'after-rollback', once each.
    expect(await queryRows(db(), sql`select count(*)::int as n from outbox_probe.attempts`)).toEqual([{ n: 2 }]);
  });

  it('are retried after the handler fails, with the same event id', async () => {
    await transaction(db(), (tx) => app.diandan.hooks.publish(tx, probeHappened, { label: 'flaky', failFirst: true }));
    const got = await delivered('flaky');
    expect(await attempts(db(), got.event_id)).toEqual([1, 2]);
  });

  it('reach durable subscribers of an event emitted outside a transaction', async () => {
    await app.diandan.hooks.emit(probeHappened, { label: 'emitted' });
    expect((await delivered('emitted')).hook_id).toBe('outbox-probe.happened');
  });

  it('that fail for good are kept in the dead letters, and the other subscribers still get them', async () => {
    await transaction(db(), (tx) => app.diandan.hooks.publish(tx, probeHappened, { label: 'dead-end' }));
    const got = await delivered('dead-end');
    const dead = await eventually(async () => {
      const rows = await queryRows(
        db(),
        sql`select data, source_name from pgboss.job where name = 'events.dead-letters' and data->>'eventId' = ${got.event_id}`,
      );
      return rows[0];
    });
    expect(dead).toMatchObject({ source_name: 'events.hopeless.outbox-probe.happened.1', data: { payload: { label: 'dead-end' } } });
  });
});
