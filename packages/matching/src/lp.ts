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
import type { Highs } from 'highs';
import { fairUtility, MAX_MIN_ALPHA } from './problem.js';
import type { FloorRow, Model } from './model.js';

type HighsModel = ReturnType<Highs['createModel']>;
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
  /**
   * `generated` (the default for the LP): HiGHS starts from each demand's best few edges and
   * the columns the reduced costs price in are added until none would improve — the same
   * optimum as `all`, on a far smaller LP. `all`: every edge a column (always for the MIP).
   */
  columns?: 'generated' | 'all';
  /**
   * A plan (sessions per edge, the heuristic's say) whose edges start in the LP. When it has
   * sessions and meets every floor, the first restricted LP is its edges alone (feasible, and
   * near the optimum: a city-wide heuristic plan is within 0.2 % of the bound); otherwise they
   * join each demand's best few edges.
   */
  seed?: readonly number[];
}

/** Edges per demand in the first restricted LP (by value). */
const FIRST_COLUMNS = 3;
/** A left-out column enters when it would improve the objective by more than HiGHS's own dual feasibility tolerance. */
const PRICE_TOLERANCE = 1e-7;

export interface LpResult {
  status: string;
  /** Welfare (or, in phase 1, total relative shortfall). */
  objective: number;
  x: number[];
  /** Floor id → dual (welfare per session for region floors). */
  floorDuals: Map<string, number>;
  /** Floor id → slack (phase 1). */
  slack: Map<string, number>;
  /** Row kind:key → dual (welfare per unit of the limit), for the rows the LP kept. */
  rowDuals: Map<string, number>;
  /** MIP only: HiGHS's bound on the optimum (`mip_dual_bound`). */
  dualBound?: number;
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
  const { upper, kept } = presolve(model);
  for (const r of kept) {
    const row = rows[r]!;
    out.push(` r${r}:`);
    line(row.edges.map((e, k) => term(row.coef[k]!, `x${e}`)));
    out.push(` <= ${num(row.limit)}`);
  }
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
  edges.forEach((_, i) => out.push(` 0 <= x${i} <= ${num(upper[i]!)}`));
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

/**
 * A limit row over one edge is that edge's upper bound, and a row its edges cannot fill
 * even at their bounds never binds: both are left out of the LP text (most repeat-cap rows
 * are of the first kind), which makes city-wide LPs several times smaller. The LP is the
 * same polytope. Region caps are always kept as rows (so a re-solve can drop them).
 */
export function presolve(model: Model): { upper: number[]; kept: number[] } {
  const upper = model.edges.map(() => Infinity);
  // x_e ≤ ⌊limit ÷ coef⌋ for every row of e (coefficients are ≥ 0): implied for integral plans, so
  // the bound stays a bound on every plan (and is a little tighter than the plain relaxation).
  // Cap rows (region caps) stay rows, and out of these bounds: the price of fairness drops them by changing their row bound.
  model.rows.forEach((row) => {
    if (row.kind === 'cap') return;
    row.edges.forEach((e, k) => {
      if (row.coef[k]! > 0) upper[e] = Math.min(upper[e]!, row.limit / row.coef[k]!);
    });
  });
  for (let i = 0; i < upper.length; i++) upper[i] = Number.isFinite(upper[i]) ? Math.max(0, Math.floor(upper[i]! + 1e-9)) : 1e9;
  const kept: number[] = [];
  model.rows.forEach((row, r) => {
    if (row.kind === 'cap') {
      kept.push(r);
      return;
    }
    if (row.edges.length === 1) return;
    let most = 0;
    row.edges.forEach((e, k) => (most += row.coef[k]! * upper[e]!));
    if (most > row.limit + 1e-9) kept.push(r);
  });
  return { upper, kept };
}

const STATUS: Record<number, string> = {
  7: 'Optimal',
  8: 'Infeasible',
  9: 'Primal infeasible or unbounded',
  10: 'Unbounded',
  13: 'Time limit reached',
  14: 'Iteration limit reached',
  17: 'Interrupted',
};

/**
 * The LP (or MIP) built from the compiled model straight into HiGHS's sparse arrays — no
 * LP text to write and parse, which dominated city-wide solves — and kept alive so the
 * price-of-fairness and per-floor re-solves start from the previous basis.
 *
 * Columns (in the model's numbering): x_e for every edge, then (phase 1) a slack s_f per
 * floor, or (α > 0) z_s per street, or (max-min) t. Rows: the binding limit rows, the
 * floors, then the α rows. Every row is in HiGHS; by default only some edge columns are
 * (column generation, see `run`): HiGHS numbers the extra columns first, then the edge
 * columns in the order they entered.
 */
export class LpSession {
  private readonly lp: HighsModel;
  private readonly floorRow: number[];
  /** Columns of the full LP (edges and extras). */
  readonly columns: number;
  private readonly edgeCount: number;
  private readonly extra: number;
  private readonly kept: number[];
  private readonly inf: number;
  private readonly sense: number;
  // The full LP's columns in CSC (model numbering), kept to price the left-out ones.
  private readonly cost: Float64Array;
  private readonly upper: Float64Array;
  private readonly colStart: Int32Array;
  private readonly colRow: Int32Array;
  private readonly colVal: Float64Array;
  /** Edge → its HiGHS column, or −1 while left out. */
  private readonly colOf: Int32Array;
  /** HiGHS column − extra → edge. */
  private readonly edgeAt: number[] = [];
  private readonly generate: boolean;
  /** Edge columns the first restricted LP started with. */
  readonly firstColumns: number;
  /** Column-generation rounds and columns in HiGHS after the last `run` (the bench reports them). */
  stats = { rounds: 0, columns: 0 };

