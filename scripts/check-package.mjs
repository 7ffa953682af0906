#!/usr/bin/env node
// Type-check and lint the package in the current folder with ONE TypeScript program.
//
// `tsc --noEmit` and typed ESLint (`eslint .` with the project service) each build and check
// the same program; on CI's two cores that was most of both steps. Here tsc's diagnostics come
// first, which checks every file, and ESLint's typed rules then read the types already computed.
//
// Workspace dependencies are read from their built declarations (`dist/*.d.ts`, what a
// package's users see), not re-checked from source in every package: pass `--sources` to keep
// the `@diandan/source` condition (the kernel, whose tests and the testing package's source
// must share one copy of its types). `pnpm typecheck` and `pnpm lint` stay the plain tools.
import { ESLint } from 'eslint';
import ts from 'typescript';

const sources = process.argv.includes('--sources');
const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
const parsed = ts.getParsedCommandLineOfConfigFile('tsconfig.json', sources ? {} : { customConditions: ['dist'] }, host);
if (!parsed) process.exit(2);

const started = performance.now();
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
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

function fail(ds) {
  process.stdout.write(ts.formatDiagnosticsWithColorAndContext(ds, formatHost()));
  process.exit(2);
}

function formatHost() {
  return { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
}
