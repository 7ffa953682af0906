import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where file contents live: what an object store (S3, OSS, MinIO, a shared disk)
 * implements for `deployment.files.store`. Keys are made by the kernel (a file's
 * uuid): never a client's file name.
 */
export interface FileStore {
  /** Stores `data` under `key`, completely or not at all: a failed or aborted put leaves nothing readable under `key`. */
  put(key: string, data: Readable | Buffer): Promise<void>;
  /** The contents under `key`; rejects when there is none. */
  get(key: string): Promise<Readable>;
  /** Removes `key`; no error when it is not there. */
  delete(key: string): Promise<void>;
  /** Whether something is stored under `key`. */
  exists?(key: string): Promise<boolean>;
}

/** Keys a `LocalDiskFileStore` accepts: letters, digits, `-` and `_` (a uuid or a hex digest), so a key is never a path. */
const KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** The error a store's `get` rejects with when nothing is stored under the key. */
export class FileNotStoredError extends Error {
  override readonly name = 'FileNotStoredError';
  readonly code = 'ENOENT';
}

/**
 * A `FileStore` in a local folder: `<root>/<2 hex>/<key>`, the two hex digits the
 * start of the key's SHA-256 (so no folder grows beyond what a file system likes).
 * Writes go to `<root>/.partial/` and are renamed into place once complete. For one
 * process, or several sharing the folder (NFS); an object store for more.
 */
export class LocalDiskFileStore implements FileStore {
  constructor(readonly root: string) {}

  /** The file a key is kept in. */
  pathOf(key: string): string {
    if (typeof key !== 'string' || !KEY.test(key)) throw new TypeError('a file store key is letters, digits, - and _ only');
    const shard = createHash('sha256').update(key).digest('hex').slice(0, 2);
    return join(this.root, shard, key);
  }

  async put(key: string, data: Readable | Buffer): Promise<void> {
    const target = this.pathOf(key);
    const partialDir = join(this.root, '.partial');
    await mkdir(partialDir, { recursive: true });
    const partial = join(partialDir, `${key}.${randomUUID()}`);
    try {
      await pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : data, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      await mkdir(join(target, '..'), { recursive: true });
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    // Opened before it is returned, so a missing file rejects here rather than erroring mid-response.
    const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new FileNotStoredError(`nothing stored under ${key}`) : error;
    });
    return handle.createReadStream();
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.pathOf(key)).then(
      (s) => s.isFile(),
      () => false,
    );
  }
}
