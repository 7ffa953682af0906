/**
 * What the server logs: never SQL parameters, request bodies, tokens or personal data,
 * at any level, and no line over 2 KB — for the kernel's own lines and a plugin's.
 */
import { definePlugin, LOG_LINE_LIMIT, queryRows } from '@diandan/kernel';
import { authHeader, createTestServer, scanLogText, seedRegions, testToken } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PHONE = '13800138000';
const ID_NUMBER = '11010519491231002X';
const LANDLINE = '020-12345678';

const lines: string[] = [];
/** The lengths of the lines as written, newline included. */
const written: number[] = [];
const entries = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

// A plugin that does what careless code does: database errors carrying personal data
// in their parameters, messages and details, and logging it outright.
const careless = definePlugin({
  name: 'careless',
  version: '1.0.0',
  kernel: '^0.1.0',
  async init(ctx) {
    await queryRows(ctx.db, sql`create table if not exists public.citizens (phone text primary key, id_number text)`);
  },
  routes(app, ctx) {
    app.get('/test/cast', async () => queryRows(ctx.db, sql`select ${PHONE}::int as n`));
    app.post('/test/citizens', async () => {
      await queryRows(ctx.db, sql`insert into public.citizens values (${PHONE}, ${ID_NUMBER}) on conflict do nothing`);
      await queryRows(ctx.db, sql`insert into public.citizens values (${PHONE}, ${ID_NUMBER})`);
      return {};
    });
    app.get('/test/chatty', async (req) => {
      req.log.info({ citizen: { phone: PHONE, idNumber: ID_NUMBER, note: `call ${PHONE}` }, contactPhone: LANDLINE }, `citizen ${ID_NUMBER} called from ${PHONE}`);
      req.log.error({ dump: 'x'.repeat(50_000), list: Array.from({ length: 1000 }, (_, i) => ({ i, phone: PHONE })) }, 'a huge value');
      ctx.log.warn(new Error(`Failed query: select * from citizens where phone = $1\nparams: ${PHONE}`));
      return { ok: true };
    });
    // Lines from well under to well over the limit, one character apart: whichever
    // length lands exactly on the limit, with or without its newline, is among them.
    app.get('/test/boundary', async (req) => {
      for (let n = 1700; n <= 2100; n++) {
        const fields: Record<string, string> = {};
        for (let i = 0; i * 100 < n; i++) fields[`f${i}`] = 'x'.repeat(Math.min(100, n - i * 100));
        req.log.info(fields, 'boundary');
      }
      return { ok: true };
    });
  },
});

let app: FastifyInstance;
let token: string;
beforeAll(async () => {
  app = await createTestServer({
    plugins: [careless.configure()],
    logger: { level: 'trace', stream: { write: (line: string) => void (lines.push(line.trimEnd()), written.push(line.length)) } },
  });
  await seedRegions(app);
  token = await testToken({ roles: ['city-admin'], region: '440100' });
});
afterAll(async () => {
  await app?.close();
});

describe('logs', () => {
  it('keep SQL parameters, error details, bodies, tokens and personal data out, and say what failed', async () => {
    const cast = await app.inject({ method: 'GET', url: '/test/cast', headers: { authorization: `Bearer ${token}` } });
    expect(cast.statusCode).toBe(500);
    const duplicate = await app.inject({ method: 'POST', url: '/test/citizens', payload: { phone: PHONE } });
    expect(duplicate.statusCode).toBe(500);
    expect((await app.inject({ method: 'GET', url: '/test/chatty' })).statusCode).toBe(200);
    const unit = await app.inject({
      method: 'POST',
      url: '/v1/units',
      headers: await authHeader({ roles: ['city-admin'], region: '440100' }),
      payload: { regionCode: '440103', name: '测试文化站', kind: 'cultural-station', contactName: '李四', contactPhone: PHONE },
    });
    expect(unit.statusCode).toBe(201);
    await app.inject({ method: 'POST', url: '/v1/feedback/abcdefghijklmnopqrstuvwx?phone=13800138000', payload: { rating: 5, comment: PHONE } });
    await app.inject({ method: 'GET', url: `/v1/units?limit=1`, headers: { authorization: `Bearer ${token}x` } });

    expect(scanLogText(lines.join('\n'), 'logging.test', { literals: [PHONE, ID_NUMBER, LANDLINE, token, 'abcdefghijklmnopqrstuvwx'] })).toEqual([]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(2048);

    // The failures are still identifiable: statement's first line, SQLSTATE, request id.
    const failures = entries().filter((e) => e.msg === 'unexpected error');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      reqId: cast.json().requestId,
      err: { message: 'Failed query: select $1::int as n', cause: { code: expect.stringMatching(/^22/), message: expect.stringContaining('[phone]') } },
    });
    expect(failures[1]).toMatchObject({ reqId: duplicate.json().requestId, err: { cause: { code: '23505', constraint: 'citizens_pkey' } } });
    expect(JSON.stringify(failures[1])).not.toContain('Key (');
    expect(entries().find((e) => e.msg?.startsWith('citizen'))).toMatchObject({
      msg: 'citizen [id-number] called from [phone]',
      citizen: { phone: '[redacted]', idNumber: '[redacted]', note: 'call [phone]' },
      contactPhone: '[redacted]',
    });
    expect(entries().filter((e) => e.req).map((e) => e.req.url)).toEqual(
      expect.arrayContaining(['/test/cast', '/v1/units', '/v1/feedback/:token?phone', '/v1/units?limit']),
    );
  });

  it('bound a huge logged value, and a logged error, to short lines', async () => {
    lines.length = 0;
    const res = await app.inject({ method: 'GET', url: '/test/chatty' });
    expect(res.statusCode).toBe(200);
    const huge = entries().find((e) => e.msg === 'a huge value');
    expect(huge).toBeDefined();
    expect(lines.every((l) => l.length <= 2048)).toBe(true);
    expect(entries().find((e) => e.level === 40)).toMatchObject({ msg: 'Failed query: select * from citizens where phone = $1' });
  });

  it('write no line longer than LOG_LINE_LIMIT, its newline counted — the same limit the log scan applies', async () => {
    lines.length = 0;
    written.length = 0;
    expect((await app.inject({ method: 'GET', url: '/test/boundary' })).statusCode).toBe(200);
    const boundary = entries().filter((e) => e.msg === 'boundary' || e.truncated);
    expect(boundary.length).toBeGreaterThanOrEqual(401);
    expect(Math.max(...written)).toBeLessThanOrEqual(LOG_LINE_LIMIT);
    expect(written).toContain(LOG_LINE_LIMIT);
    expect(scanLogText(lines.join('\n'), 'logging.test')).toEqual([]);
  });
});
