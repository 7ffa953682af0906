import type * as FileType from 'file-type';

// `file-type` (and its parsers) is loaded on the first upload, not by every start (~0.15 s of CPU).
let fileType: Promise<typeof FileType> | undefined;

/** What `files.save` accepts when the caller names no `accept` list: documents, images and video a city publishes. */
export const DEFAULT_FILE_TYPES: readonly string[] = Object.freeze(['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'image/gif', 'video/mp4']);

/** How many leading bytes the type is decided from. */
export const SNIFF_BYTES = 64 * 1024;

const TEXT_TYPES = new Set(['text/plain', 'text/csv']);

/** Whether `type` is in `accept`, which may hold `image/*`-style wildcards. */
export function accepts(accept: readonly string[], type: string): boolean {
  return accept.some((a) => a === type || (a.endsWith('/*') && type.startsWith(a.slice(0, -1))));
}

/**
 * The content type of a file, from its first bytes (the `file-type` package's magic
 * numbers), never from what the client claims. Plain text has no magic number: it is
 * recognised only when `accept` lists `text/plain` or `text/csv`, and only when it is
 * valid UTF-8 without control characters that does not start like markup (`<`), so an
 * HTML page is never stored as text. `undefined` when the type is unknown.
 */
export async function sniffContentType(head: Buffer, accept: readonly string[]): Promise<string | undefined> {
  const { fileTypeFromBuffer } = await (fileType ??= import('file-type'));
  const found = await fileTypeFromBuffer(head);
  if (found) return found.mime;
  const text = accept.find((a) => TEXT_TYPES.has(a));
  return text && looksLikeText(head) ? text : undefined;
}

function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  let decoded: string;
  try {
    // `stream: true`: the head may end inside a multi-byte character.
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex -- control characters are what marks binary data
  if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(decoded)) return false;
  return !decoded.replace(/^\uFEFF/, '').trimStart().startsWith('<');
}
