/**
 * The prepared PGlite database image: a blank Postgres cluster made once, at build
 * time, so that a new embedded database does not run initdb. initdb in WebAssembly
 * takes seconds and, since PGlite 0.5 runs it in a second PGlite instance beside the
 * first, peaks at ~870 MiB; copying the image's files into an empty folder takes a
 * fraction of a second, and the start then costs about the memory of a restart.
 *
 * The image is `dist/pglite-image.tar.gz` of `@diandan/kernel`, written by
 * `scripts/build-pglite-image.mjs` during `pnpm build`: the ustar archive of PGlite's
 * `dumpDataDir()` (without `postmaster.pid`), preceded by a manifest member
 * (`diandan-image.json`) that names the PGlite version that made it. An image is
 * used only by that exact version, since the data folder's layout belongs to it.
 *
 * The kernel's image is a blank cluster: which plugins a deployment runs, and which of
 * their migrations exist, change with every deployment and release. A deployment can
 * make its own image with its migrations already applied (`buildPgliteImage(file,
 * { migrations })`, e.g. at build time, as apps/server does), since applying every
 * plugin's migrations in WebAssembly takes seconds of a first start. Such an image
 * records the hashes of the migrations it holds, and a deployment uses it only when
 * they are, plugin by plugin, the first of its own (the rest are then applied as on
 * any start); otherwise it starts from the kernel's blank image. Either image carries,
 * beyond initdb's output, `EMBEDDED_SETTINGS` (in `postgresql.auto.conf`).
 */
import { closeSync, createReadStream, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGunzip, gunzip, gzip, type Gunzip } from 'node:zlib';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from './database.js';
import type { MigrationSource } from './migrate.js';
import { TAR_END, tarFile, tarMembers, TarFormatError, TarParser, type TarHeader } from './tar.js';

/** Bumped when the image's layout or recipe changes; older images are then rebuilt or skipped. */
export const IMAGE_FORMAT = 2;

/** The manifest member, first in the archive; it stays in the data folder as a record of where it came from. */
export const MANIFEST_NAME = 'diandan-image.json';

/**
 * Server settings of a new embedded database (written to its `postgresql.auto.conf`;
 * the owner can change them there). Postgres's default `shared_buffers` of 128 MB is
 * allocated and zeroed up front inside PGlite's WebAssembly heap, so it is all
 * resident: 32 MB saves ~95 MiB of RSS on every start. The data sits in the operating
 * system's file cache behind it anyway.
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = { shared_buffers: '32MB' };

/** What the manifest member says. */
export interface PgliteImageManifest {
  readonly format: number;
  /** The `@electric-sql/pglite` version that made the image; only that version uses it. */
  readonly pglite: string;
  /** `server_version` of the Postgres inside. */
  readonly postgres: string;
  readonly createdAt: string;
  readonly settings: Readonly<Record<string, string>>;
  /**
   * The version of pg-boss's schema installed in the image (schema `pgboss`, where the
   * kernel's job runner keeps its queues), so that a first start does not install it;
   * only a process whose pg-boss has exactly this schema version uses the image.
   */
  readonly pgboss: number;
  /**
   * The migrations applied in the image: per plugin, their hashes in order. Absent in
   * a blank image (the kernel's), which any deployment can start from.
   */
  readonly migrations?: Readonly<Record<string, readonly string[]>>;
}

/** Each plugin's migration hashes, in order, as `migrate` would apply them. */
export function migrationHashes(sources: readonly MigrationSource[]): Record<string, string[]> {
  return Object.fromEntries(sources.map((s) => [s.plugin, readMigrationFiles({ migrationsFolder: s.folder }).map((m) => m.hash)]));
}

/**
 * Why an image's migrations do not fit a deployment's, or undefined when they do:
 * every plugin in the image is in the deployment, and its migrations in the image are
 * the first of the deployment's, in order (a start applies the others).
 */
export function migrationsMismatch(
  inImage: Readonly<Record<string, readonly string[]>> | undefined,
  deployment: Readonly<Record<string, readonly string[]>> | undefined,
): string | undefined {
  if (!inImage) return undefined;
  for (const [plugin, hashes] of Object.entries(inImage)) {
    const ours = deployment?.[plugin];
    if (!ours) return `it holds the migrations of plugin "${plugin}", which this deployment does not run`;
    if (hashes.length > ours.length || hashes.some((h, i) => ours[i] !== h)) {
      return `its migrations of plugin "${plugin}" are not the first ${hashes.length} of this deployment's ${ours.length}`;
    }
  }
  return undefined;
}

