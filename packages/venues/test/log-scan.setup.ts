/**
 * Global setup of the venues suite: every test server logs at trace level to a capture
 * folder, and the run fails if any line holds a test phone number, or a one-time code
 * that a test sender recorded — except the development sender's own line, which exists
 * to show the code (with the phone masked).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_CAPTURE_ENV, scanLogDirectory, scanLogText } from '@diandan/testing';
import { DEVELOPMENT_CODE_MESSAGE } from '../src/plugin.js';
import { CODES_FILE, PHONES } from './support.js';

// Standing alone, as the kernel's own patterns: eleven digits turn up by chance inside request ids (UUIDs).
const SYNTHETIC_PHONE = { name: 'test phone (170…)', pattern: /(?<![0-9A-Za-z.])170\d{8}(?![0-9A-Za-z])/g };

export default async function setup() {
  const given = process.env[LOG_CAPTURE_ENV];
  if (given === 'off') return async () => {};
  const dir = given ?? (await mkdtemp(join(tmpdir(), 'venues-test-logs-')));
  process.env[LOG_CAPTURE_ENV] = dir;
  return async () => {
    const codes = (await readFile(join(dir, CODES_FILE), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const { files, lines, violations } = await scanLogDirectory(dir, { literals: [...PHONES], patterns: [SYNTHETIC_PHONE] });
    // Codes: any recorded code standing alone, outside the development sender's line. "Alone" means
    // not inside a longer run of letters, digits, dots or hyphens: six digits turn up by chance inside
    // request ids (UUIDs) and timestamps, and a leaked code would sit in its own JSON string or query value.
    const codePattern = codes.length ? new RegExp(`(?<![\\w.-])(${[...new Set(codes)].join('|')})(?![\\w.-])`, 'g') : undefined;
    const { readdir } = await import('node:fs/promises');
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.ndjson'))) {
      const text = (await readFile(join(dir, name), 'utf8'))
        .split('\n')
        .map((line) => (line.includes(DEVELOPMENT_CODE_MESSAGE) ? '' : line))
        .join('\n');
      if (codePattern) violations.push(...scanLogText(text, name, { patterns: [{ name: 'one-time code', pattern: codePattern }] }).filter((v) => v.reason === 'one-time code'));
    }
    if (violations.length) {
      const shown = violations.slice(0, 20).map((v) => `  ${v.file}:${v.line}: ${v.reason}: ${v.excerpt}`);
      throw new Error(`The test servers' logs (${lines} lines in ${files} files, kept in ${dir}) contain ${violations.length} problem(s):\n${shown.join('\n')}`);
    }
    console.log(`log scan: ${lines} lines in ${files} files, no phone, no one-time code (${codes.length} sent), none over the limit`);
    if (!given) await rm(dir, { recursive: true, force: true });
  };
}
