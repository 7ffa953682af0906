import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { DatabaseConfig } from '@diandan/kernel';
import { loadPgliteImage } from '@diandan/kernel/pglite-image';
import postgres from 'postgres';

/** A database made for one test (or test file) and thrown away afterwards. */
export interface TestDatabase {
  /** Pass this as `deployment.database`. */
  readonly config: DatabaseConfig;
  /** `postgres` when `DATABASE_URL` is set, else `pglite`. */
  readonly driver: 'pglite' | 'postgres';
  /** Deletes the database (drops it on Postgres, removes the folder on PGlite). */
  drop(): Promise<void>;
}

/** Which driver the test suite runs on: `postgres` when `DATABASE_URL` is set. */
export function testDriver(): 'pglite' | 'postgres' {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

/**
 * Makes a fresh, empty database. With `DATABASE_URL` set, a new database named
 * `diandan_t_<random>` is created on that server, so test files never see each
 * other's data and can run in parallel. Without it, PGlite runs in memory — or in a
 * temporary folder when `persistent` is set, so that a test can stop a server and
 * start another on the same data.
 */
export async function createTestDatabase(options: { persistent?: boolean } = {}): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `diandan_t_${randomBytes(6).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const target = new URL(url);
    target.pathname = `/${name}`;
    return {
      config: { url: target.toString(), maxConnections: 20 },
      driver: 'postgres',
      async drop() {
        const conn = postgres(url, { max: 1, onnotice: () => {} });
        try {
          await conn.unsafe(`drop database if exists ${name} with (force)`);
        } finally {
          await conn.end();
        }
      },
    };
  }
  if (!options.persistent) {
    return { config: { dataDir: 'memory://', initialData: await blankPglite() }, driver: 'pglite', drop: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), 'diandan-pglite-'));
  return {
    config: { dataDir: dir },
    driver: 'pglite',
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

let template: Promise<Blob> | undefined;

/**
 * A dump of a freshly initialised, empty PGlite data folder. initdb takes seconds
 * in WASM; loading a dump takes a fraction of that. It is the image the kernel's
 * build ships (`dist/pglite-image.tar.gz`, decompressed once per process) when it is
 * there and made by the PGlite version installed; otherwise a dump made once per
 * machine and PGlite version (kept in the temp folder), also kept per process.
 */
function blankPglite(): Promise<Blob> {
  template ??= (async () => {
    const shipped = await loadPgliteImage();
    if (shipped) return shipped;
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const { version } = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    const file = join(tmpdir(), `diandan-pglite-template-${version}.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch {
      const db = await PGlite.create('memory://');
      const dump = await db.dumpDataDir('none');
      await db.close();
      // Write then rename, so a parallel test file never reads half a dump.
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
      await rename(partial, file);
      return dump;
    }
  })();
  return template;
}
