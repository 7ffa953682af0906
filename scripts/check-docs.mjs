#!/usr/bin/env node
/**
 * Executable docs (`pnpm docs:check`): every TypeScript block in the documentation
 * either compiles, is a copy of a real file of the repository, or is marked as a
 * fragment. Blocks are marked in the fence's info string, after the language (GitHub
 * highlights by the first word and shows nothing of the rest):
 *
 *   ```ts                  type-checked as a module of its own
 *   ```ts fragment         not checked: a shape, an excerpt, a few lines out of context
 *   ```ts file=src/a.ts    type-checked as the file src/a.ts of the document's example:
 *                          the `file=` blocks of one markdown file are written side by
 *                          side, so `import { x } from './a.js'` in another block works
 *   ```ts source=examples/notice-board/src/plugin.ts
 *                          not type-checked here: must be identical to that file of the
 *                          repository, which its own package compiles, lints and tests
 *   ```json source=examples/notice-board/package.json excerpt
 *                          `excerpt`: the block's lines must appear in that file in the
 *                          same order (the file may have more lines in between;
 *                          indentation does not count)
 *
 * `source=` works on blocks of any language (json, sql, …); the other markers only on
 * ```ts / ```typescript blocks. An unknown marker is an error, so a misspelt `fragment`
 * does not silently compile.
 *
 * Why the worked example is a real package (examples/notice-board) that the docs copy,
 * rather than files the checker extracts from the docs and tests on its own: as a
 * workspace package it is built, type-checked, linted and tested by the normal turbo
 * pipeline (`pnpm build/typecheck/lint/test`), on PGlite and on PostgreSQL in CI, with
 * its own committed migrations that drizzle-kit generated — exactly what a plugin
 * author's package goes through. The checker only has to prove that the doc shows
 * that code (`source=`), which is cheap and gives a precise error when they drift.
 * And a deployment snippet can `import { noticeBoard } from '@diandan/notice-board'`
 * and be type-checked against the built example like any other package.
 *
 * Type-checking: all checked blocks go into ONE TypeScript program, written to a
 * folder inside the repository (.doc-check/, git-ignored) that has a node_modules of
 * symlinks to every workspace package and to those packages' dependencies, so that
 * `@diandan/kernel`, `@diandan/testing`, `drizzle-orm`, `fastify`, … resolve to the
 * same files as in the packages. Workspace packages resolve to their BUILT types
 * (dist/*.d.ts; the `@diandan/source` condition is off), so run `pnpm build` first —
 * `pnpm docs:check` does. Compiler options are tsconfig.base.json's (strict,
 * noUnusedLocals, NodeNext ESM, …) with every file a module. Errors are reported at
 * the markdown line: `docs/plugin-authors.md:123: error TS2345: …`.
 *
 * Usage: node scripts/check-docs.mjs [file.md …]   (default: all documentation)
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The markdown files checked by default, relative to the repository root. */
export const DOC_PATTERNS = [
  'README.md',
  'docs/**/*.md',
  'packages/*/README.md',
  'plugins/*/README.md',
  'apps/*/README.md',
  'examples/*/README.md',
];

const TS_LANGS = new Set(['ts', 'typescript']);
const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

/** Expands a pattern with `*` and `**` segments (no other glob syntax) under `root`. */
export function expandPattern(root, pattern) {
  const found = [];
  const walk = (dir, segments) => {
    if (segments.length === 0) {
      if (existsSync(dir) && statSync(dir).isFile()) found.push(dir);
      return;
    }
    const [seg, ...rest] = segments;
    if (seg === '**') {
      walk(dir, rest);
      for (const sub of subdirs(dir)) walk(path.join(dir, sub), segments);
    } else if (seg.includes('*')) {
      const re = new RegExp(`^${seg.split('*').map(escapeRegExp).join('[^/]*')}$`);
      for (const name of entries(dir)) if (re.test(name)) walk(path.join(dir, name), rest);
    } else {
      walk(path.join(dir, seg), rest);
    }
  };
  walk(root, pattern.split('/'));
  return found.sort();
}

