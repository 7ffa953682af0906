/**
 * The LP relaxation and the MIP, written in CPLEX LP format and solved by HiGHS (WASM).
 *
 * - the LP relaxation of the same rows is an upper bound on every integral plan's
 *   welfare: a plan's gap to it is its certificate;
 * - its duals price each floor: the welfare lost per extra session the floor asks for;
 * - phase 1 (`shortfall`) minimises the floors' total relative shortfall, naming the
 *   floors that cannot all be met and by how much;
 * - the MIP (integer x, a time limit) is the exact solver for small instances.
 */
import * as highsModule from 'highs';
import { fairUtility, MAX_MIN_ALPHA } from './problem.js';
import type { FloorRow, Model } from './model.js';

interface Highs {
  solve(problem: string, options?: Record<string, unknown>): unknown;
}
// The package's types are CommonJS-flavoured; its ESM build has the loader as default export.
const highsLoader = ((highsModule as unknown as { default?: () => Promise<Highs> }).default ?? (highsModule as unknown as () => Promise<Highs>)) as () => Promise<Highs>;
let loading: Promise<Highs> | undefined;
/** HiGHS, loaded once per thread. */
export const highs = (): Promise<Highs> => (loading ??= highsLoader());

export interface LpOptions {
  floors: FloorRow[];
  integer?: boolean;
  /** Seconds. */
  timeLimit?: number;
  alpha?: number;
  /** Phase 1: minimise shortfall instead of maximising welfare. */
  shortfall?: boolean;
}

export interface LpResult {
  status: string;
  /** Welfare (or, in phase 1, total relative shortfall). */
  objective: number;
  /** For a MIP: HiGHS's own bound on the optimum (`mip_dual_bound`) when it stopped early. */
  x: number[];
  /** Floor id → dual (welfare per session for region floors). */
  floorDuals: Map<string, number>;
  /** Floor id → slack (phase 1). */
  slack: Map<string, number>;
  /** Row kind:key → dual (welfare per unit of the limit). */
  rowDuals: Map<string, number>;
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(12).replace(/\.?0+$/, ''));
const term = (c: number, v: string) => `${c < 0 ? '-' : '+'} ${num(Math.abs(c))} ${v}`;

/** Writes the model as LP text. Lines are kept short: HiGHS's LP reader handles long rows split over lines. */
export function lpText(model: Model, o: LpOptions): string {
  const { edges, rows } = model;
  const alpha = o.alpha ?? 0;
  const out: string[] = [];
  const line = (parts: string[]) => {
    for (let i = 0; i < parts.length; i += 50) out.push(' ' + parts.slice(i, i + 50).join(' '));
  };
  const streetsUsed = [...new Set(edges.map((e) => e.street))];
  if (o.shortfall) {
    out.push('Minimize');
    out.push(' obj: ' + (o.floors.length ? '' : '0 x0'));
    line(o.floors.map((f, i) => term(1 / Math.max(f.required, 1), `s${i}`)));
  } else {
    out.push('Maximize');
    out.push(' obj:');
    if (alpha === 0) line(edges.map((e, i) => term(e.value, `x${i}`)));
    else if (alpha >= MAX_MIN_ALPHA) line([term(1, 't'), ...edges.map((e, i) => term(1e-4 * e.value * model.streetScale[e.street]!, `x${i}`))]);
    else line(streetsUsed.map((s) => term(1, `z${s}`)));
  }
  out.push('Subject To');
  rows.forEach((row, r) => {
    out.push(` r${r}:`);
    line(row.edges.map((e, k) => term(row.coef[k]!, `x${e}`)));
    out.push(` <= ${num(row.limit)}`);
  });
  o.floors.forEach((f, i) => {
    out.push(` f${i}:`);
    if (f.kind === 'region-sessions') line([...f.members].map((e) => `+ x${e}`));
    else line(edges.map((_, e) => term((f.members.has(e) ? 1 : 0) - f.share, `x${e}`)).filter((t) => !t.startsWith('+ 0 ')));
    if (o.shortfall) out.push(` + s${i}`);
    out.push(` >= ${f.kind === 'region-sessions' ? num(f.required) : '0'}`);
  });
  if (!o.shortfall && alpha !== 0) {
    const byStreet = new Map<number, number[]>();
    edges.forEach((e, i) => byStreet.set(e.street, [...(byStreet.get(e.street) ?? []), i]));
    for (const s of streetsUsed) {
      const members = byStreet.get(s)!;
      const u = members.map((e) => term(-edges[e]!.value * model.streetScale[s]!, `x${e}`));
      if (alpha >= MAX_MIN_ALPHA) {
        out.push(` m${s}: + t`);
        line(u);
        out.push(' <= 0');
        continue;
      }
      // Tangents of the concave f_α at breakpoints up to the street's largest possible value.
      const top = Math.max(1e-6, members.reduce((sum, e) => sum + edges[e]!.value * model.streetScale[s]! * model.instance.repeatCap, 0));
      for (let k = 0; k <= 8; k++) {
        const b = k === 0 ? 0 : top / 2 ** (8 - k);
        const slope = (1 + b) ** -alpha;
        const intercept = fairUtility(b, alpha) - slope * b;
        out.push(` t${s}_${k}: + z${s}`);
        line(u.map((t) => t.replace(/^([+-]) (\S+)/, (_m, sign, c) => `${sign} ${num(Number(c) * slope)}`)));
        out.push(` <= ${num(intercept)}`);
      }
    }
  }
  out.push('Bounds');
  edges.forEach((_, i) => out.push(` x${i} >= 0`));
  if (!o.shortfall && alpha !== 0) {
    if (alpha >= MAX_MIN_ALPHA) out.push(' t free');
    else for (const s of streetsUsed) out.push(` z${s} free`);
  }
  if (o.integer) {
    out.push('General');
    line(edges.map((_, i) => `x${i}`));
  }
  out.push('End');
  return out.join('\n');
}

export async function solveLp(model: Model, o: LpOptions): Promise<LpResult> {
  const solver = await highs();
  const options: Record<string, unknown> = { output_flag: false };
  if (o.timeLimit) options.time_limit = o.timeLimit;
  if (o.integer) options.mip_rel_gap = 1e-6;
  const text = lpText(model, o);
  const result = solver.solve(text, options) as {
    Status: string;
    ObjectiveValue: number;
    Columns: Record<string, { Primal?: number }>;
    Rows: { Name: string; Primal?: number; Dual?: number }[];
  };
  const x = model.edges.map((_, i) => result.Columns[`x${i}`]?.Primal ?? 0);
  const floorDuals = new Map<string, number>();
  const rowDuals = new Map<string, number>();
  const slack = new Map<string, number>();
  for (const row of result.Rows) {
    if (row.Dual === undefined) continue;
    if (row.Name.startsWith('f')) floorDuals.set(o.floors[Number(row.Name.slice(1))]!.id, row.Dual);
    else if (row.Name.startsWith('r')) {
      const r = model.rows[Number(row.Name.slice(1))]!;
      rowDuals.set(`${r.kind}:${r.key}`, row.Dual);
    }
  }
  if (o.shortfall) o.floors.forEach((f, i) => slack.set(f.id, result.Columns[`s${i}`]?.Primal ?? 0));
  return { status: result.Status, objective: Number.isFinite(result.ObjectiveValue) ? result.ObjectiveValue : 0, x, floorDuals, slack, rowDuals };
}
