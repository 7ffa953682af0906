// Bench-only plugins: extra Diandan plugins a benchmark scenario can add to the
// deployment, to measure what registering something costs (e.g. "order placement
// with a guard registered", "product list with an extension registered").
//
// ── Add one here ────────────────────────────────────────────────────────────────
// Each entry maps a name to a function returning a configured plugin, exactly as a
// deployment lists it in diandan.config.ts:
//
//   import { definePlugin } from '@diandan/kernel';
//   const guardBench = definePlugin({ name: 'bench-guard', version: '0.0.0', kernel: '^0.1.0', … });
//   export const benchPlugins = { guard: () => guardBench.configure({}) };
//
// then start the server with it: `node bench/server.mjs --with=guard`, or in
// bench/http.mjs give a scenario `with: ['guard']` (see the scenarios there).
// The map is empty until such a plugin is needed: nothing here is loaded otherwise.
// ─────────────────────────────────────────────────────────────────────────────────

/** @type {Record<string, () => import('@diandan/kernel').PluginInstance>} */
export const benchPlugins = {};
