/** Qualification files through the kernel's file storage: type from the bytes, size limits, downloads only for those who may see the application. */
import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { kernelTables } from '@diandan/kernel';
import { actors, authHeader, client, createTestServer, expectStatus, problem, seedRegions, type Call, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supplierRegistry } from '../src/index.js';
import type { SupplierRegistry } from '../src/registry.js';
import { applicationFiles } from '../src/schema.js';
import { applicant, orgApplication } from './support.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const HTML = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');

/** A multipart/form-data body with one part. */
function form(part: { field?: string; filename: string; type?: string; data: Buffer }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----registry${randomBytes(8).toString('hex')}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.field ?? 'file'}"; filename="${part.filename}"\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`;
  return { payload: Buffer.concat([Buffer.from(head), part.data, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

let app: FastifyInstance;
let call: Call;
const owner = applicant('file-owner');
let application: any;

beforeAll(async () => {
  app = await createTestServer({ plugins: [supplierRegistry({ maxFileBytes: 4096 })] });
  await seedRegions(app);
  call = client(app);
  application = expectStatus(await call(owner, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'apply');
});
afterAll(() => app?.close());

async function upload(who: Who, id: string, part: Parameters<typeof form>[0], extra: Record<string, string> = {}) {
  const { payload, headers } = form(part);
  const res = await app.inject({ method: 'POST', url: `/v1/supplier-applications/${id}/files`, payload, headers: { ...headers, ...(await authHeader(who)), ...extra } });
  return { status: res.statusCode, body: res.json(), headers: res.headers, etag: undefined, contentType: res.headers['content-type'] as string };
}
const stored = async () => Number((await app.diandan.database.db.select({ n: count() }).from(applicationFiles))[0]!.n);
/** Files the registry owns in the kernel's file table (rows, so a second copy shows). */
const kernelFiles = async () => Number((await app.diandan.database.db.select({ n: count() }).from(kernelTables.files).where(eq(kernelTables.files.owner, 'supplier-registry')))[0]!.n);
const registryOf = () => (app.diandan.plugins.find((p) => p.definition.name === 'supplier-registry')!.services as { registry: SupplierRegistry }).registry;

describe('qualification files', () => {
  it('stores a PDF with its sniffed type and hash, names it in a qualification, and serves it to those who may see the application', async () => {
    const res = await upload(owner, application.id, { filename: '../../营业执照.pdf', type: 'text/plain', data: PDF });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ owner: 'supplier-registry', name: '营业执照.pdf', contentType: 'application/pdf', size: PDF.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const fileId = res.body.id;
    const added = await call(owner, 'POST', `/v1/supplier-applications/${application.id}/qualifications`, { type: '营业执照', number: 'F-1', issuer: '测试局', validFrom: '2026-01-01', mandatory: true, fileId });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.qualifications.at(-1)).toMatchObject({ fileId, status: 'pending' });

    for (const who of [owner, actors.reviewer('440103', 'file-reviewer'), actors.cityAdmin()]) {
      const down = await app.inject({ url: `/v1/supplier-applications/${application.id}/files/${fileId}`, headers: await authHeader(who) });
      expect(down.statusCode).toBe(200);
      expect(down.headers['content-type']).toBe('application/pdf');
      expect(down.rawPayload.equals(PDF)).toBe(true);
    }
    for (const who of [applicant('someone-else'), actors.reviewer('440104', 'other-reviewer')]) {
      expect((await call(who, 'GET', `/v1/supplier-applications/${application.id}/files/${fileId}`)).status).toBe(404);
    }
    // Another application cannot name this file, nor serve it.
    const other = expectStatus(await call(applicant('other-owner'), 'POST', '/v1/supplier-applications', orgApplication()), 201, 'other');
    const foreign = await call(applicant('other-owner'), 'POST', `/v1/supplier-applications/${other.id}/qualifications`, { type: '营业执照', number: 'F-2', issuer: '测试局', validFrom: '2026-01-01', fileId });
    expect(problem(foreign)).toEqual({ status: 422, code: 'REGISTRY_FILE_UNKNOWN', problem: true });
    expect(problem(await call(applicant('other-owner'), 'GET', `/v1/supplier-applications/${other.id}/files/${fileId}`)).code).toBe('FILE_NOT_FOUND');
  });

  it('refuses oversize files (413) and types the bytes do not show to be allowed (415), storing nothing', async () => {
    const before = await stored();
    const big = Buffer.concat([PDF, Buffer.alloc(8192, 0x20)]);
    expect(problem(await upload(owner, application.id, { filename: 'big.pdf', data: big }))).toEqual({ status: 413, code: 'FILE_TOO_LARGE', problem: true });
    expect(problem(await upload(owner, application.id, { filename: 'licence.pdf', type: 'application/pdf', data: HTML }))).toEqual({ status: 415, code: 'FILE_TYPE_NOT_ALLOWED', problem: true });
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    expect(problem(await upload(owner, application.id, { filename: 'x.gif', data: Buffer.concat([Buffer.from('GIF89a'), png]) })).status).toBe(415);
    expect(await stored()).toBe(before);
  });

  it('stores an upload once per Idempotency-Key: a retry answers the first file, other bytes under the key are refused', async () => {
    const before = { links: await stored(), files: await kernelFiles() };
    const key = { 'idempotency-key': 'upload-licence-1' };
    const first = await upload(owner, application.id, { filename: '许可证.pdf', data: PDF }, key);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await upload(owner, application.id, { filename: '许可证.pdf', data: PDF }, key);
    expect([retry.status, retry.body.id, retry.headers['idempotent-replayed']]).toEqual([201, first.body.id, 'true']);
    expect({ links: await stored(), files: await kernelFiles() }).toEqual({ links: before.links + 1, files: before.files + 1 });
    const other = Buffer.concat([PDF, Buffer.from('% another scan\n')]);
    expect(problem(await upload(owner, application.id, { filename: '许可证.pdf', data: other }, key))).toEqual({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED', problem: true });
    // The key is the uploader's: another applicant's same key is another upload.
    const otherOwner = applicant('key-owner');
    const theirs = expectStatus(await call(otherOwner, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'apply');
    expect((await upload(otherOwner, theirs.id, { filename: 'a.pdf', data: PDF }, key)).headers['idempotent-replayed']).toBeUndefined();
    expect(await kernelFiles()).toBe(before.files + 2);
    expect(problem(await upload(owner, application.id, { filename: 'a.pdf', data: PDF }, { 'idempotency-key': 'bad key with spaces' }))).toEqual({ status: 400, code: 'INVALID_IDEMPOTENCY_KEY', problem: true });
  });

  it('removes files it stored that no application names, once old enough (clean-orphan-files)', async () => {
    const kernel = app.diandan.services;
    const city = await kernel.access.systemActor('testing', { roles: ['city-admin'], region: '440100' });
    // A file stored but never linked (a crash between the two steps).
    const orphan = await kernel.files.save({ data: PDF, name: 'orphan.pdf', owner: 'supplier-registry', accept: ['application/pdf'] }, { actor: city });
    const linked = (await upload(owner, application.id, { filename: 'kept.pdf', data: PDF })).body.id;
    expect(await registryOf().cleanOrphanFiles({ olderThanHours: 1 })).toBe(0); // too young
    expect(await registryOf().cleanOrphanFiles({ olderThanHours: 0 })).toBe(1);
    expect(problem(await call(actors.cityAdmin(), 'GET', `/v1/supplier-applications/${application.id}/files/${orphan.id}`)).code).toBe('FILE_NOT_FOUND');
    await expect(kernel.files.get(orphan.id)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await kernel.files.get(linked)).id).toBe(linked);
  });

  it('lets only the applicant upload', async () => {
    expect((await upload(applicant('stranger'), application.id, { filename: 'a.pdf', data: PDF })).status).toBe(404);
    expect((await upload(actors.reviewer('440103', 'up-reviewer'), application.id, { filename: 'a.pdf', data: PDF })).status).toBe(403);
    const json = await call(owner, 'POST', `/v1/supplier-applications/${application.id}/files`, { file: 'x' });
    expect(problem(json).status).toBe(415);
  });
});
