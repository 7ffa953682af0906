/**
 * Log capture and scanning for test suites: with `DIANDAN_TEST_LOG_DIR` set,
 * `createTestServer` writes every server's log (level trace) there, one file per test
 * process; at the end of the run a vitest global setup scans every captured line for
 * personal data and for lines longer than the kernel's limit. Any package's suite can
 * reuse it (`logScanGlobalSetup` in its vitest `globalSetup`). No kernel import here,
 * so a global setup can load this module alone.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** The variable naming the folder where test servers write their logs (`off`: no capture, no scan). */
export const LOG_CAPTURE_ENV = 'DIANDAN_TEST_LOG_DIR';

/** Longest line allowed, its newline counted (the kernel's `LOG_LINE_LIMIT`). */
export const MAX_LOG_LINE = 2048;

/**
 * Logger options that append every line to this process's capture file, at level
 * trace — or undefined when capture is off (`DIANDAN_TEST_LOG_DIR` unset).
 */
export function captureLogger(): { level: 'trace'; stream: { write(line: string): void } } | undefined {
  const dir = process.env[LOG_CAPTURE_ENV];
  if (!dir || dir === 'off') return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${threadId}.ndjson`);
  // Synchronous appends: a test process may exit right after its last line.
  return { level: 'trace', stream: { write: (line: string) => appendFileSync(file, line) } };
}

/** A pattern of personal data or secret that must never appear in a log line. */
export interface LogPattern {
  readonly name: string;
  readonly pattern: RegExp;
  /** Further check of a match (e.g. an identity number's check digit). */
  readonly valid?: (match: string) => boolean;
}

/** What the scan found wrong with one line. */
export interface LogViolation {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  /** The offending text, masked, with a little context. */
  readonly excerpt: string;
}

/** The check digit of an 18-character mainland identity number (GB 11643). */
export function validIdNumber(id: string): boolean {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((s, w, i) => s + w * Number(id[i]), 0);
  return '10X98765432'[sum % 11] === id[17]!.toUpperCase();
}

/** Patterns every scan looks for. */
export const DEFAULT_LOG_PATTERNS: readonly LogPattern[] = [
  { name: 'mobile number', pattern: /(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])/g },
  { name: 'identity number', pattern: /(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])/g, valid: validIdNumber },
  { name: 'bearer token (JWT)', pattern: /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g },
  { name: 'authorization header value', pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g },
];

/** Options of a scan: more patterns, and literal strings the tests use as personal data. */
export interface LogScanOptions {
  readonly patterns?: readonly LogPattern[];
  /** Exact strings (e.g. the `contactPhone` values of the tests) that must never be logged. */
  readonly literals?: readonly string[];
  readonly maxLineLength?: number;
}

/** Scans the lines of one capture file's text. */
export function scanLogText(text: string, file: string, options: LogScanOptions = {}): LogViolation[] {
  const patterns = [...DEFAULT_LOG_PATTERNS, ...(options.patterns ?? [])];
  const max = options.maxLineLength ?? MAX_LOG_LINE;
  const violations: LogViolation[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    const at = (index: number, length: number) =>
      `${line.slice(Math.max(0, index - 40), index)}<${'*'.repeat(Math.min(length, 12))}>${line.slice(index + length, index + length + 40)}`;
    if (line.length + 1 > max) violations.push({ file, line: i + 1, reason: `line of ${line.length + 1} characters (limit ${max})`, excerpt: line.slice(0, 120) });
    for (const { name, pattern, valid } of patterns) {
      for (const m of line.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))) {
        if (valid && !valid(m[0])) continue;
        violations.push({ file, line: i + 1, reason: name, excerpt: at(m.index, m[0].length) });
      }
    }
    for (const literal of options.literals ?? []) {
      const index = line.indexOf(literal);
      if (index !== -1) violations.push({ file, line: i + 1, reason: `test personal data "${literal.slice(0, 3)}…"`, excerpt: at(index, literal.length) });
    }
  });
  return violations;
}

/** Scans every capture file in `dir`. */
export async function scanLogDirectory(dir: string, options: LogScanOptions = {}): Promise<{ files: number; lines: number; violations: LogViolation[] }> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.ndjson'));
  let lines = 0;
  const violations: LogViolation[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    lines += text.split('\n').filter(Boolean).length;
    violations.push(...scanLogText(text, name, options));
  }
  return { files: names.length, lines, violations };
}

/**
 * A vitest global setup: turns capture on for the run (a fresh folder in
 * `DIANDAN_TEST_LOG_DIR`), and at the end scans every line the test servers logged,
 * failing the run on personal data or an over-long line. In `vitest.config.ts`:
 * `test: { globalSetup: ['./test/log-scan.setup.ts'] }`, that file being
 * `export default logScanGlobalSetup({ literals: ['020-12345678'] })`.
 */
export function logScanGlobalSetup(options: LogScanOptions = {}): () => Promise<() => Promise<void>> {
  return async () => {
    const given = process.env[LOG_CAPTURE_ENV];
    if (given === 'off') return async () => {};
    const dir = given ?? (await mkdtemp(join(tmpdir(), 'diandan-test-logs-')));
    process.env[LOG_CAPTURE_ENV] = dir;
    return async () => {
      const { files, lines, violations } = await scanLogDirectory(dir, options);
      if (violations.length) {
        const shown = violations.slice(0, 20).map((v) => `  ${v.file}:${v.line}: ${v.reason}: ${v.excerpt}`);
        throw new Error(
          `The test servers' logs (${lines} lines in ${files} files, kept in ${dir}) contain ${violations.length} problem(s):\n${shown.join('\n')}`,
        );
      }
      console.log(`log scan: ${lines} lines in ${files} files, no personal data, none over ${MAX_LOG_LINE} characters`);
      if (!given) await rm(dir, { recursive: true, force: true });
    };
  };
}
