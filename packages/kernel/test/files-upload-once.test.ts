import { kernelTables, systemActor, type UploadOnceInput } from '@diandan/kernel';
import { createTestServer } from '@diandan/testing';
import { eq, sql } from 'drizzle-orm';
import { pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { uploads } from './fixtures/uploads/plugin.js';
import { countRows } from './support.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const OTHER_PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Other true >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

/** A plugin's link table, as the supplier registry and procurement have one: a file id and a unique upload key. */
const links = pgTable('test_upload_links', { fileId: uuid('file_id').primaryKey(), uploadKey: text('upload_key').unique() });

const owner = 'test-uploads';
const actor = systemActor(owner, { roles: ['city-admin'] });

describe('files.uploadOnce and files.sweepOrphans', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await createTestServer({ plugins: [uploads()] });
    await app.diandan.database.db.execute(sql`create table test_upload_links (file_id uuid primary key, upload_key text unique)`);
  });
  afterAll(() => app?.close());

  const files = () => app.diandan.services.files;
  const stored = (id: string) => files().store.exists!(id);
  const input = (data: Buffer, more: Partial<UploadOnceInput> = {}): UploadOnceInput => ({
    data,
    name: 'tender.pdf',
    owner,
    scope: 'project-1',
    conflictCode: 'TEST_UPLOAD_CONFLICT',
    find: async (db, uploadKey) => (await db.select().from(links).where(eq(links.uploadKey, uploadKey)))[0]?.fileId,
    record: async (tx, file, uploadKey) => (await tx.insert(links).values({ fileId: file.id, uploadKey }).onConflictDoNothing().returning()).length > 0,
    ...more,
  });
  const ownFiles = () => countRows(app, kernelTables.files, eq(kernelTables.files.owner, owner));

  it('answers a retry with the same key with the first file, storing nothing, and refuses the key with other bytes', async () => {
    const first = await files().uploadOnce(input(PDF, { idempotencyKey: 'retry-1' }), { actor });
    expect(first.replayed).toBe(false);
    const before = await ownFiles();
    const retry = await files().uploadOnce(input(PDF, { idempotencyKey: 'retry-1' }), { actor });
    expect(retry).toEqual({ file: first.file, replayed: true });
    expect(await ownFiles()).toBe(before);
    await expect(files().uploadOnce(input(OTHER_PDF, { idempotencyKey: 'retry-1' }), { actor })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    // Another scope (another project) is another upload.
    expect((await files().uploadOnce(input(PDF, { idempotencyKey: 'retry-1', scope: 'project-2' }), { actor })).replayed).toBe(false);
  });

  it('keeps one file of two concurrent identical uploads and removes the other’s contents', async () => {
    // Both pass the first look-up before either records: the race the unique key decides.
    let looked = 0;
    let bothLooked!: () => void;
    const gate = new Promise<void>((resolve) => (bothLooked = resolve));
    const find: UploadOnceInput['find'] = async (db, uploadKey) => {
      if (++looked === 2) bothLooked();
      if (looked <= 2) await gate;
      return (await db.select().from(links).where(eq(links.uploadKey, uploadKey)))[0]?.fileId;
    };
    const saved: string[] = [];
    const record: UploadOnceInput['record'] = async (tx, file, uploadKey) => {
      saved.push(file.id);
      return (await tx.insert(links).values({ fileId: file.id, uploadKey }).onConflictDoNothing().returning()).length > 0;
    };
    const results = await Promise.all([1, 2].map(() => files().uploadOnce(input(PDF, { idempotencyKey: 'race', find, record }), { actor })));
    expect(saved).toHaveLength(2);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect(results[0]!.file).toEqual(results[1]!.file);
    const kept = results[0]!.file.id;
    const lost = saved.find((id) => id !== kept)!;
    await expect(files().get(lost)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await vi.waitFor(async () => expect(await stored(lost)).toBe(false));
    expect(await stored(kept)).toBe(true);
  });

  it('removes what it stored when recording fails', async () => {
    let id: string | undefined;
    const failing = input(PDF, {
      record: async (_tx, file) => {
        id = file.id;
        throw new Error('the caller’s transaction failed');
      },
    });
    await expect(files().uploadOnce(failing, { actor })).rejects.toThrow('the caller’s transaction failed');
    await expect(files().get(id!)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await vi.waitFor(async () => expect(await stored(id!)).toBe(false));
  });

  it('sweeps a file whose recording never committed (a crash in between), and keeps recorded ones', async () => {
    const recorded = await files().uploadOnce(input(PDF), { actor });
    // What a crash between storing and recording leaves: a stored file no link names.
    const orphan = await files().save({ data: PDF, name: 'lost.pdf', owner }, { actor });
    expect(await files().sweepOrphans({ owner, linkedBy: links.fileId, actor })).toBe(0); // younger than a day
    expect(await files().sweepOrphans({ owner, linkedBy: links.fileId, olderThanHours: 0, actor: async () => actor })).toBe(1);
    await expect(files().get(orphan.id)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await vi.waitFor(async () => expect(await stored(orphan.id)).toBe(false));
    expect(await files().get(recorded.file.id)).toEqual(recorded.file);
  });

  it('sweeps by several link tables: a file any of them names is kept', async () => {
    await app.diandan.database.db.execute(sql`create table test_upload_links_2 (file_id uuid primary key)`);
    const second = pgTable('test_upload_links_2', { fileId: uuid('file_id').primaryKey() });
    const inFirst = await files().uploadOnce(input(OTHER_PDF), { actor });
    const inSecond = await files().save({ data: PDF, name: 'second.pdf', owner }, { actor });
    await app.diandan.database.db.insert(second).values({ fileId: inSecond.id });
    const orphan = await files().save({ data: PDF, name: 'lost-again.pdf', owner }, { actor });
    expect(await files().sweepOrphans({ owner, linkedBy: [links.fileId, second.fileId], olderThanHours: 0, actor })).toBe(1);
    await expect(files().get(orphan.id)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await files().get(inFirst.file.id)).id).toBe(inFirst.file.id);
    expect((await files().get(inSecond.id)).id).toBe(inSecond.id);
  });
});
