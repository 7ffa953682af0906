/** Procurement document files through the kernel's file storage: uploaded by the buyer's administrators, public once a published document names them. */
import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { kernelTables } from '@diandan/kernel';
import { authHeader, problem, type Who } from '@diandan/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, dbNow, DAY, ifMatch, ok, projectBody, type World } from './support.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const HTML = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');

function form(data: Buffer, filename = '招标文件.pdf'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----procurement${randomBytes(8).toString('hex')}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return { payload: Buffer.concat([Buffer.from(head), data, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

let w: World;
beforeAll(async () => {
  w = await boot({ maxFileBytes: 4096 });
});
afterAll(() => w?.app.close());

async function upload(who: Who, projectId: string, data: Buffer, extra: Record<string, string> = {}) {
  const { payload, headers } = form(data);
  const res = await w.app.inject({ method: 'POST', url: `/v1/procurement/projects/${projectId}/files`, payload, headers: { ...headers, ...(await authHeader(who)), ...extra } });
  return { status: res.statusCode, body: res.json(), headers: res.headers, etag: undefined, contentType: res.headers['content-type'] as string };
}
async function download(who: Who | null, projectId: string, fileId: string) {
  return w.app.inject({ url: `/v1/procurement/projects/${projectId}/files/${fileId}`, headers: who ? await authHeader(who) : {} });
}
const files = async () => Number((await w.app.diandan.database.db.select({ n: count() }).from(kernelTables.files).where(eq(kernelTables.files.owner, 'procurement')))[0]!.n);

describe('procurement document files', () => {
  it('takes a file from the buyer’s administrators, names it in a document, and serves it publicly once published', async () => {
    const now = await dbNow(w.app);
    const created = await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, {}, { enquiryEnd: new Date(now.getTime() + DAY), tenderEnd: new Date(now.getTime() + 2 * DAY) }));
    const draft = ok(created, 201, 'draft');
    const before = await files();
    const up = await upload(w.admin, draft.id, PDF, { 'idempotency-key': 'doc-1' });
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({ owner: 'procurement', name: '招标文件.pdf', contentType: 'application/pdf', size: PDF.length });
    // A retry stores nothing; other bytes under the key are refused.
    const retry = await upload(w.admin, draft.id, PDF, { 'idempotency-key': 'doc-1' });
    expect([retry.status, retry.body.id, retry.headers['idempotent-replayed']]).toEqual([201, up.body.id, 'true']);
    expect(problem(await upload(w.admin, draft.id, Buffer.concat([PDF, Buffer.from('%x\n')]), { 'idempotency-key': 'doc-1' })).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await files()).toBe(before + 1);
    // Refused: other admins, suppliers, wrong types, oversize; nothing stored.
    expect((await upload(w.otherAdmin, draft.id, PDF)).status).toBe(404);
    expect((await upload(w.suppliers[0]!.user, draft.id, PDF)).status).toBe(403);
    expect(problem(await upload(w.admin, draft.id, HTML))).toEqual({ status: 415, code: 'FILE_TYPE_NOT_ALLOWED', problem: true });
    expect(problem(await upload(w.admin, draft.id, Buffer.concat([PDF, Buffer.alloc(8192, 0x20)]))).code).toBe('FILE_TOO_LARGE');
    expect(await files()).toBe(before + 1);

    // A document names it; an unknown file is refused.
    const unknown = await w.call(w.admin, 'PATCH', `/v1/procurement/projects/${draft.id}`, { documents: [{ id: 'D1', documentType: 'biddingDocuments', title: '招标文件', fileId: '00000000-0000-4000-8000-000000000000' }] }, ifMatch(draft));
    expect(problem(unknown)).toEqual({ status: 422, code: 'PROCUREMENT_DOCUMENT_FILE_UNKNOWN', problem: true });
    const named = ok(await w.call(w.admin, 'PATCH', `/v1/procurement/projects/${draft.id}`, { documents: [{ id: 'D1', documentType: 'biddingDocuments', title: '招标文件', fileId: up.body.id }] }, ifMatch(draft)), 200, 'name');
    const unnamed = (await upload(w.admin, draft.id, PDF)).body.id;

    // Draft: the buyer's administrators only.
    expect((await download(w.admin, draft.id, up.body.id)).statusCode).toBe(200);
    for (const who of [null, w.otherAdmin, w.suppliers[0]!.user]) expect((await download(who, draft.id, up.body.id)).statusCode).toBe(404);

    ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${draft.id}/publish`, undefined, ifMatch(named)), 200, 'publish');
    const pub = await download(null, draft.id, up.body.id);
    expect(pub.statusCode).toBe(200);
    expect(pub.headers['content-type']).toBe('application/pdf');
    expect(pub.rawPayload.equals(PDF)).toBe(true);
    // A file no document names stays the buyer's; another project's path does not serve it.
    expect((await download(null, draft.id, unnamed)).statusCode).toBe(404);
    expect((await download(w.admin, draft.id, unnamed)).statusCode).toBe(200);
    // The OCDS document points at the download.
    const rp = ok(await w.call(null, 'GET', `/v1/procurement/projects/${draft.id}/ocds/releases`), 200, 'releases');
    expect(rp.releases[1].tender.documents[0].url).toBe(`http://localhost:3000/v1/procurement/projects/${draft.id}/files/${up.body.id}`);
  });

  it('refuses a document file on a new project (no file is uploaded to it yet)', async () => {
    const now = await dbNow(w.app);
    const res = await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { documents: [{ id: 'D1', documentType: 'tenderNotice', title: '公告', fileId: randomBytes(4).toString('hex') }] }, { enquiryEnd: new Date(now.getTime() + DAY), tenderEnd: new Date(now.getTime() + 2 * DAY) }));
    expect(problem(res).code).toBe('PROCUREMENT_DOCUMENT_FILE_UNKNOWN');
  });
});