  private constructor(
    highs: Highs,
    private readonly model: Model,
    private readonly o: LpOptions,
  ) {
    const { edges, rows } = model;
    const alpha = o.alpha ?? 0;
    const maxMin = alpha >= MAX_MIN_ALPHA;
    const { upper, kept } = presolve(model);
    this.kept = kept;
    this.inf = highs.infinity;
    this.sense = o.shortfall ? -1 : 1;
    const E = edges.length;
    this.edgeCount = E;
    const streetsUsed = [...new Set(edges.map((e) => e.street))];
    const extra = o.shortfall ? o.floors.length : alpha === 0 ? 0 : maxMin ? 1 : streetsUsed.length;
    this.extra = extra;
    const n = E + extra;
    this.columns = n;
    const cost = new Float64Array(n);
    const lower = new Float64Array(n);
    const up = new Float64Array(n);
    for (let i = 0; i < E; i++) up[i] = upper[i]!;
    if (o.shortfall) o.floors.forEach((f, i) => {
      cost[E + i] = 1 / Math.max(f.kind === 'region-sessions' ? f.required : 1, 1);
      up[E + i] = this.inf;
    });
    else if (alpha === 0) edges.forEach((e, i) => (cost[i] = e.value));
    else if (maxMin) {
      cost[E] = 1;
      lower[E] = -this.inf;
      up[E] = this.inf;
      edges.forEach((e, i) => (cost[i] = 1e-4 * e.value * model.streetScale[e.street]!));
    } else
      streetsUsed.forEach((_, k) => {
        cost[E + k] = 1;
        lower[E + k] = -this.inf;
        up[E + k] = this.inf;
      });
    this.cost = cost;
    this.upper = up;
    // Rows in CSR.
    const starts = [0];
    const index: number[] = [];
    const value: number[] = [];
    const rowLower: number[] = [];
    const rowUpper: number[] = [];
    const push = (cols: number[], vals: number[], lo: number, hi: number) => {
      for (let k = 0; k < cols.length; k++) {
        index.push(cols[k]!);
        value.push(vals[k]!);
      }
      starts.push(index.length);
      rowLower.push(lo);
      rowUpper.push(hi);
    };
    for (const r of kept) push(rows[r]!.edges, rows[r]!.coef, -this.inf, rows[r]!.limit);
    this.floorRow = o.floors.map((f, i) => {
      const cols: number[] = [];
      const vals: number[] = [];
      if (f.kind === 'region-sessions') {
        for (const e of f.members) {
          cols.push(e);
          vals.push(1);
        }
      } else {
        for (let e = 0; e < E; e++) {
          const c = (f.members.has(e) ? 1 : 0) - f.share;
          if (c !== 0) {
            cols.push(e);
            vals.push(c);
          }
        }
      }
      if (o.shortfall) {
        cols.push(E + i);
        vals.push(1);
      }
      push(cols, vals, f.kind === 'region-sessions' ? f.required : 0, this.inf);
      return starts.length - 2;
    });
    if (!o.shortfall && alpha !== 0) {
      const byStreet = new Map<number, number[]>();
      edges.forEach((e, i) => {
        const list = byStreet.get(e.street);
        if (list) list.push(i);
        else byStreet.set(e.street, [i]);
      });
      streetsUsed.forEach((s, k) => {
        const members = byStreet.get(s)!;
        const u = members.map((e) => edges[e]!.value * model.streetScale[s]!);
        if (maxMin) {
          push([E, ...members], [1, ...u.map((c) => -c)], -this.inf, 0);
          return;
        }
        // Tangents of the concave f_α at breakpoints up to the street's largest possible value.
        const top = Math.max(1e-6, members.reduce((sum, e, j) => sum + u[j]! * Math.min(upper[e]!, model.instance.repeatCap), 0));
        for (let b = 0; b <= 8; b++) {
          const at = b === 0 ? 0 : top / 2 ** (8 - b);
          const slope = (1 + at) ** -alpha;
          const intercept = fairUtility(at, alpha) - slope * at;
          push([E + k, ...members], [1, ...u.map((c) => -c * slope)], -this.inf, intercept);
        }
      });
    }
    const numRows = rowLower.length;
    // The same matrix column by column (a counting sort of the CSR entries).
    const colStart = new Int32Array(n + 1);
    for (const c of index) colStart[c + 1]!++;
    for (let c = 0; c < n; c++) colStart[c + 1]! += colStart[c]!;
    const fill = colStart.slice(0, n);
    const colRow = new Int32Array(index.length);
    const colVal = new Float64Array(index.length);
    for (let r = 0; r < numRows; r++)
      for (let k = starts[r]!; k < starts[r + 1]!; k++) {
        const at = fill[index[k]!]!++;
        colRow[at] = r;
        colVal[at] = value[k]!;
      }
    this.colStart = colStart;
    this.colRow = colRow;
    this.colVal = colVal;
    this.colOf = new Int32Array(E).fill(-1);
    // The MIP needs every column: a column generated from LP duals proves nothing about integral plans.
    this.generate = !o.integer && o.columns !== 'all';
    const first = this.generate ? this.startColumns() : Array.from({ length: E }, (_, e) => e);
    this.firstColumns = first.length;
    // HiGHS's columns: the extras, then the first edges.
    const order = [...Array.from({ length: extra }, (_, k) => E + k), ...first];
    this.lp = highs.createModel({
      numCols: order.length,
      numRows,
      sense: o.shortfall ? highs.constants.objectiveSense.minimize : highs.constants.objectiveSense.maximize,
      colCost: order.map((c) => cost[c]!),
      colLower: order.map((c) => lower[c]!),
      colUpper: order.map((c) => up[c]!),
      rowLower,
      rowUpper,
      matrix: { format: 'csc', numRows, numCols: order.length, ...this.packed(order) },
      ...(o.integer ? { integrality: order.map((c) => (c < E ? highs.constants.variableType.integer : highs.constants.variableType.continuous)) } : {}),
    });
    for (const e of first) this.enter(e);
    this.lp.options.set({ output_flag: false });
    if (o.timeLimit) this.lp.options.set({ time_limit: o.timeLimit });
    if (o.integer) this.lp.options.set({ mip_rel_gap: 1e-6 });
  }

