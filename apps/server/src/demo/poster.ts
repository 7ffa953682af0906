import { deflateSync } from 'node:zlib';

/** CRC-32 (ISO 3309), as PNG chunks carry it. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const GOLD = [230, 180, 60] as const;

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/**
 * A synthetic poster for the demo's product media: a PNG of `width` × `height` with a
 * vertical gradient between two colours and a gold band across the middle. Generated, so the
 * repository carries no image anyone made.
 */
export function demoPoster(width: number, height: number, top: readonly [number, number, number], bottom: readonly [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, no filter method, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const t = y / Math.max(1, height - 1);
    const band = Math.abs(y - height / 2) < height / 12;
    const offset = y * (width * 3 + 1); // each row starts with filter type 0
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const value = Math.round(top[c]! + (bottom[c]! - top[c]!) * t);
        rows[offset + 1 + x * 3 + c] = band ? GOLD[c]! : value;
      }
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
