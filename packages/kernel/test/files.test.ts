import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DiandanStartupError,
  kernelTables,
  LocalDiskFileStore,
  openApiDocument,
  ProblemCodes,
  safeFileName,
  systemActor,
  type FileStore,
} from '@diandan/kernel';
import { authHeader, createTestDatabase, createTestServer, seedRegions, testActors, testDriver, TEST_REGIONS } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploads } from './fixtures/uploads/plugin.js';
import { countRows, expectProblem, startupFailure } from './support.js';

const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'),
  Buffer.from('0000000d49444154789c6300010000050001a5f645400000000049454e44ae426082', 'hex'),
]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const HTML = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(0x3a), Buffer.from([0x80, 0, 0, 0]), Buffer.alloc(0x40), Buffer.from('PE\0\0'), Buffer.alloc(64)]);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A multipart/form-data body with the given parts. */
function form(parts: { field?: string; filename?: string; type?: string; data: Buffer | string }[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----diandan${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.field ?? 'file'}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Every file under a folder, relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(root.length + 1));
}

describe('files', () => {
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let root: string;
  const maxBytes = 256 * 1024;

  beforeAll(async () => {
    app = await createTestServer({ plugins: [uploads()], files: { maxBytes } });
    await seedRegions(app, TEST_REGIONS.slice(0, 1));
    admin = await authHeader(testActors.cityAdmin);
    root = (app.diandan.services.files.store as LocalDiskFileStore).root;
  });
  afterAll(() => app?.close());

  const upload = (parts: Parameters<typeof form>[0], query = '') => {
    const { payload, headers } = form(parts);
    return app.inject({ method: 'POST', url: `/v1/test-uploads${query}`, payload, headers: { ...headers, ...admin } });
  };
  const asReply = (res: Awaited<ReturnType<typeof upload>>) => ({
    status: res.statusCode,
    body: res.json(),
    headers: res.headers,
    etag: undefined,
    contentType: res.headers['content-type'] as string | undefined,
  });
  const nothingStored = async (rows: number, stored: number) => {
    expect(await countRows(app, kernelTables.files)).toBe(rows);
    expect(await filesUnder(root)).toHaveLength(stored);
  };

  it('stores a PNG and a PDF with the type sniffed from the bytes, whatever the client claims', async () => {
    const png = await upload([{ filename: 'photo.pdf', type: 'text/html', data: PNG }]);
    expect(png.statusCode, png.body).toBe(201);
    expect(png.json()).toMatchObject({ owner: 'test-uploads', name: 'photo.pdf', contentType: 'image/png', size: PNG.length, sha256: sha256(PNG), createdBy: 'city-admin-1' });
    const pdf = await upload([{ filename: '资质证书.png', type: 'image/png', data: PDF }]);
    expect(pdf.statusCode, pdf.body).toBe(201);
    expect(pdf.json()).toMatchObject({ name: '资质证书.png', contentType: 'application/pdf', size: PDF.length, sha256: sha256(PDF) });
    const file = await app.diandan.services.files.get(pdf.json().id);
    expect(file).toEqual(pdf.json());
    expect(new Date(file.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses HTML and an executable renamed .pdf with 415, storing nothing', async () => {
    const rows = await countRows(app, kernelTables.files);
    const stored = (await filesUnder(root)).length;
    for (const data of [HTML, EXE, Buffer.from('just some text'), Buffer.alloc(0)]) {
      const res = await upload([{ filename: 'invoice.pdf', type: 'application/pdf', data }]);
      expectProblem(asReply(res), 415, ProblemCodes.FILE_TYPE_NOT_ALLOWED);
    }
    const exe = await upload([{ filename: 'setup.pdf', type: 'application/pdf', data: EXE }]);
    expect(exe.json().details).toMatchObject({ detected: 'application/x-msdownload', accepted: ['application/pdf', 'image/png'] });
    await nothingStored(rows, stored);
  });

  it('refuses an oversize file with 413 and leaves no row and no stored contents', async () => {
    const rows = await countRows(app, kernelTables.files);
    const stored = (await filesUnder(root)).length;
    const big = Buffer.concat([PDF, randomBytes(maxBytes)]);
    const res = await upload([{ filename: 'big.pdf', data: big }]);
    expectProblem(asReply(res), 413, ProblemCodes.FILE_TOO_LARGE);
    expect(res.json().details).toEqual({ maxBytes });
    // A route's own, smaller limit; the limit is passed the sniffing head.
    const limited = await upload([{ filename: 'big.pdf', data: Buffer.concat([PDF, randomBytes(100 * 1024)]) }], '?maxBytes=70000');
    expectProblem(asReply(limited), 413, ProblemCodes.FILE_TOO_LARGE);
    // Exactly at the limit is fine.
    const exact = Buffer.concat([PDF, randomBytes(70_000 - PDF.length)]);
    const ok = await upload([{ filename: 'exact.pdf', data: exact }], '?maxBytes=70000');
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ size: 70_000, sha256: sha256(exact) });
    await nothingStored(rows + 1, stored + 1);
    expect(await readdir(join(root, '.partial'))).toEqual([]);
  });

  it('refuses an oversize buffer or stream given to the service directly', async () => {
    const rows = await countRows(app, kernelTables.files);
    const stored = (await filesUnder(root)).length;
    const actor = systemActor('test-uploads', { roles: ['city-admin'] });
    const files = app.diandan.services.files;
    const data = Buffer.concat([PNG, randomBytes(2000)]);
    await expect(files.save({ data, name: 'a.png', owner: 'test-uploads', maxBytes: 1000 }, { actor })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE', kind: 'too_large' });
    const stream = Readable.from((function* () { for (let i = 0; i < 50; i++) yield Buffer.concat([i === 0 ? PNG : Buffer.alloc(0), randomBytes(16 * 1024)]); })());
    await expect(files.save({ data: stream, name: 'a.png', owner: 'test-uploads', maxBytes: 300_000 }, { actor })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    await nothingStored(rows, stored);
  });

  it('streams a larger file through, hashing what was stored', async () => {
    const files = app.diandan.services.files;
    const actor = systemActor('test-uploads', { roles: ['city-admin'] });
    const chunks = [PNG, ...Array.from({ length: 40 }, () => randomBytes(64 * 1024))];
    const whole = Buffer.concat(chunks);
    const file = await files.save({ data: Readable.from(chunks), name: 'large.png', owner: 'test-uploads', maxBytes: 4 * 1024 * 1024 }, { actor });
    expect(file).toMatchObject({ contentType: 'image/png', size: whole.length, sha256: sha256(whole), createdBy: 'system:test-uploads' });
    const { stream } = await files.open(file.id);
    const back: Buffer[] = [];
    for await (const c of stream) back.push(c as Buffer);
    expect(sha256(Buffer.concat(back))).toBe(file.sha256);
  });

  it('never uses the client’s name as a path', async () => {
    const before = new Set(await filesUnder(root));
    const res = await upload([{ filename: '../../../etc/passwd.png', data: PNG }]);
    expect(res.statusCode, res.body).toBe(201);
    const { id, name } = res.json();
    expect(name).toBe('passwd.png');
    const added = (await filesUnder(root)).filter((f) => !before.has(f));
    expect(added).toEqual([join(added[0]!.split('/')[0]!, id)]);
    expect(added[0]).toMatch(/^[0-9a-f]{2}\/[0-9a-f-]{36}$/);
    for (const [given, safe] of [
      ['..\\..\\windows\\system32\\evil.pdf', 'evil.pdf'],
      ['..', 'file'],
      ['', 'file'],
      ['.htaccess', 'htaccess'],
      ['a\u0000b\r\n"c".pdf', 'abc.pdf'],
      ['报告 2024.pdf', '报告 2024.pdf'],
    ] as const) {
      expect(safeFileName(given)).toBe(safe);
    }
    expect(() => new LocalDiskFileStore(root).pathOf('../x')).toThrow(TypeError);
  });

  it('sends a download with the stored type, length, an encoded attachment name, nosniff and an ETag', async () => {
    const up = await upload([{ filename: "资质证书 (2024); final's 100%.pdf", type: 'text/html', data: PDF }]);
    const file = up.json();
    const res = await app.inject({ method: 'GET', url: `/v1/test-uploads/${file.id}`, headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-length']).toBe(String(PDF.length));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.etag).toBe(`"${sha256(PDF)}"`);
    const disposition = String(res.headers['content-disposition']);
    expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
    expect(disposition).not.toMatch(/filename="[^"]*"[^;]/);
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe("资质证书 (2024); final's 100%.pdf");
    expect(disposition).toContain(`filename="____ (2024); final's 100_.pdf"`);
    expect(res.rawPayload.equals(PDF)).toBe(true);
    const again = await app.inject({ method: 'GET', url: `/v1/test-uploads/${file.id}`, headers: { ...admin, 'if-none-match': res.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('sends a public file inline when asked (a photo shown in a page), still sandboxed and nosniff', async () => {
    const file = (await upload([{ filename: 'photo.png', data: PNG }])).json();
    const plain = await app.inject({ method: 'GET', url: `/v1/test-uploads/${file.id}`, headers: admin });
    expect(plain.headers['cache-control']).toBe('private, no-cache');
    const res = await app.inject({ method: 'GET', url: `/v1/test-uploads/${file.id}?inline=true&public=true`, headers: admin });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-disposition'])).toMatch(/^inline; filename="photo.png"; filename\*=UTF-8''photo.png$/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
  });

  it('gives the handler the text fields sent before the file', async () => {
    const res = await upload([
      { field: 'caption', data: '《帝女花》剧照' },
      { field: 'position', data: '2' },
      { filename: 'photo.png', data: PNG },
    ]);
    expect(res.statusCode, res.body).toBe(201);
    expect(JSON.parse(decodeURIComponent(String(res.headers['x-test-fields'])))).toEqual({ caption: '《帝女花》剧照', position: '2' });
    // Without fields: an empty object.
    const bare = await upload([{ filename: 'photo.png', data: PNG }]);
    expect(JSON.parse(decodeURIComponent(String(bare.headers['x-test-fields'])))).toEqual({});
  });

  it('answers 404 FILE_NOT_FOUND for an unknown id, a malformed one and another plugin’s file', async () => {
    const actor = systemActor('other', { roles: ['city-admin'] });
    const theirs = await app.diandan.services.files.save({ data: PNG, name: 'x.png', owner: 'other-plugin' }, { actor });
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', theirs.id]) {
      const res = await app.inject({ method: 'GET', url: `/v1/test-uploads/${id}`, headers: admin });
      expectProblem(asReply(res), 404, ProblemCodes.FILE_NOT_FOUND);
    }
  });

  it('removes the row and the contents', async () => {
    const files = app.diandan.services.files;
    const actor = systemActor('test-uploads', { roles: ['city-admin'] });
    const file = await files.save({ data: PDF, name: 'gone.pdf', owner: 'test-uploads' }, { actor });
    expect(await files.store.exists!(file.id)).toBe(true);
    await expect(files.remove(file.id, { actor, owner: 'someone-else' })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await files.remove(file.id, { actor, owner: 'test-uploads' });
    await expect(files.get(file.id)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', kind: 'not_found' });
    await vi_waitFor(async () => !(await files.store.exists!(file.id)));
  });

  it('leaves nothing when the transaction the file was saved in rolls back', async () => {
    const rows = await countRows(app, kernelTables.files);
    const stored = (await filesUnder(root)).length;
    const res = await upload([{ filename: 'a.pdf', data: PDF }], '?fail=true');
    expectProblem(asReply(res), 409, 'TEST_UPLOAD_REFUSED');
    await vi_waitFor(async () => (await filesUnder(root)).length === stored);
    await nothingStored(rows, stored);
  });

  it('refuses a form without a file field, a JSON body on an upload route and multipart on a JSON route', async () => {
    expectProblem(asReply(await upload([{ field: 'title', data: 'hello' }])), 400, ProblemCodes.FILE_MISSING);
    expectProblem(asReply(await upload([{ field: 'document', filename: 'a.pdf', data: PDF }])), 400, ProblemCodes.FILE_MISSING);
    const json = await app.inject({ method: 'POST', url: '/v1/test-uploads', payload: { file: 'x' }, headers: admin });
    expectProblem(asReply(json), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const { payload, headers } = form([{ filename: 'a.pdf', data: PDF }]);
    const onJsonRoute = await app.inject({ method: 'POST', url: '/v1/regions', payload, headers: { ...headers, ...admin } });
    expectProblem(asReply(onJsonRoute), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('describes the upload body as multipart/form-data in the OpenAPI document', () => {
    const doc = openApiDocument(app) as any;
    const op = doc.paths['/v1/test-uploads'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['multipart/form-data']);
    expect(op.requestBody.content['multipart/form-data'].schema).toMatchObject({
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' } },
    });
    expect(JSON.stringify(op.requestBody)).not.toContain('x-diandan');
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['201', '413', '415']));
    expect(doc.components.schemas.StoredFile).toBeDefined();
  });
});

describe('files over a real connection', () => {
  it('answers refused uploads at once and keeps the connection usable (the rest of the body is read and dropped)', async () => {
    const app = await createTestServer({ plugins: [uploads()], files: { maxBytes: 1024 * 1024 } });
    await seedRegions(app, TEST_REGIONS.slice(0, 1));
    const admin = await authHeader(testActors.cityAdmin);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const post = async (url: string, data: Buffer) => {
      const body = new FormData();
      body.append('file', new Blob([data], { type: 'application/pdf' }), 'a.pdf');
      const res = await fetch(`${address}${url}`, { method: 'POST', body, headers: admin });
      return { status: res.status, code: ((await res.json()) as { code?: string }).code };
    };
    try {
      const filler = randomBytes(4 * 1024 * 1024);
      expect(await post('/v1/test-uploads', Buffer.concat([HTML, filler]))).toEqual({ status: 415, code: 'FILE_TYPE_NOT_ALLOWED' });
      expect(await post('/v1/test-uploads', Buffer.concat([PDF, filler]))).toEqual({ status: 413, code: 'FILE_TOO_LARGE' });
      expect(await post('/v1/regions', Buffer.concat([PDF, filler]))).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect((await post('/v1/test-uploads', PDF)).status).toBe(201);
      expect(await countRows(app, kernelTables.files)).toBe(1);
    } finally {
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });
});

describe('file stores', () => {
  it('removes the temporary folder of an in-memory deployment at shutdown', async () => {
    const app = await createTestServer();
    const root = (app.diandan.services.files.store as LocalDiskFileStore).root;
    await app.diandan.services.files.save({ data: PNG, name: 'a.png', owner: 'kernel' }, { actor: systemActor('kernel', { roles: ['city-admin'] }) });
    expect(existsSync(root)).toBe(true);
    await app.close();
    expect(existsSync(root)).toBe(false);
  });

  it('keeps files under <dataDir>/files across restarts of an embedded database', async () => {
    if (testDriver() !== 'pglite') return;
    const database = await createTestDatabase({ persistent: true });
    try {
      const actor = systemActor('kernel', { roles: ['city-admin'] });
      let app = await createTestServer({ database: database.config });
      const file = await app.diandan.services.files.save({ data: PDF, name: 'a.pdf', owner: 'kernel' }, { actor });
      expect((app.diandan.services.files.store as LocalDiskFileStore).root).toBe(join(database.config.dataDir!, 'files'));
      await app.close();
      app = await createTestServer({ database: database.config });
      try {
        const { file: again, stream } = await app.diandan.services.files.open(file.id);
        expect(again).toEqual(file);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).equals(PDF)).toBe(true);
      } finally {
        await app.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('uses the deployment’s own store, and refuses a store that is not one', async () => {
    const objects = new Map<string, Buffer>();
    const store: FileStore = {
      async put(key, data) {
        const chunks: Buffer[] = [];
        for await (const c of Buffer.isBuffer(data) ? [data] : data) chunks.push(c as Buffer);
        objects.set(key, Buffer.concat(chunks));
      },
      get: async (key) => Readable.from([objects.get(key)!]),
      delete: async (key) => void objects.delete(key),
    };
    const app = await createTestServer({ files: { store } });
    try {
      const file = await app.diandan.services.files.save({ data: PDF, name: 'a.pdf', owner: 'kernel' }, { actor: systemActor('kernel', { roles: ['city-admin'] }) });
      expect(objects.get(file.id)?.equals(PDF)).toBe(true);
    } finally {
      await app.close();
    }
    const database = { url: 'postgres://postgres@127.0.0.1:1/never-opened' };
    for (const [files, path] of [
      [{ store: { put: () => {} } }, 'files.store'],
      [{ maxBytes: 0 }, 'files.maxBytes'],
      [{ dir: '' }, 'files.dir'],
    ] as const) {
      const error = await startupFailure(createTestServer({ database, files: files as never }));
      expect(error).toBeInstanceOf(DiandanStartupError);
      expect(error).toMatchObject({ code: 'DIANDAN_ERR_DEPLOYMENT_INVALID', path });
    }
  });
});

/** Waits (up to 2 s) for a condition that an after-commit or after-rollback effect makes true. */
async function vi_waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met within 2 s');
}