  /** The seed plan's edges when it meets the floors; else each demand's best few edges by value, and the seed plan's. */
  private startColumns(): number[] {
    const { edges } = this.model;
    const seed = this.o.seed;
    if (seed && seedMeetsFloors(seed, this.o.floors, edges.length)) {
      const out: number[] = [];
      for (let e = 0; e < edges.length; e++) if ((seed[e] ?? 0) > 0) out.push(e);
      // Columns priced in later come with the duals of this LP: from a feasible plan's edges, few rounds price in what the optimum needs.
      if (out.length) return out;
    }
    const byDemand = new Map<number, number[]>();
    edges.forEach((e, i) => {
      const list = byDemand.get(e.demand);
      if (list) list.push(i);
      else byDemand.set(e.demand, [i]);
    });
    const chosen = new Uint8Array(edges.length);
    for (const list of byDemand.values()) {
      list.sort((a, b) => edges[b]!.value - edges[a]!.value || a - b);
      for (const e of list.slice(0, FIRST_COLUMNS)) chosen[e] = 1;
    }
    this.o.seed?.forEach((v, e) => {
      if (v > 0 && e < edges.length) chosen[e] = 1;
    });
    const out: number[] = [];
    chosen.forEach((c, e) => c && out.push(e));
    return out;
  }

