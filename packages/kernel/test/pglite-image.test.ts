// The prepared PGlite image (src/db/pglite-image.ts): an empty or missing data folder
// starts from it instead of initdb, a folder holding a database is never touched, and
// an image this process cannot use is skipped (initdb then runs, as before) with the
// reason logged and nothing left behind. These tests are about PGlite whatever the
// driver of the run.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openDatabase, queryRows, type DatabaseConnection } from '@diandan/kernel';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPgliteImage,
  checkPgliteImage,
  migrationHashes,
  inspectDataDir,
  loadPgliteImage,
  IMAGE_FORMAT,
  installedPgBossSchema,
  MANIFEST_NAME,
  prepareEmbeddedStart,
  SHIPPED_PGLITE_IMAGE,
} from '../src/db/pglite-image.js';
import { TAR_END, tarFile, tarMembers } from '../src/db/tar.js';

let work: string;
/** The image under test: the shipped one (found without configuration) when built, else one made here. */
let image: string | undefined;
let imageFile: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'diandan-image-test-'));
  if (existsSync(SHIPPED_PGLITE_IMAGE)) {
    imageFile = SHIPPED_PGLITE_IMAGE;
  } else {
    imageFile = image = join(work, 'pglite-image.tar.gz');
    await buildPgliteImage(image);
  }
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

interface Logged {
  level: 'info' | 'warn';
  msg: string;
}
function recorder() {
  const lines: Logged[] = [];
  const log = {
    info: (_o: object, msg: string) => lines.push({ level: 'info', msg }),
    warn: (_o: object, msg: string) => lines.push({ level: 'warn', msg }),
  } as never;
  return { lines, log };
}

async function open(dataDir: string, extra: { pgliteImage?: string | false } = {}) {
  const { lines, log } = recorder();
  const connection = await openDatabase({ dataDir, pgliteImage: image, ...extra }, { log });
  return { connection, lines };
}

const one = async (c: DatabaseConnection, query: ReturnType<typeof sql>) => (await queryRows<Record<string, unknown>>(c.db, query))[0]!;

/** The image re-packed with a manifest edited by `edit`, to stand for one made by another version. */
async function repacked(name: string, edit: (manifest: Record<string, unknown>) => void): Promise<string> {
  const archive = gunzipSync(await readFile(imageFile));
  const parts: Buffer[] = [];
  for (const member of tarMembers(archive)) {
    if (member.name !== MANIFEST_NAME) {
      parts.push(member.raw);
      continue;
    }
    const manifest = JSON.parse(member.data.toString('utf8')) as Record<string, unknown>;
    edit(manifest);
    parts.push(tarFile(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest))));
  }
  const file = join(work, name);
  await writeFile(file, gzipSync(Buffer.concat([...parts, TAR_END])));
  return file;
}

