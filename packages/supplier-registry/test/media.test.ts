/** Product media through the kernel's file storage: the supplier uploads while the product is editable; public once listed. */
import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { kernelTables, systemActor } from '@diandan/kernel';
import { actors, addSupplier, authHeader, client, createTestServer, draftProduct, expectStatus, problem, reviewProduct, seedRegions, type Call, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supplierRegistry } from '../src/index.js';
import { productMedia } from '../src/schema.js';
import { registryOf } from './support.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), Buffer.alloc(64, 0)]);
const MP4 = Buffer.concat([Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'), Buffer.alloc(64, 0)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const HTML = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
const MAX_PER_PRODUCT = 3;

/** A multipart/form-data body: text fields first, then the file. */
function form(file: { filename: string; type?: string; data: Buffer }, fields: Record<string, string> = {}): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----media${randomBytes(8).toString('hex')}`;
  const parts = Object.entries(fields).map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\n${file.type ? `Content-Type: ${file.type}\r\n` : ''}\r\n`;
  return { payload: Buffer.concat([...parts, Buffer.from(head), file.data, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

let app: FastifyInstance;
let call: Call;
let supplier: Who;
let otherSupplier: Who;
const curator = actors.reviewer('440100', 'media-reviewer');

beforeAll(async () => {
  app = await createTestServer({ plugins: [supplierRegistry({ maxMediaBytes: 4096, maxMediaPerProduct: MAX_PER_PRODUCT })] });
  await seedRegions(app);
  call = client(app);
  supplier = await addSupplier(call, '媒体测试剧团（虚构）', 'media-owner');
  otherSupplier = await addSupplier(call, '另一个剧团（虚构）', 'media-other');
});
afterAll(() => app?.close());

async function upload(who: Who | null, productId: string, file: Parameters<typeof form>[0], fields: Record<string, string> = {}, extra: Record<string, string> = {}) {
  const { payload, headers } = form(file, fields);
  const res = await app.inject({ method: 'POST', url: `/v1/products/${productId}/media`, payload, headers: { ...headers, ...(who ? await authHeader(who) : {}), ...extra } });
  return { status: res.statusCode, body: res.json(), headers: res.headers, etag: undefined, contentType: res.headers['content-type'] as string };
}
const download = async (who: Who | null, url: string, headers: Record<string, string> = {}) =>
  app.inject({ url, headers: { ...(who ? await authHeader(who) : {}), ...headers } });
const registryFiles = async () =>
  Number((await app.diandan.database.db.select({ n: count() }).from(kernelTables.files).where(eq(kernelTables.files.owner, 'supplier-registry')))[0]!.n);
const linked = async (productId: string) => Number((await app.diandan.database.db.select({ n: count() }).from(productMedia).where(eq(productMedia.productId, productId)))[0]!.n);

describe('product media', () => {
  it('the supplier uploads photos, video and a programme while drafting; the product reads show count and cover; curators see them in review; anyone once listed', async () => {
    const draft = await draftProduct(call, supplier, { title: '粤剧折子戏专场（虚构）' });
    const pdf = await upload(supplier, draft.id, { filename: '节目单.pdf', type: 'image/png', data: PDF });
    expect(pdf.status, JSON.stringify(pdf.body)).toBe(201);
    expect(pdf.body).toMatchObject({ productId: draft.id, kind: 'document', contentType: 'application/pdf', name: '节目单.pdf', size: PDF.length, caption: null, position: 0 });
    const photo = await upload(supplier, draft.id, { filename: '../../剧照.png', data: PNG }, { caption: '《帝女花》剧照' });
    expect(photo.status, JSON.stringify(photo.body)).toBe(201);
    expect(photo.body).toMatchObject({ kind: 'image', contentType: 'image/png', name: '剧照.png', caption: '《帝女花》剧照', position: 1, url: `/v1/products/${draft.id}/media/${photo.body.fileId}` });
    const video = await upload(supplier, draft.id, { filename: 'clip.mp4', data: MP4 });
    expect(video.body).toMatchObject({ kind: 'video', contentType: 'video/mp4', position: 2 });

    // The product's read: three files, the cover is the first image (not the first file).
    const read = expectStatus(await call(supplier, 'GET', `/v1/products/${draft.id}`), 200, 'read');
    expect(read.extensions['supplier-registry']).toEqual({ media: { count: 3, cover: photo.body } });
    // Before listing: its supplier and curators, nobody else (the product itself is not visible to them).
    const list = `/v1/products/${draft.id}/media`;
    expect((await call(supplier, 'GET', list)).body.items.map((m: { fileId: string }) => m.fileId)).toEqual([pdf.body.fileId, photo.body.fileId, video.body.fileId]);
    for (const who of [null, otherSupplier, actors.unitOperator('00000000-0000-4000-8000-000000000001', '440103001001', 'unit-op')]) {
      expect(problem(await call(who, 'GET', list)).code).toBe('PRODUCT_NOT_FOUND');
      expect((await download(who, photo.body.url)).statusCode).toBe(404);
    }

    const inReview = await reviewProduct(call, supplier, draft, ['submit', 'start-review']);
    const reviewed = await download(curator, photo.body.url);
    expect(reviewed.statusCode).toBe(200);
    expect(reviewed.headers['cache-control']).toBe('private, no-cache');
    // Under review nothing changes: not even the supplier adds or removes files.
    expect(problem(await upload(supplier, draft.id, { filename: 'late.png', data: PNG }))).toEqual({ status: 409, code: 'PRODUCT_NOT_EDITABLE', problem: true });
    expect(problem(await call(supplier, 'DELETE', `${list}/${pdf.body.fileId}`)).code).toBe('PRODUCT_NOT_EDITABLE');

    await reviewProduct(call, supplier, inReview, ['list']);
    const anonymous = await call(null, 'GET', list);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.items).toHaveLength(3);
    const shown = await download(null, photo.body.url);
    expect(shown.statusCode).toBe(200);
    expect(shown.headers['content-type']).toBe('image/png');
    expect(shown.rawPayload.equals(PNG)).toBe(true);
    expect(String(shown.headers['content-disposition'])).toMatch(/^inline; /);
    expect(shown.headers['cache-control']).toBe('public, max-age=300');
    expect(shown.headers['x-content-type-options']).toBe('nosniff');
    expect((await download(null, photo.body.url, { 'if-none-match': shown.headers.etag as string })).statusCode).toBe(304);
    // The library search shows the cover on the page.
    const page = expectStatus(await call(actors.cityAdmin(), 'GET', '/v1/products?limit=100'), 200, 'list');
    expect(page.items.find((p: { id: string }) => p.id === draft.id)?.extensions['supplier-registry']).toEqual({ media: { count: 3, cover: photo.body } });
    // Another product's path does not serve this file.
    const other = await draftProduct(call, supplier);
    expect(problem(await call(supplier, 'GET', `/v1/products/${other.id}/media/${photo.body.fileId}`)).code).toBe('PRODUCT_MEDIA_NOT_FOUND');
  });

  it('refuses what the bytes do not show to be allowed (415), oversize files (413), another supplier (404/403) and the limit (409), storing nothing', async () => {
    const draft = await draftProduct(call, supplier);
    const before = await registryFiles();
    expect(problem(await upload(supplier, draft.id, { filename: 'photo.png', type: 'image/png', data: HTML }))).toEqual({ status: 415, code: 'FILE_TYPE_NOT_ALLOWED', problem: true });
    expect(problem(await upload(supplier, draft.id, { filename: 'big.jpg', data: Buffer.concat([JPEG, Buffer.alloc(8192, 1)]) }))).toEqual({ status: 413, code: 'FILE_TOO_LARGE', problem: true });
    expect(problem(await upload(otherSupplier, draft.id, { filename: 'photo.png', data: PNG })).code).toBe('PRODUCT_NOT_FOUND');
    expect(problem(await upload(null, draft.id, { filename: 'photo.png', data: PNG })).status).toBe(401);
    expect(problem(await upload(curator, draft.id, { filename: 'photo.png', data: PNG })).status).toBe(403);
    expect(await registryFiles()).toBe(before);

    for (let i = 0; i < MAX_PER_PRODUCT; i++) expect((await upload(supplier, draft.id, { filename: `p${i}.jpg`, data: JPEG })).status).toBe(201);
    expect(problem(await upload(supplier, draft.id, { filename: 'one-more.jpg', data: JPEG }))).toEqual({ status: 409, code: 'PRODUCT_MEDIA_LIMIT', problem: true });
    expect(await registryFiles()).toBe(before + MAX_PER_PRODUCT);
    // Another supplier sees a listed product but may not change its media.
    const listed = await reviewProduct(call, supplier, await draftProduct(call, supplier), ['submit', 'start-review', 'list']);
    expect(problem(await upload(otherSupplier, listed.id, { filename: 'photo.png', data: PNG })).status).toBe(403);
  });

  it('never goes over the limit when uploads race (the product row is locked while linking)', async () => {
    const draft = await draftProduct(call, supplier);
    for (let i = 0; i < MAX_PER_PRODUCT - 1; i++) expectStatus(await upload(supplier, draft.id, { filename: `p${i}.png`, data: PNG }), 201, 'upload');
    const before = await registryFiles();
    const raced = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(supplier, draft.id, { filename: `race${i}.png`, data: PNG })));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await linked(draft.id)).toBe(MAX_PER_PRODUCT);
    // The losers' stored copies are removed again.
    expect(await registryFiles()).toBe(before + 1);
  });

  it('answers a retry with the same Idempotency-Key with the first upload, storing nothing', async () => {
    const draft = await draftProduct(call, supplier);
    const key = { 'idempotency-key': `media-${randomBytes(4).toString('hex')}` };
    const first = expectStatus(await upload(supplier, draft.id, { filename: 'a.png', data: PNG }, {}, key), 201, 'first');
    const files = await registryFiles();
    const retry = await upload(supplier, draft.id, { filename: 'a.png', data: PNG }, {}, key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first);
    expect(await registryFiles()).toBe(files);
    expect(problem(await upload(supplier, draft.id, { filename: 'b.pdf', data: PDF }, {}, key)).code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('removes a file with its stored copy; the orphan sweep keeps linked media', async () => {
    const draft = await draftProduct(call, supplier);
    const keep = expectStatus(await upload(supplier, draft.id, { filename: 'keep.png', data: PNG }), 201, 'keep');
    const gone = expectStatus(await upload(supplier, draft.id, { filename: 'gone.png', data: PNG }), 201, 'gone');
    expect(problem(await call(otherSupplier, 'DELETE', `/v1/products/${draft.id}/media/${gone.fileId}`)).code).toBe('PRODUCT_NOT_FOUND');
    expect((await call(supplier, 'DELETE', `/v1/products/${draft.id}/media/${gone.fileId}`)).status).toBe(204);
    expect(problem(await call(supplier, 'DELETE', `/v1/products/${draft.id}/media/${gone.fileId}`)).code).toBe('PRODUCT_MEDIA_NOT_FOUND');
    await expect(app.diandan.services.files.get(gone.fileId)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await call(supplier, 'GET', `/v1/products/${draft.id}/media`)).body.items.map((m: { fileId: string }) => m.fileId)).toEqual([keep.fileId]);

    // A file stored but never linked (a crash in between) is swept; linked media are not.
    const orphan = await app.diandan.services.files.save({ data: PNG, name: 'lost.png', owner: 'supplier-registry' }, { actor: systemActor('supplier-registry', { roles: ['city-admin'] }) });
    const removed = await registryOf(app).registry.cleanOrphanFiles({ olderThanHours: 0 });
    expect(removed).toBeGreaterThanOrEqual(1);
    await expect(app.diandan.services.files.get(orphan.id)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await app.diandan.services.files.get(keep.fileId)).id).toBe(keep.fileId);
    const audit = expectStatus(await call(actors.cityAdmin(), 'GET', `/v1/audit-log?entityType=product&entityId=${draft.id}`), 200, 'audit');
    expect(audit.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['product.media-upload', 'product.media-remove']));
  });

  it('documents the routes, with the upload as multipart', async () => {
    const doc = (await app.inject('/openapi.json')).json();
    expect(doc.paths['/v1/products/{id}/media'].post.requestBody.content).toHaveProperty('multipart/form-data');
    expect(doc.paths['/v1/products/{id}/media'].get.operationId).toBe('listProductMedia');
    expect(doc.paths['/v1/products/{id}/media/{fileId}'].delete.operationId).toBe('removeProductMedia');
    expect(doc.components.schemas.ProductMediaFile).toBeDefined();
  });
});