  private packed(cols: readonly number[]): { starts: Int32Array; indices: Int32Array; values: Float64Array } {
    const { colStart, colRow, colVal } = this;
    const starts = new Int32Array(cols.length + 1);
    cols.forEach((c, j) => (starts[j + 1] = starts[j]! + colStart[c + 1]! - colStart[c]!));
    const indices = new Int32Array(starts[cols.length]!);
    const values = new Float64Array(starts[cols.length]!);
    cols.forEach((c, j) => {
      indices.set(colRow.subarray(colStart[c]!, colStart[c + 1]!), starts[j]!);
      values.set(colVal.subarray(colStart[c]!, colStart[c + 1]!), starts[j]!);
    });
    return { starts, indices, values };
  }

  private enter(e: number): void {
    this.colOf[e] = this.extra + this.edgeAt.length;
    this.edgeAt.push(e);
  }

  /** Left-out edges whose reduced cost under `rowDual` would improve the objective. */
  private priced(rowDual: Float64Array): number[] {
    const { colStart, colRow, colVal, cost, sense, colOf } = this;
    const out: number[] = [];
    for (let e = 0; e < this.edgeCount; e++) {
      if (colOf[e]! >= 0 || this.upper[e]! <= 0) continue;
      let d = cost[e]!;
      for (let k = colStart[e]!; k < colStart[e + 1]!; k++) d -= colVal[k]! * rowDual[colRow[k]!]!;
      if (sense * d > PRICE_TOLERANCE) out.push(e);
    }
    return out;
  }

  private add(cols: number[]): void {
    this.lp.addCols({
      cost: Float64Array.from(cols, (c) => this.cost[c]!),
      lower: new Float64Array(cols.length),
      upper: Float64Array.from(cols, (c) => this.upper[c]!),
      matrix: { format: 'csc', numRows: this.lp.getDimensions().numRows, numCols: cols.length, ...this.packed(cols) },
    } as Parameters<HighsModel['addCols']>[0]);
    for (const e of cols) this.enter(e);
  }

  static async open(model: Model, o: LpOptions): Promise<LpSession> {
    return new LpSession(await highs(), model, o);
  }