describe('a new PGlite data folder', () => {
  it('starts from the image when the folder does not exist, with the embedded settings', async () => {
    const dir = join(work, 'missing', 'data');
    const { connection, lines } = await open(dir);
    try {
      expect(lines).toEqual([{ level: 'info', msg: 'PGlite: new data folder created from the prepared image' }]);
      expect(await one(connection, sql`select 1 + 1 as two`)).toEqual({ two: 2 });
      expect(await one(connection, sql`show shared_buffers`)).toEqual({ shared_buffers: '32MB' });
    } finally {
      await connection.close();
    }
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    // The manifest stays, as a record of where the folder came from.
    expect(JSON.parse(await readFile(join(dir, MANIFEST_NAME), 'utf8'))).toMatchObject({ format: IMAGE_FORMAT, pgboss: installedPgBossSchema() });
  });

  it('comes from an image that holds a blank cluster, its manifest first and no lock file', async () => {
    const names = [...tarMembers(gunzipSync(await readFile(imageFile)))].map((m) => m.name);
    expect(names[0]).toBe(MANIFEST_NAME);
    expect(names).toContain('PG_VERSION');
    expect(names).not.toContain('postmaster.pid');
  });

  it('starts from the image when the folder exists but is empty (hidden files and lost+found do not count)', async () => {
    const dir = join(work, 'empty');
    await mkdir(join(dir, 'lost+found'), { recursive: true });
    await writeFile(join(dir, '.gitkeep'), '');
    const { connection, lines } = await open(dir);
    await connection.close();
    expect(lines.map((l) => l.msg)).toEqual(['PGlite: new data folder created from the prepared image']);
    expect(await inspectDataDir(dir)).toBe('database');
  });

  it('in memory (memory://) starts from the image too', async () => {
    const { connection, lines } = await open('memory://');
    try {
      expect(lines).toEqual([]);
      expect(await one(connection, sql`show shared_buffers`)).toEqual({ shared_buffers: '32MB' });
    } finally {
      await connection.close();
    }
  });

  it('finishes an interrupted copy: manifest there, PG_VERSION (always written last) missing', async () => {
    const dir = join(work, 'interrupted');
    await (await open(dir)).connection.close();
    await rm(join(dir, 'PG_VERSION'));
    await rm(join(dir, 'base'), { recursive: true });
    expect(await inspectDataDir(dir)).toBe('partial-image');
    const { connection, lines } = await open(dir);
    try {
      expect(lines.map((l) => l.msg)).toEqual(['PGlite: new data folder created from the prepared image']);
      expect(await one(connection, sql`select count(*)::int as n from pg_database`)).toEqual({ n: 3 });
    } finally {
      await connection.close();
    }
  });
});

describe('a PGlite data folder that holds a database', () => {
  it('is opened as it is, never overwritten by the image', async () => {
    const dir = join(work, 'kept');
    let { connection } = await open(dir);
    await queryRows(connection.db, sql`create table kept (note text)`);
    await queryRows(connection.db, sql`insert into kept values ('still here')`);
    await connection.close();

    const reopened = await open(dir);
    connection = reopened.connection;
    try {
      expect(reopened.lines).toEqual([]);
      expect(await one(connection, sql`select note from kept`)).toEqual({ note: 'still here' });
    } finally {
      await connection.close();
    }
  });
});