function entries(dir) {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'node_modules');
  } catch {
    return [];
  }
}

function subdirs(dir) {
  return entries(dir).filter((n) => statSync(path.join(dir, n)).isDirectory());
}

function escapeRegExp(s) {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The fenced code blocks of a markdown text: `line` is the 1-based line of the
 * opening fence, `code` the content with the fence's indentation removed (blocks in
 * list items are indented).
 */
export function parseBlocks(text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]);
    if (!m) continue;
    const [, indent, fence, info] = m;
    if (fence[0] === '`' && info.includes('`')) continue; // inline code, not a fence
    const close = new RegExp(`^ *${fence[0] === '`' ? '`' : '~'}{${fence.length},} *$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j])) j++;
    const body = lines.slice(i + 1, j).map((l) => l.slice(Math.min(indent.length, l.length - l.trimStart().length)));
    const [lang = '', ...attrs] = info.trim().split(/\s+/).filter(Boolean);
    blocks.push({ line: i + 1, lang: lang.toLowerCase(), attrs, code: body.join('\n'), closed: j < lines.length });
    i = j;
  }
  return blocks;
}

/** Reads the markers of a block's info string; problems go to `problems`. */
function readMarkers(block, problems) {
  const markers = { fragment: false, excerpt: false, file: undefined, source: undefined };
  for (const attr of block.attrs) {
    const [key, ...rest] = attr.split('=');
    const value = rest.join('=').replace(/^["']|["']$/g, '');
    if (key === 'fragment' && rest.length === 0) markers.fragment = true;
    else if (key === 'excerpt' && rest.length === 0) markers.excerpt = true;
    else if ((key === 'file' || key === 'source') && value) markers[key] = value;
    else problems.push(`unknown code block marker "${attr}" (known: fragment, file=…, source=…, excerpt)`);
  }
  const isTs = TS_LANGS.has(block.lang);
  if (markers.fragment && (markers.file || markers.source)) problems.push('a fragment has no file= or source=');
  if (markers.file && markers.source) problems.push('a block has either file= or source=, not both');
  if (markers.excerpt && !markers.source) problems.push('excerpt needs source=…');
  if (!isTs && (markers.fragment || markers.file)) {
    problems.push(`fragment and file= are for TypeScript blocks only; this block is \`${block.lang || 'plain'}\``);
  }
  if (markers.file && !isSafeRelative(markers.file)) problems.push(`file=${markers.file}: a relative path inside the example`);
  if (markers.file && !/\.(c|m)?tsx?$/.test(markers.file)) problems.push(`file=${markers.file}: a TypeScript file name (.ts)`);
  return markers;
}

function isSafeRelative(p) {
  return !path.isAbsolute(p) && !path.normalize(p).split(/[\\/]/).includes('..');
}

