#!/usr/bin/env node
// Type-check and lint the package in the current folder with ONE TypeScript program.
//
// `tsc --noEmit` and typed ESLint (`eslint .` with the project service) each build and check
// the same program; on CI's two cores that was most of both steps. Here tsc's diagnostics come
// first, which checks every file, and ESLint's typed rules then read the types already computed.
//
// With `--emit`, the same program also writes the build (`tsconfig.build.json`'s files and
// output options, i.e. what `tsc -p tsconfig.build.json` writes) — so CI type-checks each
// source file once rather than in a build and again in a check. The build's files are all
// under its `rootDir`; the tests and configs the program adds are checked, not written.
//
// Workspace dependencies are read from their built declarations (`dist/*.d.ts`, what a
// package's users see), not re-checked from source in every package: pass `--sources` to keep
// the `@diandan/source` condition (the kernel, whose tests and the testing package's source
// must share one copy of its types). A package's tests that import it by its own name read
// its sources (through `paths`), which are in the program anyway, so a check needs no build of
// the package itself. `pnpm typecheck` and `pnpm lint` stay the plain tools.
import { ESLint } from 'eslint';
import ts from 'typescript';

const sources = process.argv.includes('--sources');
const emit = process.argv.includes('--emit');
const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
const parsed = ts.getParsedCommandLineOfConfigFile('tsconfig.json', sources ? {} : { customConditions: ['dist'] }, host);
if (!parsed) process.exit(2);
const build = emit ? ts.getParsedCommandLineOfConfigFile('tsconfig.build.json', {}, host) : undefined;
if (emit && !build) process.exit(2);

const started = performance.now();
const options = { ...parsed.options, paths: { ...parsed.options.paths, ...ownSourcePaths() }, pathsBasePath: parsed.options.pathsBasePath ?? process.cwd() };
if (build) {
  // The build's output options; module resolution stays the check's (the same for every
  // package but the kernel, whose check reads the testing package's sources).
  const { outDir, rootDir, declaration, declarationMap, sourceMap } = build.options;
  Object.assign(options, { noEmit: false, outDir, rootDir, declaration, declarationMap, sourceMap });
}
const program = ts.createProgram({ rootNames: parsed.fileNames, options, projectReferences: parsed.projectReferences });
const diagnostics = [...parsed.errors, ...(build?.errors ?? []), ...ts.getPreEmitDiagnostics(program)].filter(
  // "File is not under rootDir": the tests and configs, which are checked but not written.
  (d) => !(build && d.code === 6059),
);
if (build && !diagnostics.length) {
  const written = new Set(build.fileNames.map((f) => ts.sys.resolvePath(f)));
  for (const file of program.getSourceFiles()) {
    if (!written.has(ts.sys.resolvePath(file.fileName))) continue;
    const result = program.emit(file);
    diagnostics.push(...result.diagnostics);
  }
}
const typesMs = performance.now() - started;

const eslint = new ESLint({
  overrideConfig: { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, programs: [program] } } },
});
const results = await eslint.lintFiles(['.']);
const lintMs = performance.now() - typesMs - started;

if (diagnostics.length) process.stdout.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost()));
const report = await (await eslint.loadFormatter('stylish')).format(results);
if (report) process.stdout.write(report);
const lintErrors = results.reduce((n, r) => n + r.errorCount, 0);
console.log(
  `check: ${parsed.fileNames.length} files, ${diagnostics.length} type errors (${Math.round(typesMs / 1000)} s), ` +
    `${lintErrors} lint errors (${Math.round(lintMs / 1000)} s)`,
);
process.exit(diagnostics.length || lintErrors ? 1 : 0);

/** `paths` that send imports of this package by its own name to its sources (its `@diandan/source` exports). */
function ownSourcePaths() {
  const { name, exports } = JSON.parse(ts.sys.readFile('package.json'));
  const paths = {};
  for (const [key, target] of Object.entries(exports ?? {})) {
    const source = typeof target === 'object' ? target['@diandan/source'] : undefined;
    if (source) paths[name + key.slice(1)] = [ts.sys.resolvePath(source)];
  }
  return paths;
}

function fail(ds) {
  process.stdout.write(ts.formatDiagnosticsWithColorAndContext(ds, formatHost()));
  process.exit(2);
}

function formatHost() {
  return { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
}