/** Where the kernel's build writes the image, and where the kernel looks for it (the same path from `src/db` and `dist/db`). */
export const SHIPPED_PGLITE_IMAGE = fileURLToPath(new URL('../../dist/pglite-image.tar.gz', import.meta.url));

let installedVersion: string | undefined;
let installedBossSchema: number | undefined;

/** The version of pg-boss's schema the pg-boss this kernel runs installs (its package.json's `pgboss.schema`). */
export function installedPgBossSchema(): number {
  if (installedBossSchema !== undefined) return installedBossSchema;
  const pkg = createRequire(import.meta.url)('pg-boss/package.json') as { pgboss?: { schema?: number } };
  if (typeof pkg.pgboss?.schema !== 'number') throw new Error('cannot find the schema version of pg-boss');
  return (installedBossSchema = pkg.pgboss.schema);
}

/** The version of `@electric-sql/pglite` this kernel runs. */
export function installedPgliteVersion(): string {
  if (installedVersion) return installedVersion;
  // PGlite does not export its package.json: walk up from its entry point.
  const require = createRequire(import.meta.url);
  for (let dir = dirname(require.resolve('@electric-sql/pglite')); ; dir = dirname(dir)) {
    try {
      const pkg = require(join(dir, 'package.json')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return (installedVersion = pkg.version);
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) throw new Error('cannot find the version of @electric-sql/pglite');
  }
}

/** Chunk size of decompression; also the size of the zero runs left as holes. */
const CHUNK = 1 << 20;
let zeros: Buffer | undefined;

function gunzipped(file: string): Gunzip {
  // Large chunks: the archive is 40 MB, mostly a few big files.
  const out = createGunzip({ chunkSize: CHUNK });
  // A read error destroys `out` with that error, so whoever iterates it sees it.
  pipeline(createReadStream(file, { highWaterMark: CHUNK }), out, () => {});
  return out;
}

function parseManifest(entry: { name: string; data: Buffer } | undefined): PgliteImageManifest {
  if (entry?.name !== MANIFEST_NAME) throw new TarFormatError(`not a Diandan PGlite image (no ${MANIFEST_NAME} first)`);
  return JSON.parse(entry.data.toString('utf8')) as PgliteImageManifest;
}

function mismatch(manifest: PgliteImageManifest): string | undefined {
  if (manifest.format !== IMAGE_FORMAT) return `it has format ${manifest.format}, this kernel reads format ${IMAGE_FORMAT}`;
  const running = installedPgliteVersion();
  if (manifest.pglite !== running) return `it was made by PGlite ${manifest.pglite}, this process runs PGlite ${running}`;
  const boss = installedPgBossSchema();
  if (manifest.pgboss !== boss) return `it holds pg-boss schema version ${manifest.pgboss}, this process's pg-boss uses version ${boss}`;
  return undefined;
}

/** Whether an image can be used by this process, and if not why. `missing` when there is no such file. */
export type ImageCheck =
  | { readonly usable: true; readonly manifest: PgliteImageManifest }
  | { readonly usable: false; readonly missing: boolean; readonly reason: string };

/**
 * Pushes the image's decompressed bytes through `parser` until `stop()` is true or the
 * stream ends — then the gzip checksum has been verified and the archive's end seen.
 */
async function feed(file: string, parser: TarParser, stop: () => boolean = () => false): Promise<void> {
  for await (const chunk of gunzipped(file)) {
    parser.write(chunk as Buffer);
    if (stop()) return;
  }
  parser.finish();
}

/** A parser that keeps the first member (the manifest) and stops there. */
function manifestReader() {
  let header: TarHeader | undefined;
  let done = false;
  const pieces: Buffer[] = [];
  const parser = new TarParser({
    member: (h) => (header ??= h),
    data: (piece) => {
      if (!done) pieces.push(Buffer.from(piece));
    },
    end: () => (done = true),
  });
  return {
    parser,
    done: () => done || parser.ended,
    manifest: () => parseManifest(header && done ? { name: header.name, data: Buffer.concat(pieces) } : undefined),
  };
}

/** Reads an image's manifest (only its first member is decompressed) and checks it against the running PGlite. */
export async function checkPgliteImage(file: string): Promise<ImageCheck> {
  try {
    const reader = manifestReader();
    await feed(file, reader.parser, reader.done);
    const manifest = reader.manifest();
    const reason = mismatch(manifest);
    return reason ? { usable: false, missing: false, reason } : { usable: true, manifest };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { usable: false, missing, reason: missing ? 'there is no such file' : `it cannot be read: ${(error as Error).message}` };
  }
}

/**
 * The image as an uncompressed tarball for PGlite's `loadDataDir`, or `undefined` when
 * it is missing or was made by another PGlite version. For `@diandan/testing`, which
 * decompresses it once per process and starts every in-memory test database from it.
 */
export async function loadPgliteImage(file: string = SHIPPED_PGLITE_IMAGE): Promise<Blob | undefined> {
  if (!(await checkPgliteImage(file)).usable) return undefined;
  return new Blob([await promisify(gunzip)(await readFile(file))], { type: 'application/x-tar' });
}

/** What goes into an image beyond the blank cluster. */
export interface BuildImageOptions {
  /**
   * Migrations to apply, kernel first then plugins in dependency order — a deployment's
   * are `deploymentMigrations(deployment)` (from `@diandan/kernel`). None: a blank image.
   */
  readonly migrations?: readonly MigrationSource[];
}

/**
 * Makes an image: initdb in memory, `EMBEDDED_SETTINGS`, the given migrations,
 * pg-boss's schema (what its `start()` would install on a first start, from its own
 * `getConstructionPlans` for the PGlite backend), a checkpoint (so a start from it has nothing to replay), then the dump, gzipped.
 * Written beside `file` and renamed into place, so a reader never sees half an image.
 * Takes seconds and ~900 MiB.
 */
export async function buildPgliteImage(file: string, options: BuildImageOptions = {}): Promise<PgliteImageManifest> {
  const db = await PGlite.create('memory://');
  let dump: Buffer;
  let postgres: string;
  let pgboss: number;
  const sources = options.migrations ?? [];
  try {
    await applyEmbeddedSettings(db);
    if (sources.length) {
      // Imported here: migrate.ts reaches this module through database.ts.
      const { migrate } = await import('./migrate.js');
      await migrate(drizzle({ client: db }) as unknown as Database, sources);
    }
    // As on a start: the kernel's migrations first, then pg-boss installs its schema.
    const { getConstructionPlans } = await import('pg-boss');
    const { PGBOSS_SCHEMA } = await import('../jobs/adapters.js');
    await db.exec(getConstructionPlans(PGBOSS_SCHEMA, { backend: 'pglite' }));
    pgboss = Number((await db.query<{ version: string }>(`select version from ${PGBOSS_SCHEMA}.version`)).rows[0]!.version);
    await db.exec('CHECKPOINT');
    postgres = (await db.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
  } finally {
    await db.close();
  }
  const manifest: PgliteImageManifest = {
    format: IMAGE_FORMAT,
    pglite: installedPgliteVersion(),
    postgres,
    createdAt: new Date().toISOString(),
    settings: EMBEDDED_SETTINGS,
    pgboss,
    ...(sources.length ? { migrations: migrationHashes(sources) } : {}),
  };
  const parts = [tarFile(MANIFEST_NAME, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`))];
  // The lock file of the instance that made the dump means nothing to the next one.
  for (const member of tarMembers(dump)) if (member.name !== 'postmaster.pid') parts.push(member.raw);
  parts.push(TAR_END);
  const compressed = await promisify(gzip)(Buffer.concat(parts), { level: 9 });
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, compressed);
  await rename(partial, file);
  return manifest;
}

async function applyEmbeddedSettings(db: PGlite): Promise<void> {
  for (const [name, value] of Object.entries(EMBEDDED_SETTINGS)) await db.exec(`ALTER SYSTEM SET ${name} = '${value}'`);
}

/**
 * What a data folder holds: nothing (`missing`, `empty` — hidden files and
 * `lost+found` do not count), a database (`PG_VERSION` present), an image whose
 * extraction was interrupted (`partial-image`: our manifest, no `PG_VERSION`, which is
 * always written last), or files of some other origin (`foreign`).
 */
export type DataDirState = 'missing' | 'empty' | 'database' | 'partial-image' | 'foreign';

export async function inspectDataDir(dir: string): Promise<DataDirState> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'foreign';
  }
  if (names.includes('PG_VERSION')) return 'database';
  if (names.includes(MANIFEST_NAME)) return 'partial-image';
  return names.every((n) => n.startsWith('.') || n === 'lost+found') ? 'empty' : 'foreign';
}

/**
 * Copies an image's files into `dataDir` (created when missing), streaming: no more
 * than a chunk of the archive is held in memory, and runs of zeros in large files (the
 * WAL segment is 16 MB, mostly zeros) are left as holes. The manifest is checked
 * before anything is written and written first; `PG_VERSION`, which is what makes the
 * folder a database for PGlite, is written last, once the whole archive has been read
 * and its gzip checksum verified — so an interrupted copy never looks like a
 * database. If the copy fails, the files and folders it made are removed again.
 * Files are written synchronously: this runs before the server listens, with nothing
 * else to do, and a thousand small writes cost less without a thread-pool round trip each.
 */
export async function extractPgliteImage(file: string, dataDir: string): Promise<PgliteImageManifest> {
  const root = resolve(dataDir);
  const madeRoot = (await inspectDataDir(root)) === 'missing';
  const written: string[] = [];
  const made: string[] = [];
  const known = new Set<string>([root]);
  const ensureDir = (dir: string, mode = 0o700): void => {
    if (known.has(dir)) return;
    ensureDir(dirname(dir));
    try {
      mkdirSync(dir, { mode });
      made.push(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    known.add(dir);
  };
  let members = 0;
  let manifest: PgliteImageManifest | undefined;
  let pgVersion: { data: Buffer; mode: number } | undefined;
  let held: Buffer[] | undefined; // contents kept in memory: the manifest and PG_VERSION
  let fd: number | undefined;
  let position = 0;
  const parser = new TarParser({
    member(header) {
      if (++members === 1 || header.name === 'PG_VERSION') {
        held = [];
        return;
      }
      if (!manifest) throw new TarFormatError(`not a Diandan PGlite image (no ${MANIFEST_NAME} first)`);
      const target = join(root, ...header.name.split('/'));
      if (header.type === 'directory') return ensureDir(target, header.mode | 0o700);
      ensureDir(dirname(target));
      fd = openSync(target, 'w', header.mode | 0o600);
      written.push(target);
      position = 0;
    },
    data(piece) {
      if (held) held.push(Buffer.from(piece));
      else if (piece.length === CHUNK && piece.equals((zeros ??= Buffer.alloc(CHUNK)))) position += piece.length;
      else position += writeSync(fd!, piece, 0, piece.length, position);
    },
    end(header) {
      if (members === 1) {
        const data = Buffer.concat(held!);
        manifest = parseManifest({ name: header.name, data });
        const reason = mismatch(manifest);
        if (reason) throw new TarFormatError(reason);
        writeFileSync(join(root, MANIFEST_NAME), data, { mode: 0o600 });
        written.push(join(root, MANIFEST_NAME));
      } else if (header.name === 'PG_VERSION') {
        pgVersion = { data: Buffer.concat(held!), mode: header.mode };
      } else if (fd !== undefined) {
        if (position < header.size) ftruncateSync(fd, header.size); // a trailing hole
        closeSync(fd);
        fd = undefined;
      }
      held = undefined;
    },
  });
  try {
    if (madeRoot) {
      mkdirSync(root, { recursive: true, mode: 0o700 });
      made.push(root);
    }
    await feed(file, parser);
    if (!manifest || !pgVersion) throw new TarFormatError('the image holds no database (no PG_VERSION)');
    writeFileSync(join(root, 'PG_VERSION'), pgVersion.data, { mode: pgVersion.mode | 0o600 });
    return manifest;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    for (const path of written.reverse()) await rm(path, { force: true });
    for (const dir of made.reverse()) await rmdir(dir).catch(() => {});
    throw error;
  }
}

/** A damaged image (bad archive or gzip data), as opposed to a file-system error. */
function isDamage(error: unknown): boolean {
  return error instanceof TarFormatError || error instanceof SyntaxError || /^Z_/.test((error as NodeJS.ErrnoException).code ?? '');
}

/** Logs what the embedded database start did; a pino/Fastify logger fits. */
export type DatabaseLog = Pick<FastifyBaseLogger, 'info' | 'warn'>;

/** How to open PGlite: its options, and what to do once it is open. */
export interface EmbeddedStart {
  readonly options: PGliteOptions;
  readonly afterOpen?: (db: PGlite) => Promise<void>;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** What `prepareEmbeddedStart` checks an image against, and where it turns when the configured one will not do. */
export interface EmbeddedStartOptions {
  /** The deployment's migration hashes per plugin (`migrationHashes`); an image holding others is not used. */
  readonly migrations?: Readonly<Record<string, readonly string[]>> | undefined;
  /** The image tried when the configured one cannot be used: the kernel's blank image, unless `false`. */
  readonly fallback?: string | false | undefined;
}

/**
 * Decides how an embedded database starts: an empty or missing folder (or
 * `memory://`) from an image when one is usable, a folder holding a database as it
 * is — never overwriting it. The image tried first is the deployment's
 * (`database.pgliteImage`), used only when its migrations fit `migrations` (the
 * deployment's hashes, see `migrationsMismatch`), then the kernel's blank one. When
 * none can be used, PGlite runs initdb as it always did, logged with the reason, and
 * the new database then gets `EMBEDDED_SETTINGS` too (effective from its next start).
 */
export async function prepareEmbeddedStart(
  dataDir: string,
  image: string | false | undefined,
  log: DatabaseLog,
  options: EmbeddedStartOptions = {},
): Promise<EmbeddedStart> {
  const { migrations, fallback = SHIPPED_PGLITE_IMAGE } = options;
  const candidates = image === false ? [] : [...new Set([image ?? fallback, fallback].filter((f): f is string => !!f))];
  const memory = dataDir.startsWith('memory://');
  const initdb = (reason: string | undefined, level: 'info' | 'warn' = 'warn'): EmbeddedStart => {
    if (reason) {
      log[level](
        { dataDir, image: candidates[0] },
        `PGlite: not starting from the prepared image (${reason}); running initdb instead, which takes seconds and ~900 MiB`,
      );
    }
    return memory ? { options: {} } : { options: {}, afterOpen: applyEmbeddedSettings };
  };
  if (!memory && SCHEME.test(dataDir) && !/^file:\/\//i.test(dataDir)) return { options: {} }; // a browser file system: not ours
  const dir = memory ? undefined : dataDir.replace(/^file:\/\//i, '');
  if (dir !== undefined) {
    const state = await inspectDataDir(dir);
    if (state === 'database') return { options: {} };
    if (state === 'foreign') return initdb(`"${dir}" holds files but no database`);
  }
  if (candidates.length === 0) return initdb(undefined);
  // The first usable candidate; what was wrong with the others is logged once one is found (or initdb runs).
  const skipped: { file: string; missing: boolean; reason: string }[] = [];
  let chosen: { file: string; manifest: PgliteImageManifest } | undefined;
  for (const file of candidates) {
    const check = await checkPgliteImage(file);
    const reason = check.usable ? migrationsMismatch(check.manifest.migrations, migrations) : check.reason;
    if (check.usable && reason === undefined) {
      chosen = { file, manifest: check.manifest };
      break;
    }
    skipped.push({ file, missing: !check.usable && check.missing, reason: reason! });
  }
  if (!chosen) {
    // No image is normal when running from sources before a build; in memory, say nothing then.
    const last = skipped[skipped.length - 1]!;
    if (skipped.every((s) => s.missing)) return initdb(memory ? undefined : `there is no image at ${last.file}; \`pnpm build\` makes it`, 'info');
    return initdb(skipped.map((s) => `${s.file}: ${s.reason}`).join('; '));
  }
  for (const s of skipped) {
    // A deployment image not built yet (running from sources) is normal; one that no longer fits is worth a warning.
    log[s.missing ? 'info' : 'warn']({ dataDir, image: s.file }, `PGlite: not starting from the image at ${s.file} (${s.reason}); starting from ${chosen.file}`);
  }
  const held = Object.values(chosen.manifest.migrations ?? {}).reduce((n, hashes) => n + hashes.length, 0);
  if (dir === undefined) return { options: { loadDataDir: new Blob([await readFile(chosen.file)], { type: 'application/x-gzip' }) } };
  const started = performance.now();
  try {
    await extractPgliteImage(chosen.file, dir);
  } catch (error) {
    if (isDamage(error)) return initdb(`it cannot be read: ${(error as Error).message}`);
    throw error;
  }
  log.info(
    { dataDir, image: chosen.file, pglite: chosen.manifest.pglite, migrations: held, ms: Math.round(performance.now() - started) },
    held ? `PGlite: new data folder created from the prepared image, with ${held} migrations applied` : 'PGlite: new data folder created from the prepared image',
  );
  return { options: {} };
}
