/** Shared test data and helpers. Every phone here is synthetic. */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOG_CAPTURE_ENV, expectStatus, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import type { VenueDetails } from '../src/index.js';

/** Personal data the tests store: none of it may ever appear in a response or a log line. */
export const PHONES = ['13800138000', '13912345678', '13700001111', '13600002222', '13500003333'] as const;

/** Weekdays 09:00–17:00, weekends 09:00–21:00. */
export const WEEKLY = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens: '09:00', closes: '17:00' })).concat([6, 7].map((weekday) => ({ weekday, opens: '09:00', closes: '21:00' })));

let serial = 0;
/** A kernel venue in `regionCode` (city admin), through the kernel's own route. */
export async function venue(call: Call, regionCode = '440103001', capacity = 200, kind = 'culture-centre'): Promise<any> {
  serial++;
  return expectStatus(await call(testActors.cityAdmin, 'POST', '/v1/venues', { regionCode, name: `测试文化馆${serial}（虚构）`, kind, capacity, address: `测试路${serial}号` }), 201, 'venue');
}

/** The plugin's services, for the clock and jobs. */
export function venuesOf(app: FastifyInstance) {
  const plugin = app.diandan.plugins.find((p) => p.definition.name === 'venues')!;
  // The plugin's services as its init returned them (typed loosely: tests reach into several).
  const services = plugin.services as Record<string, any> & { details: VenueDetails; clock: { now: () => Date } };
  return Object.assign(Object.create(null) as Record<string, any>, services, { context: plugin.context }) as typeof services & { context: typeof plugin.context };
}

/** Waits until `check` holds (a durable delivery is a job). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where the recording sender keeps the codes it "sent", for the log scan (never a log file). */
export const CODES_FILE = 'otp-codes.txt';

/** A sender that records codes (and writes them where the log scan finds them, to make sure none is logged). */
export function recordingSender() {
  const codes = new Map<string, string>();
  return {
    codes,
    last: (phone: string) => codes.get(phone),
    async send({ phone, code }: { phone: string; code: string }) {
      codes.set(phone, code);
      const dir = process.env[LOG_CAPTURE_ENV];
      if (dir && dir !== 'off') await appendFile(join(dir, CODES_FILE), `${code}\n`);
    },
  };
}

/** Plugs a recording sender into a test server's citizens service. */
export function useRecorder(app: FastifyInstance) {
  const sender = recordingSender();
  venuesOf(app).citizens.useSender(sender);
  return sender;
}

/** Verifies `phone` through the HTTP one-time-code flow; the headers of the citizen it gives. */
export async function citizen(call: Call, sender: ReturnType<typeof recordingSender>, phone: string): Promise<{ 'x-citizen-token': string }> {
  const challenge = expectStatus(await call(null, 'POST', '/v1/citizen-codes', { phone }), 201, 'code');
  const verified = expectStatus(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: sender.last(phone) }), 200, 'verify');
  return { 'x-citizen-token': verified.token };
}

/** A synthetic mobile number of the 170 range no one has here: `170 0000 0000` + n. */
export const phone = (n: number) => `170${String(n).padStart(8, '0')}`;

/** Sets the plugin's clock (undefined: real time again). */
export function setClock(app: FastifyInstance, at: string | Date | undefined): void {
  venuesOf(app).clock.now = at === undefined ? () => new Date() : () => new Date(at);
}

/** A programme session at `venueId` (street operator of 440103001), starting `startsInMinutes` from the clock. */
export async function session(call: Call, venueId: string, body: Record<string, unknown> = {}, from: Date = new Date()): Promise<any> {
  const startsIn = (body.startsInMinutes as number | undefined) ?? 24 * 60;
  const { startsInMinutes: _s, ...rest } = body;
  const startsAt = new Date(from.getTime() + startsIn * 60_000);
  const payload = { title: '粤剧欣赏（测试）', startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 90 * 60_000).toISOString(), bookingOpensAt: new Date(from.getTime() - 60_000).toISOString(), ...rest };
  return expectStatus(await call(testActors.streetOperator, 'POST', `/v1/venues/${venueId}/sessions`, payload), 201, 'session');
}
