/**
 * Who sees what, and personal data: suppliers see only their own records, reviewers
 * and admins only those of their subtree; identity numbers and phones never appear
 * unmasked in a response, in a column readable through the API, or (see
 * log-scan.setup.ts) in a log line.
 */
import { sql } from 'drizzle-orm';
import { queryRows } from '@diandan/kernel';
import { actors, client, createTestServer, expectStatus, ifMatch, problem, seedRegions, testActors, type Call, type Reply } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supplierRegistry } from '../src/index.js';
import { ID_NUMBERS, NAMES, PHONES, applicant, approve, idNumber, orgApplication, uscc } from './support.js';

let app: FastifyInstance;
let call: Call;
/** Every reply of this file, to search for personal data at the end. */
const replies: Reply[] = [];
const liwanReviewer = actors.reviewer('440103', 'liwan-reviewer');
const yuexiuReviewer = actors.reviewer('440104', 'yuexiu-reviewer');
const cityReviewer = actors.reviewer('440100', 'city-reviewer');
const ownerA = applicant('owner-a');
const ownerB = applicant('owner-b');
let a: any;
let b: any;
let artist: any;

beforeAll(async () => {
  app = await createTestServer({ plugins: [supplierRegistry()] });
  await seedRegions(app);
  const raw = client(app);
  call = async (...args) => {
    const reply = await raw(...args);
    replies.push(reply);
    return reply;
  };
  a = expectStatus(
    await call(ownerA, 'POST', '/v1/supplier-applications', orgApplication({ contacts: [{ name: NAMES[0], phone: PHONES[0] }, { name: NAMES[1], phone: PHONES[2], title: '联络人' }] })),
    201,
    'a',
  );
  b = expectStatus(await call(ownerB, 'POST', '/v1/supplier-applications', orgApplication({ regionCode: '440104', contacts: [{ name: NAMES[1], phone: PHONES[1] }] })), 201, 'b');
  artist = expectStatus(
    await call(applicant('artist'), 'POST', '/v1/supplier-applications', {
      ...orgApplication({ kind: 'individual-artist', creditCode: undefined, contacts: [{ name: NAMES[0], phone: PHONES[3] }] }),
      creditCode: undefined,
      idNumber: ID_NUMBERS[0],
    }),
    201,
    'artist',
  );
});
afterAll(() => app?.close());

describe('suppliers see only their own records', () => {
  it('an applicant reads and lists its own application only', async () => {
    expect((await call(ownerA, 'GET', `/v1/supplier-applications/${a.id}`)).status).toBe(200);
    expect(problem(await call(ownerA, 'GET', `/v1/supplier-applications/${b.id}`))).toEqual({ status: 404, code: 'SUPPLIER_APPLICATION_NOT_FOUND', problem: true });
    const list = await call(ownerA, 'GET', '/v1/supplier-applications');
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    // Not even by changing it, or reviewing its documents.
    expect((await call(ownerB, 'PATCH', `/v1/supplier-applications/${a.id}`, { description: 'x' }, ifMatch(a))).status).toBe(404);
    expect((await call(ownerB, 'POST', `/v1/supplier-applications/${a.id}/qualifications`, { type: 't', number: 'n', issuer: 'i', validFrom: '2026-01-01' })).status).toBe(404);
  });

  it('after approval, any user of the supplier (its token’s supplier id) sees it, and other suppliers do not', async () => {
    a = await approve(call, liwanReviewer, a);
    const colleague = actors.supplier(a.id, '440100', 'colleague-of-a');
    expect((await call(colleague, 'GET', `/v1/supplier-applications/${a.id}`)).status).toBe(200);
    expect((await call(colleague, 'GET', `/v1/supplier-applications/${a.id}/ratings`)).status).toBe(200);
    const stranger = actors.supplier('7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4c', '440100', 'stranger');
    expect((await call(stranger, 'GET', `/v1/supplier-applications/${a.id}`)).status).toBe(404);
    expect((await call(stranger, 'GET', `/v1/supplier-applications/${a.id}/ratings`)).status).toBe(404);
    expect((await call(stranger, 'GET', '/v1/supplier-applications')).body.items).toEqual([]);
  });
});