  /**
   * Solves with the floors in `active` (all by default); the others are dropped (row lower
   * bound −∞). `caps: false` drops the region caps too (row upper bound +∞): the policy-free
   * LP of the price of fairness.
   *
   * Column generation: the LP over the columns in HiGHS is solved, every left-out edge is
   * priced with its duals (reduced cost c_e − Σ a_re·y_r), those that would improve enter,
   * and HiGHS re-solves from its basis; when none would, the duals are feasible for the full
   * LP, so the restricted optimum is the full LP's optimum — the bound stays exact. A
   * restricted LP the floors make infeasible takes every column: only the full LP can say
   * the floors cannot be met.
   */
  run(active?: ReadonlySet<string>, { caps = true }: { caps?: boolean } = {}): LpResult {
    const { o, model, lp } = this;
    o.floors.forEach((f, i) => {
      const on = !active || active.has(f.id);
      lp.changeRowBounds(this.floorRow[i]!, on ? (f.kind === 'region-sessions' ? f.required : 0) : -this.inf, this.inf);
    });
    this.kept.forEach((r, k) => {
      const row = model.rows[r]!;
      if (row.kind === 'cap') lp.changeRowBounds(k, -this.inf, caps ? row.limit : this.inf);
    });
    let result = lp.run();
    let rounds = 1;
    while (this.generate && this.edgeAt.length < this.edgeCount) {
      let entering: number[];
      if (result.modelStatus === 7) entering = this.priced(lp.getSolution().rowDual);
      else if (result.modelStatus === 8 || result.modelStatus === 9) entering = Array.from({ length: this.edgeCount }, (_, e) => e).filter((e) => this.colOf[e]! < 0);
      else break;
      if (!entering.length) break;
      this.add(entering);
      result = lp.run();
      rounds++;
    }
    this.stats = { rounds, columns: this.edgeAt.length };
    const status = STATUS[result.modelStatus] ?? `HiGHS status ${result.modelStatus}`;
    const haveSolution = result.modelStatus === 7 || result.modelStatus === 13 || result.modelStatus === 14 || result.modelStatus === 17;
    const solution = haveSolution ? lp.getSolution() : null;
    const x = model.edges.map((_, i) => (solution && this.colOf[i]! >= 0 ? (solution.colValue[this.colOf[i]!] ?? 0) : 0));
    const floorDuals = new Map<string, number>();
    const rowDuals = new Map<string, number>();
    const slack = new Map<string, number>();
    if (solution && !o.integer) {
      o.floors.forEach((f, i) => floorDuals.set(f.id, solution.rowDual[this.floorRow[i]!] ?? 0));
      this.kept.forEach((r, k) => {
        const row = model.rows[r]!;
        rowDuals.set(`${row.kind}:${row.key}`, solution.rowDual[k] ?? 0);
      });
    }
    // Phase 1's slacks are the first HiGHS columns.
    if (solution && o.shortfall) o.floors.forEach((f, i) => slack.set(f.id, solution.colValue[i] ?? 0));
    const objective = solution ? lp.getObjectiveValue() : 0;
    let dualBound: number | undefined;
    if (o.integer) {
      const b = Number(lp.info.get('mip_dual_bound'));
      if (Number.isFinite(b)) dualBound = b;
    }
    return { status, objective: Number.isFinite(objective) ? objective : 0, x, floorDuals, slack, rowDuals, ...(dualBound === undefined ? {} : { dualBound }) };
  }

  close(): void {
    this.lp.dispose();
  }
}

/** Whether a plan meets every floor (as the LP states them: region floors in sessions, group shares of all sessions). */
function seedMeetsFloors(seed: readonly number[], floors: readonly FloorRow[], edges: number): boolean {
  let total = 0;
  for (let e = 0; e < edges; e++) total += seed[e] ?? 0;
  return floors.every((f) => {
    let n = 0;
    for (const e of f.members) n += seed[e] ?? 0;
    return f.kind === 'region-sessions' ? n >= f.required : n >= f.share * total - 1e-9;
  });
}

/** One solve in a fresh session. */
export async function solveLp(model: Model, o: LpOptions): Promise<LpResult> {
  const session = await LpSession.open(model, o);
  try {
    return session.run();
  } finally {
    session.close();
  }
}
