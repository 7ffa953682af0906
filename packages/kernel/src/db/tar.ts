/**
 * The little of the tar format the PGlite image needs: the ustar archives PGlite's
 * `dumpDataDir()` writes (regular files and directories, short names), read as a
 * stream and written entry by entry. Anything else (links, long names, base-256
 * sizes) is refused rather than guessed at.
 */

const BLOCK = 512;

/** One archive member: its path inside the archive (no leading `/`), type, mode and contents. */
export interface TarEntry {
  readonly name: string;
  readonly type: 'file' | 'directory';
  readonly mode: number;
  readonly data: Buffer;
}

/** The archive is not one this reader understands (or is damaged). */
export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number, what: string): number {
  if ((header[offset]! & 0x80) !== 0) throw new TarFormatError(`base-256 ${what} fields are not supported`);
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError(`bad ${what} field "${text}"`);
  return text ? parseInt(text, 8) : 0;
}

function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

/** A member's path, checked to stay inside the folder it is extracted to. */
function safeName(raw: string): string {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..' || p.includes('\\') || p.includes('\u0000'))) {
    throw new TarFormatError(`unsafe member name "${raw}"`);
  }
  return parts.join('/');
}

interface Header {
  readonly name: string;
  readonly type: 'file' | 'directory';
  readonly mode: number;
  readonly size: number;
}

function parseHeader(header: Buffer): Header | undefined {
  if (header.every((b) => b === 0)) return undefined;
  if (octal(header, 148, 8, 'checksum') !== checksum(header)) throw new TarFormatError('header checksum mismatch');
  const flag = String.fromCharCode(header[156]!);
  if (flag !== '0' && flag !== '\u0000' && flag !== '5') throw new TarFormatError(`unsupported member type "${flag}"`);
  const prefix = field(header, 257, 5) === 'ustar' ? field(header, 345, 155) : '';
  const name = safeName(prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
  return {
    name,
    type: flag === '5' ? 'directory' : 'file',
    mode: octal(header, 100, 8, 'mode') & 0o777,
    size: flag === '5' ? 0 : octal(header, 124, 12, 'size'),
  };
}

/**
 * Reads archive members from a byte stream (e.g. a gunzip stream) as they arrive; a
 * member's contents are held in memory only until it is yielded. The stream is read
 * to its end, so an error the source reports there (a gzip checksum) is thrown before
 * the generator finishes. Throws `TarFormatError` on anything it does not understand,
 * and when the stream ends before the end-of-archive block.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<TarEntry> {
  let pending: Buffer[] = [];
  let buffered = 0;
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    pending = rest.length ? [rest] : [];
    buffered = rest.length;
    return out;
  };
  let header: Header | undefined;
  let ended = false;
  for await (const chunk of source) {
    // After the end-of-archive block only padding follows; it is read to the end so
    // that the source can verify what it delivered (gunzip checks its CRC there).
    if (ended) continue;
    pending.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    buffered += chunk.length;
    for (;;) {
      if (!header) {
        if (buffered < BLOCK) break;
        header = parseHeader(take(BLOCK));
        if (!header) {
          ended = true;
          pending = [];
          break;
        }
      }
      const padded = Math.ceil(header.size / BLOCK) * BLOCK;
      if (buffered < padded) break;
      const data = take(padded).subarray(0, header.size);
      yield { name: header.name, type: header.type, mode: header.mode, data };
      header = undefined;
    }
  }
  if (!ended) throw new TarFormatError('the archive ends before its end-of-archive block');
}

/** The members of an archive held in memory, with each member's raw blocks (for copying it unchanged). */
export function* tarMembers(archive: Buffer): Generator<TarEntry & { readonly raw: Buffer }> {
  for (let offset = 0; offset + BLOCK <= archive.length; ) {
    const header = parseHeader(archive.subarray(offset, offset + BLOCK));
    if (!header) return;
    const end = offset + BLOCK + Math.ceil(header.size / BLOCK) * BLOCK;
    if (end > archive.length) throw new TarFormatError(`member "${header.name}" is truncated`);
    const data = archive.subarray(offset + BLOCK, offset + BLOCK + header.size);
    yield { ...header, data, raw: archive.subarray(offset, end) };
    offset = end;
  }
  throw new TarFormatError('the archive ends before its end-of-archive block');
}

/** One regular file as ustar blocks (header and contents padded to 512 bytes). */
export function tarFile(name: string, data: Buffer, options: { mode?: number; mtime?: Date } = {}): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > 100) throw new TarFormatError(`member name "${name}" is longer than 100 bytes`);
  const header = Buffer.alloc(BLOCK);
  bytes.copy(header, 0);
  const put = (offset: number, length: number, value: number) =>
    header.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
  put(100, 8, options.mode ?? 0o600);
  put(108, 8, 0); // uid
  put(116, 8, 0); // gid
  put(124, 12, data.length);
  put(136, 12, Math.floor((options.mtime ?? new Date()).getTime() / 1000));
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\u0000', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write(`${checksum(header).toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  const padding = Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK);
  return Buffer.concat([header, data, padding]);
}

/** The end-of-archive marker: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
