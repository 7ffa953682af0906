import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseConfig } from '../db/database.js';
import { LocalDiskFileStore, type FileStore } from './store.js';

/** `deployment.files`: where uploaded files are kept and how large they may be. */
export interface FilesConfig {
  /** An object store (S3, OSS, MinIO…) implementing `FileStore`; default a `LocalDiskFileStore`. */
  readonly store?: FileStore;
  /** The folder of the default local store; default `<database.dataDir>/files`, or a temporary folder removed at shutdown. */
  readonly dir?: string;
  /** Largest file accepted, in bytes (default 10 MiB); a plugin may set its own per call. */
  readonly maxBytes?: number;
}

/** 10 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Data folders that are not folders on disk (PGlite's in-memory and browser stores). */
const NOT_A_FOLDER = /^(memory|idb|opfs-ahp):\/\//;

/** The deployment's file store, and what to do at shutdown (remove a temporary folder). */
export async function openFileStore(
  config: FilesConfig | undefined,
  database: DatabaseConfig | undefined,
  log: FastifyBaseLogger,
): Promise<{ store: FileStore; maxBytes: number; close(): Promise<void> }> {
  const maxBytes = config?.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (config?.store) return { store: config.store, maxBytes, close: async () => {} };
  const dataDir = database?.dataDir;
  const dir = config?.dir ?? (dataDir && !NOT_A_FOLDER.test(dataDir) ? join(dataDir, 'files') : undefined);
  if (dir) return { store: new LocalDiskFileStore(dir), maxBytes, close: async () => {} };
  const temporary = await mkdtemp(join(tmpdir(), 'diandan-files-'));
  if (database?.url) {
    log.warn('no `files.dir`, `files.store` or `database.dataDir`: uploaded files are kept in a temporary folder and removed at shutdown');
  }
  return { store: new LocalDiskFileStore(temporary), maxBytes, close: () => rm(temporary, { recursive: true, force: true }) };
}