describe('an image this process cannot use', () => {
  // prepareEmbeddedStart is what openDatabase runs first; asking it directly shows the
  // decision without paying for the initdb that follows.
  it('is skipped when another PGlite version made it: initdb runs, the reason is logged, nothing is written', async () => {
    const other = await repacked('other-version.tar.gz', (m) => (m.pglite = '0.0.1-other'));
    const dir = join(work, 'mismatch');
    const { lines, log } = recorder();
    const start = await prepareEmbeddedStart(dir, other, log, { fallback: false });
    expect(start.options).toEqual({}); // no image to load: PGlite runs initdb
    expect(start.afterOpen).toBeTypeOf('function'); // and the new database gets the embedded settings
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.msg).toMatch(/made by PGlite 0\.0\.1-other, this process runs PGlite \d+\.\d+\.\d+.*running initdb instead/);
    expect(await inspectDataDir(dir)).toBe('missing');
    expect(await loadPgliteImage(other)).toBeUndefined();
  });

  it('holds pg-boss\'s schema, at the version of the pg-boss installed, so a first start does not install it', async () => {
    const { connection } = await open(join(work, 'with-pgboss'));
    try {
      // Straight after opening: no job runner has run on this database yet.
      expect(await one(connection, sql`select version from pgboss.version`)).toEqual({ version: installedPgBossSchema() });
      expect(await one(connection, sql`select count(*)::int as n from pgboss.queue`)).toEqual({ n: 0 });
    } finally {
      await connection.close();
    }
  });

  it('is skipped when it holds another pg-boss schema version than the pg-boss installed', async () => {
    const other = await repacked('other-pgboss.tar.gz', (m) => (m.pgboss = 1));
    const { lines, log } = recorder();
    const start = await prepareEmbeddedStart(join(work, 'pgboss-mismatch'), other, log, { fallback: false });
    expect(start.options).toEqual({});
    expect(lines[0]!.msg).toMatch(/holds pg-boss schema version 1, this process's pg-boss uses version \d+/);
    expect(await loadPgliteImage(other)).toBeUndefined();
  });

  it('is skipped when it is damaged, leaving the folder as it was', async () => {
    const whole = await readFile(imageFile);
    const truncated = join(work, 'truncated.tar.gz');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const dir = join(work, 'damaged');
    await mkdir(dir);
    const { lines, log } = recorder();
    const start = await prepareEmbeddedStart(dir, truncated, log, { fallback: false });
    expect(start.options).toEqual({});
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect(lines[0]!.msg).toMatch(/cannot be read/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('is not looked for when the folder holds files of another origin', async () => {
    const dir = join(work, 'foreign');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const { lines, log } = recorder();
    await prepareEmbeddedStart(dir, image, log);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect(lines[0]!.msg).toMatch(/holds files but no database/);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it('is not used when `pgliteImage: false`, without a word', async () => {
    const { lines, log } = recorder();
    const start = await prepareEmbeddedStart(join(work, 'forced'), false, log);
    expect(start.options).toEqual({});
    expect(lines).toEqual([]);
    expect(await inspectDataDir(join(work, 'forced'))).toBe('missing');
  });
});

describe("a deployment's own image, with its migrations applied", () => {
  const kernelOnly = [{ plugin: 'kernel', folder: join(import.meta.dirname, '..', 'drizzle') }];
  let migrated: string;
  beforeAll(async () => {
    migrated = join(work, 'migrated.tar.gz');
    await buildPgliteImage(migrated, { migrations: kernelOnly });
  }, 120_000);

  it('records the hashes of the migrations it holds, and a new folder starts with them applied', async () => {
    const check = await checkPgliteImage(migrated);
    expect(check.usable && check.manifest.migrations).toEqual(migrationHashes(kernelOnly));
    const dir = join(work, 'from-migrated');
    const { lines, log } = recorder();
    const connection = await openDatabase({ dataDir: dir, pgliteImage: migrated }, { log, migrations: kernelOnly });
    try {
      expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/with \d+ migrations applied/)]);
      const row = await one(connection, sql`select count(*)::int as n from diandan_migrations."kernel"`);
      expect(row.n).toBe(kernelOnly.length && migrationHashes(kernelOnly).kernel!.length);
    } finally {
      await connection.close();
    }
  });

  it('is not used by a deployment whose migrations it does not fit: the blank image is, saying why', async () => {
    const dir = join(work, 'other-migrations');
    const { lines, log } = recorder();
    // The deployment runs no "kernel" migrations at all, so the image's do not fit it.
    const start = await prepareEmbeddedStart(dir, migrated, log, { migrations: { other: [] }, fallback: imageFile });
    expect(start.options).toEqual({});
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', expect.stringMatching(/holds the migrations of plugin "kernel", which this deployment does not run\); starting from/)],
      ['info', 'PGlite: new data folder created from the prepared image'],
    ]);
    expect(await inspectDataDir(dir)).toBe('database');
  });

  it('whose migrations are not the first of the deployment\'s is not used either', async () => {
    const hashes = migrationHashes(kernelOnly).kernel!;
    const { lines, log } = recorder();
    await prepareEmbeddedStart(join(work, 'reordered'), migrated, log, { migrations: { kernel: ['another', ...hashes] }, fallback: imageFile });
    expect(lines[0]!.msg).toMatch(/its migrations of plugin "kernel" are not the first/);
    // With more migrations of its own than the image holds (a newer release), the image fits.
    const later = recorder();
    await prepareEmbeddedStart(join(work, 'newer'), migrated, later.log, { migrations: { kernel: [...hashes, 'next'] }, fallback: imageFile });
    expect(later.lines.map((l) => l.msg)).toEqual([expect.stringMatching(/with \d+ migrations applied/)]);
  });

  it('when missing (not built yet) gives way to the blank image with an info line', async () => {
    const { lines, log } = recorder();
    await prepareEmbeddedStart(join(work, 'no-deployment-image'), join(work, 'absent.tar.gz'), log, { fallback: imageFile });
    expect(lines.map((l) => l.level)).toEqual(['info', 'info']);
    expect(lines[0]!.msg).toMatch(/\(there is no such file\); starting from/);
  });
});
