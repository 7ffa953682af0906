/** Many citizens booking a few seats at once never oversell (a real race on PostgreSQL; serialised on PGlite). */
import { client, createTestServer, seedRegions, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { venues } from '../src/index.js';
import { citizen, phone, session, useRecorder, venue } from './support.js';

let app: FastifyInstance;
let call: Call;
beforeAll(async () => {
  app = await createTestServer({ plugins: [venues()] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

it('60 concurrent reservations for a 10-seat session confirm exactly 10, and waitlist the rest', async () => {
  const sender = useRecorder(app);
  const s = await session(call, (await venue(call, '440103001', 100)).id, { capacity: 10 });
  const citizens = [];
  for (let i = 0; i < 60; i++) citizens.push(await citizen(call, sender, phone(900 + i)));
  const replies = await Promise.all(citizens.map((c) => call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { waitlist: true }, c)));
  expect(replies.filter((r) => r.status >= 500)).toEqual([]);
  expect(replies.filter((r) => r.status === 201)).toHaveLength(10);
  expect(replies.filter((r) => r.status === 202)).toHaveLength(50);
  const after = (await call(null, 'GET', `/v1/venue-sessions/${s.id}`)).body;
  expect(after).toMatchObject({ confirmed: 10, available: 0 });
});
