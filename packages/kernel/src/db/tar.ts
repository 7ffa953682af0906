/**
 * The little of the tar format the PGlite image needs: the ustar archives PGlite's
 * `dumpDataDir()` writes (regular files and directories, short names), parsed as a
 * stream or in memory, and written member by member. Anything else (links, long names, base-256
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

/** A member's header, as `TarParser` reports it. */
export interface TarHeader {
  readonly name: string;
  readonly type: 'file' | 'directory';
  readonly mode: number;
  readonly size: number;
}

function parseHeader(header: Buffer): TarHeader | undefined {
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
 * Parses an archive pushed to it chunk by chunk (e.g. from a gunzip stream) and
 * reports each member as it goes: its header, its contents in pieces, its end. It
 * holds no more than one chunk, whatever the members' sizes. Throws `TarFormatError`
 * on anything it does not understand; `finish()` throws when the end-of-archive
 * block never came.
 */
export class TarParser {
  #partial: Buffer = Buffer.alloc(0);
  #member: TarHeader | undefined;
  #left = 0; // bytes of the member's contents still to come
  #padding = 0; // bytes of padding after them
  #ended = false;

  constructor(
    private readonly on: {
      member(header: TarHeader): void;
      data(piece: Buffer): void;
      end(header: TarHeader): void;
    },
  ) {}

  /** Whether the end-of-archive block was read (what follows it is ignored). */
  get ended(): boolean {
    return this.#ended;
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#ended) {
      if (this.#member && this.#left > 0) {
        const piece = chunk.subarray(at, at + this.#left);
        this.#left -= piece.length;
        at += piece.length;
        this.on.data(piece);
        if (this.#left === 0) this.#close();
      } else if (this.#padding > 0) {
        const skip = Math.min(this.#padding, chunk.length - at);
        this.#padding -= skip;
        at += skip;
      } else {
        const need = BLOCK - this.#partial.length;
        const piece = chunk.subarray(at, at + need);
        at += piece.length;
        this.#partial = this.#partial.length ? Buffer.concat([this.#partial, piece]) : piece;
        if (this.#partial.length < BLOCK) break;
        const header = parseHeader(this.#partial);
        this.#partial = Buffer.alloc(0);
        if (!header) {
          this.#ended = true;
          break;
        }
        this.#member = header;
        this.#left = header.size;
        this.#padding = (BLOCK - (header.size % BLOCK)) % BLOCK;
        this.on.member(header);
        if (this.#left === 0) this.#close();
      }
    }
  }

  finish(): void {
    if (!this.#ended) throw new TarFormatError('the archive ends before its end-of-archive block');
  }

  #close(): void {
    const member = this.#member!;
    this.#member = undefined;
    this.on.end(member);
  }
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