/** Lines of a text for comparison: CRLF, trailing blanks and trailing empty lines do not count. */
function comparable(text) {
  const lines = text.replace(/\r\n/g, '\n').split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Compares a `source=` block with its file; returns [blockLineIndex, message] problems. */
function compareWithSource(block, markers, root) {
  const target = path.resolve(root, markers.source);
  if (!isSafeRelative(markers.source) || !existsSync(target) || !statSync(target).isFile()) {
    return [[-1, `source=${markers.source}: no such file in the repository`]];
  }
  const doc = comparable(block.code);
  const file = comparable(readFileSync(target, 'utf8'));
  if (markers.excerpt) {
    // Indentation does not count: an excerpt is usually shown out of its nesting.
    const wanted = file.map((l) => l.trim());
    let at = 0;
    for (let i = 0; i < doc.length; i++) {
      while (at < file.length && wanted[at] !== doc[i].trim()) at++;
      if (at === file.length) {
        return [[i, `not in ${markers.source} (after the lines before it): ${JSON.stringify(doc[i])}`]];
      }
      at++;
    }
    return [];
  }
  const n = Math.max(doc.length, file.length);
  for (let i = 0; i < n; i++) {
    if (doc[i] === file[i]) continue;
    if (i >= doc.length) return [[doc.length, `the block ends here but ${markers.source}:${i + 1} goes on: ${JSON.stringify(file[i])}`]];
    if (i >= file.length) return [[i, `${markers.source} ends at line ${file.length}; the block goes on`]];
    return [[i, `differs from ${markers.source}:${i + 1}\n  doc:  ${JSON.stringify(doc[i])}\n  file: ${JSON.stringify(file[i])}`]];
  }
  return [];
}

/** The workspace packages' folders, in pnpm-workspace.yaml's order. */
function workspacePackages(root) {
  const yaml = path.join(root, 'pnpm-workspace.yaml');
  if (!existsSync(yaml)) return [];
  const patterns = [];
  let inPackages = false;
  for (const line of readFileSync(yaml, 'utf8').split('\n')) {
    if (/^packages:\s*$/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    else if (inPackages) {
      const m = /^\s+-\s+['"]?([^'"#\s]+)['"]?/.exec(line);
      if (m) patterns.push(m[1]);
    }
  }
  return patterns.flatMap((p) => expandPattern(root, `${p}/package.json`).map((f) => path.dirname(f)));
}

/**
 * Fills `outDir/node_modules` with symlinks: every workspace package by its name, then
 * the dependencies of those packages (the first package that has one wins; pnpm shares
 * one copy between them, so they are the same files the packages compile against).
 * The root's own node_modules (typescript, vitest, @types/node) is found by walking up.
 */
function linkModules(root, outDir) {
  const nodeModules = path.join(outDir, 'node_modules');
  const linked = new Set();
  const link = (name, target) => {
    if (linked.has(name)) return;
    linked.add(name);
    const at = path.join(nodeModules, name);
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(target, at, 'junction');
  };
  const packages = workspacePackages(root);
  for (const dir of packages) {
    const { name } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (name) link(name, dir);
  }
  for (const dir of packages) {
    const deps = path.join(dir, 'node_modules');
    for (const name of entries(deps)) {
      const names = name.startsWith('@') ? entries(path.join(deps, name)).map((n) => `${name}/${n}`) : [name];
      for (const n of names) {
        try {
          link(n, realpathSync(path.join(deps, n)));
        } catch {
          // a dangling link: nothing to resolve to
        }
      }
    }
  }
}

/**
 * Checks the given markdown files (default: DOC_PATTERNS under `root`).
 * Returns `{ errors, counts }`; each error is one line (or a few) ready to print,
 * starting with `<markdown file>:<line>:`.
 */
export function checkDocs({
  root = REPO_ROOT,
  files,
  outDir = path.join(root, '.doc-check', 'run'),
  tsconfig = path.join(root, 'tsconfig.base.json'),
} = {}) {
  const mdFiles = files
    ? files.map((f) => path.resolve(root, f))
    : [...new Set(DOC_PATTERNS.flatMap((p) => expandPattern(root, p)))];
  const rel = (p) => path.relative(root, p).split(path.sep).join('/');
  const errors = [];
  const counts = { files: mdFiles.length, blocks: 0, checked: 0, copies: 0, fragments: 0, otherCopies: 0 };
  /** Type-checked files: absolute path → where its code is in the markdown. */
  const snippets = new Map();

  rmSync(outDir, { recursive: true, force: true });
  for (const md of mdFiles) {
    const mdRel = rel(md);
    const exampleDir = path.join(outDir, mdRel);
    for (const block of parseBlocks(readFileSync(md, 'utf8'))) {
      const isTs = TS_LANGS.has(block.lang);
      const problems = [];
      const markers = readMarkers(block, problems);
      if (!block.closed) problems.push('this code block is never closed');
      for (const p of problems) errors.push(`${mdRel}:${block.line}: error: ${p}`);
      if (problems.length > 0) continue;
      if (isTs) counts.blocks++;
      if (markers.source) {
        counts[isTs ? 'copies' : 'otherCopies']++;
        for (const [i, message] of compareWithSource(block, markers, root)) {
          errors.push(`${mdRel}:${i < 0 ? block.line : block.line + 1 + i}: error: ${message}`);
        }
      } else if (!isTs) {
        continue;
      } else if (markers.fragment) {
        counts.fragments++;
      } else {
        counts.checked++;
        const file = path.join(exampleDir, markers.file ?? `block-at-line-${block.line}.ts`);
        const seen = snippets.get(file);
        if (seen) {
          errors.push(`${mdRel}:${block.line}: error: file=${markers.file} is already the block at line ${seen.line}`);
          continue;
        }
        snippets.set(file, { md: mdRel, line: block.line, firstLine: block.line + 1 });
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, `${block.code}\n`);
      }
    }
  }

  if (snippets.size > 0) {
    errors.push(...typeCheck(root, outDir, tsconfig, snippets, rel));
  }
  // In document order: markdown files as listed, then by line (the sort is stable).
  const order = new Map(mdFiles.map((f, i) => [rel(f), i]));
  const key = (e) => {
    const m = /^([^:\s]+):(\d+): /.exec(e);
    return m ? [order.get(m[1]) ?? order.size, Number(m[2])] : [-1, 0];
  };
  errors.sort((a, b) => {
    const [fa, la] = key(a);
    const [fb, lb] = key(b);
    return fa - fb || la - lb;
  });
  return { errors, counts };
}

function typeCheck(root, outDir, tsconfig, snippets, rel) {
  writeFileSync(path.join(outDir, 'package.json'), '{ "private": true, "type": "module" }\n');
  linkModules(root, outDir);
  const configFile = path.join(outDir, 'tsconfig.json');
  writeFileSync(
    configFile,
    `${JSON.stringify(
      {
        extends: path.relative(outDir, tsconfig).split(path.sep).join('/'),
        compilerOptions: {
          noEmit: true,
          // The built packages (dist/*.d.ts), as a plugin author's project sees them.
          customConditions: [],
          // A block without import or export is still a module of its own.
          moduleDetection: 'force',
          declaration: false,
          declarationMap: false,
          sourceMap: false,
          incremental: false,
          composite: false,
        },
        files: [...snippets.keys()].map((f) => path.relative(outDir, f).split(path.sep).join('/')),
      },
      null,
      2,
    )}\n`,
  );
  const errors = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => errors.push(`error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
  });
  if (!parsed) return errors;
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
  for (const d of ts.sortAndDeduplicateDiagnostics(diagnostics)) {
    const category = d.category === ts.DiagnosticCategory.Warning ? 'warning' : d.category === ts.DiagnosticCategory.Error ? 'error' : null;
    if (!category) continue;
    let message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.code === 2307 && /['"]@diandan\//.test(message)) message += ' (are the packages built? `pnpm build`)';
    let where = '';
    if (d.file && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const snippet = snippets.get(path.resolve(d.file.fileName));
      where = snippet ? `${snippet.md}:${snippet.firstLine + line}: ` : `${rel(d.file.fileName)}:${line + 1}: `;
    }
    errors.push(`${where}${category} TS${d.code}: ${message}`);
  }
  return errors;
}

function main(argv) {
  const started = performance.now();
  const { errors, counts } = checkDocs({ files: argv.length > 0 ? argv : undefined });
  for (const e of errors) console.error(e);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const summary =
    `${counts.blocks} TypeScript blocks in ${counts.files} markdown file${counts.files === 1 ? "" : "s"}: ${counts.checked} type-checked, ` +
    `${counts.copies} copies of a file, ${counts.fragments} fragments; ` +
    `${counts.otherCopies} other blocks are copies of a file (${seconds} s)`;
  if (errors.length > 0) {
    console.error(`\ncheck-docs: ${errors.length} error${errors.length === 1 ? '' : 's'}. ${summary}`);
    console.error('Mark a block that is not meant to compile as ```ts fragment — see docs/plugin-authors.md, "Executable docs".');
    process.exitCode = 1;
  } else {
    console.log(`check-docs: ${summary}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