describe('reviewers and admins act within their region', () => {
  it('a reviewer of another district neither sees nor reviews; the city’s sees everything', async () => {
    expect((await call(yuexiuReviewer, 'GET', `/v1/supplier-applications/${a.id}`)).status).toBe(404);
    expect((await call(yuexiuReviewer, 'POST', `/v1/supplier-applications/${a.id}/suspend`, { reason: 'x' }, ifMatch(a))).status).toBe(404);
    expect((await call(yuexiuReviewer, 'GET', '/v1/supplier-applications')).body.items.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect((await call(liwanReviewer, 'POST', `/v1/supplier-applications/${b.id}/start-review`, undefined, ifMatch(b))).status).toBe(404);
    const all = (await call(cityReviewer, 'GET', '/v1/supplier-applications?limit=200')).body.items.map((x: { id: string }) => x.id);
    expect(all).toEqual(expect.arrayContaining([a.id, b.id, artist.id]));
    const otherAdmin = actors.districtAdmin('440104');
    expect((await call(otherAdmin, 'POST', `/v1/supplier-applications/${a.id}/blacklist`, { reason: 'x' }, ifMatch(a))).status).toBe(404);
  });

  it('other roles and anonymous callers are refused', async () => {
    expect((await call(null, 'GET', '/v1/supplier-applications')).status).toBe(401);
    expect((await call(testActors.streetOperator, 'GET', '/v1/supplier-applications')).status).toBe(403);
    expect((await call(testActors.streetOperator, 'POST', '/v1/supplier-applications', orgApplication())).status).toBe(403);
    expect((await call(testActors.cityAdmin, 'POST', '/v1/supplier-applications', orgApplication())).status).toBe(403);
  });
});

describe('credit codes and identity numbers', () => {
  it('refuses invalid codes with the registry’s problem codes, without echoing an identity number', async () => {
    const good = uscc('91440103MA5C77777');
    const wrongCheck = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    for (const code of [wrongCheck, good.slice(0, 17), `${good.slice(0, 16)}I${good[17]}`]) {
      expect(problem(await call(ownerA, 'POST', '/v1/supplier-applications', orgApplication({ creditCode: code }))).code, code).toBe('REGISTRY_INVALID_CREDIT_CODE');
    }
    const id = idNumber('99000019900101555');
    const wrongId = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
    for (const value of [wrongId, id.slice(0, 17), `${id.slice(0, 16)}AB`]) {
      const res = await call(ownerA, 'POST', '/v1/supplier-applications', { ...orgApplication({ kind: 'individual-artist' }), creditCode: undefined, idNumber: value });
      expect(problem(res).code).toBe('REGISTRY_INVALID_ID_NUMBER');
      expect(JSON.stringify(res.body)).not.toContain(value);
    }
    // An individual gives no credit code; an organisation no identity number.
    expect(problem(await call(ownerA, 'POST', '/v1/supplier-applications', { ...orgApplication({ kind: 'individual-artist' }), idNumber: id })).code).toBe('REGISTRY_INVALID_CREDIT_CODE');
    expect(problem(await call(ownerA, 'POST', '/v1/supplier-applications', { ...orgApplication(), idNumber: id })).code).toBe('REGISTRY_INVALID_ID_NUMBER');
  });

  it('keeps an identity number as a keyed hash and its last four: shown masked, matched for duplicates', async () => {
    expect(artist.idNumber).toBe(`**************${ID_NUMBERS[0].slice(-4)}`);
    expect(artist.creditCode).toBeNull();
    const again = await call(applicant('artist-again'), 'POST', '/v1/supplier-applications', {
      ...orgApplication({ kind: 'individual-artist' }),
      creditCode: undefined,
      idNumber: ID_NUMBERS[0].toLowerCase(),
    });
    expect(problem(again)).toEqual({ status: 409, code: 'REGISTRY_DUPLICATE_APPLICATION', problem: true });
    expect(problem(await call(ownerB, 'POST', '/v1/supplier-applications', orgApplication({ creditCode: a.creditCode }))).code).toBe('REGISTRY_DUPLICATE_APPLICATION');
    expect(problem(await call(ownerB, 'POST', '/v1/supplier-applications', orgApplication({ contacts: [{ name: '王五', phone: '1234567890' }] }))).code).toBe('REGISTRY_INVALID_PHONE');
  });

  it('contacts are masked in every answer', async () => {
    const read = await call(ownerA, 'GET', `/v1/supplier-applications/${a.id}`);
    expect(read.body.contacts).toEqual([
      { name: '陈**', phone: '138****8000', title: '' },
      { name: '李**', phone: '020-****4321', title: '联络人' },
    ]);
    const changed = await call(ownerA, 'PATCH', `/v1/supplier-applications/${a.id}`, { contacts: [{ name: NAMES[1], phone: PHONES[1] }] }, ifMatch(read.body));
    expect(changed.body.contacts).toEqual([{ name: '李**', phone: '139****5678', title: '' }]);
  });
});

describe('no personal data unmasked anywhere', () => {
  it('not in any answer of this file, the audit log included', async () => {
    await call(testActors.cityAdmin, 'GET', '/v1/audit-log?entityType=supplier-application&limit=200');
    await call(null, 'GET', '/v1/supplier-directory?limit=200');
    const text = replies.map((r) => JSON.stringify(r.body)).join('\n');
    for (const secret of [...PHONES, ...PHONES.map((p) => p.replace('-', '')), ...ID_NUMBERS, ...NAMES]) expect(text, secret).not.toContain(secret);
  });

  it('not in any column of the registry’s tables, nor in the audit log the API serves', async () => {
    const db = app.diandan.database.db;
    const dump = async (table: string) => JSON.stringify(await queryRows(db, sql.raw(`select * from ${table}`)));
    const tables = ['supplier_registry.applications', 'supplier_registry.contacts', 'supplier_registry.qualifications', 'kernel.audit_log'];
    for (const table of tables) {
      const text = await dump(table);
      for (const secret of [...PHONES, ...PHONES.map((p) => p.replace('-', '')), ...ID_NUMBERS, ...NAMES]) expect(text, `${secret} in ${table}`).not.toContain(secret);
    }
    // What is stored can be opened with the key (sealed, not lost), and only for its application.
    const [row] = await queryRows<{ application_id: string; phone_sealed: string }>(db, sql.raw(`select application_id, phone_sealed from supplier_registry.contacts where phone_masked = '139****5678'`));
    const pd = app.diandan.services.personalData;
    expect(pd.decrypt(row!.phone_sealed, `supplier-registry.contact:${row!.application_id}`)).toBe(PHONES[1]);
    expect(() => pd.decrypt(row!.phone_sealed, 'supplier-registry.contact:another')).toThrow();
  });
});
