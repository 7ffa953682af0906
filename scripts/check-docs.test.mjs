// Tests of the docs checker on the markdown files in ./fixtures. They need no built
// package: the fixtures import only node: modules and each other.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDocs, parseBlocks } from './check-docs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(path.join(root, '.doc-check'), { recursive: true });
const outDir = mkdtempSync(path.join(root, '.doc-check', 'test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));
// One TypeScript program each: a second or two, much more while the other suites run.
const TYPE_CHECK_TIMEOUT = 120_000;

describe('parseBlocks', () => {
  it('reads language, markers and the line of each fence, without list indentation', () => {
    const blocks = parseBlocks('text\n\n```ts file=src/a.ts\nconst a = 1;\n```\n\n- item\n\n  ```sh\n  pnpm test\n  ```\n');
    expect(blocks).toEqual([
      { line: 3, lang: 'ts', attrs: ['file=src/a.ts'], code: 'const a = 1;', closed: true },
      { line: 9, lang: 'sh', attrs: [], code: 'pnpm test', closed: true },
    ]);
  });

  it('does not end a block at a shorter fence', () => {
    const [block] = parseBlocks('````md\n```ts\nx\n```\n````\n');
    expect(block).toMatchObject({ lang: 'md', code: '```ts\nx\n```' });
  });
});

describe('a document whose blocks are right', () => {
  let result;
  beforeAll(() => {
    result = checkDocs({ root, files: ['scripts/fixtures/good.md'], outDir: path.join(outDir, 'good') });
  }, TYPE_CHECK_TIMEOUT);

  it('passes', () => {
    expect(result.errors).toEqual([]);
  });

  it('type-checks modules and file blocks that import each other, skips the fragment, compares the copies', () => {
    expect(result.counts).toEqual({ files: 1, blocks: 7, checked: 4, copies: 2, fragments: 1, otherCopies: 0 });
  });
});

describe('a document with broken blocks', () => {
  let errors;
  beforeAll(() => {
    ({ errors } = checkDocs({ root, files: ['scripts/fixtures/bad.md'], outDir: path.join(outDir, 'bad') }));
  }, TYPE_CHECK_TIMEOUT);

  it('reports a type error at its markdown line', () => {
    expect(errors).toContainEqual(
      "scripts/fixtures/bad.md:5: error TS2322: Type 'number' is not assignable to type 'string'.",
    );
  });

  it('reports an import a file block cannot resolve', () => {
    expect(errors).toContainEqual(expect.stringMatching(/^scripts\/fixtures\/bad\.md:9: error TS2307: Cannot find module '\.\/absent\.js'/));
  });

  it('refuses an unknown marker instead of compiling or skipping the block', () => {
    expect(errors).toContainEqual(expect.stringMatching(/^scripts\/fixtures\/bad\.md:14: error: unknown code block marker "fragmnet"/));
  });

  it('reports the first line where a copy differs from its source file', () => {
    expect(errors).toContainEqual(
      expect.stringMatching(/^scripts\/fixtures\/bad\.md:21: error: differs from scripts\/fixtures\/greeting\.ts:3\n/),
    );
  });

  it('reports an excerpt line that is not in the file in that order', () => {
    expect(errors).toContainEqual(
      expect.stringMatching(/^scripts\/fixtures\/bad\.md:28: error: not in scripts\/fixtures\/greeting\.ts/),
    );
  });

  it('reports a source file that does not exist', () => {
    expect(errors).toContainEqual('scripts/fixtures/bad.md:31: error: source=scripts/fixtures/nowhere.json: no such file in the repository');
  });

  it('maps lines of an indented block', () => {
    expect(errors).toContainEqual("scripts/fixtures/bad.md:38: error TS2322: Type 'string' is not assignable to type 'boolean'.");
  });

  it('reports nothing else, in document order', () => {
    expect(errors.map((e) => Number(/^scripts\/fixtures\/bad\.md:(\d+):/.exec(e)?.[1]))).toEqual([5, 9, 14, 21, 28, 31, 38]);
  });
});
