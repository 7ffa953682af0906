/**
 * The fast heuristic: (1) repair — meet every region floor with the best sessions per
 * unit of cost that fit, then every group share (adding the group's sessions, or
 * removing others that no floor needs); (2) lazy greedy — add sessions by marginal
 * welfare per unit of cost (welfare is Σ value for α = 0, Σ f_α of street values
 * otherwise) while every limit and share still holds; (3) local improvement — move one
 * session at a time from a low-value edge to a better edge it competed with, while the
 * floors hold, then refill.
 */
import { fairUtility, MAX_MIN_ALPHA } from './problem.js';
import type { FloorRow, Model } from './model.js';

const EPS = 1e-7;

export interface GreedyOptions {
  /** Floors to meet (defaults to the model's; relaxed floors after an infeasibility report). */
  floors?: FloorRow[];
  alpha?: number;
  signal?: AbortSignal;
  /** Skip phase 3 (the popularity baseline and quick checks). */
  improve?: boolean;
  /** The edge order key: `value` (default) or a custom score (the popularity baseline). */
  priority?: (edge: number) => number;
  /**
   * LP-guided start: a fractional solution (the LP relaxation's x). Each edge first takes
   * ⌊x_e⌋ sessions (while every limit still fits), then the fractional parts are rounded up
   * by value × fraction where they fit; repair, greedy fill and local improvement follow.
   */
  start?: readonly number[];
}

export interface GreedyResult {
  x: number[];
  /** Floors not met: id → sessions (region) or share points (group) missing. */
  shortfalls: Map<string, number>;
}

class Heap {
  readonly keys: number[] = [];
  readonly items: number[] = [];
  push(item: number, key: number) {
    const { keys, items } = this;
    let i = keys.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! >= key) break;
      keys[i] = keys[p]!;
      items[i] = items[p]!;
      i = p;
    }
    keys[i] = key;
    items[i] = item;
  }
  /** Removes the top item and returns it (its key is `peekKey()` before the call); the heap must not be empty. */
  popItem(): number {
    const { keys, items } = this;
    const top = items[0]!;
    const k = keys.pop()!;
    const it = items.pop()!;
    if (keys.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= keys.length) break;
        const r = l + 1;
        const c = r < keys.length && keys[r]! > keys[l]! ? r : l;
        if (keys[c]! <= k) break;
        keys[i] = keys[c]!;
        items[i] = items[c]!;
        i = c;
      }
      keys[i] = k;
      items[i] = it;
    }
    return top;
  }
  peekKey(): number {
    return this.keys.length ? this.keys[0]! : -Infinity;
  }
  get size() {
    return this.keys.length;
  }
}

/**
 * Edge orders that depend on the model alone, computed once per model (the heuristic runs
 * twice per solve — plain and LP-guided — on the same model).
 */
interface Orders {
  /** Edges by value per unit of cost (budgeted edges) or value, best first; ties by edge index. */
  byPerCost: Int32Array;
  /** Per row, its edges by value, best first (ties by edge index), at most `COMPETITORS`: CSR over rows. */
  competitorStart: Int32Array;
  competitors: Int32Array;
}
const COMPETITORS = 64;
const ordersOf = new WeakMap<Model, Orders>();

function orders(model: Model, budgeted: Uint8Array): Orders {
  const known = ordersOf.get(model);
  if (known) return known;
  const { edges, rows, edgeRowStart, edgeRow } = model;
  const E = edges.length;
  const perCost = new Float64Array(E);
  const value = new Float64Array(E);
  for (let e = 0; e < E; e++) {
    value[e] = edges[e]!.value;
    perCost[e] = budgeted[e] ? edges[e]!.value / Math.max(edges[e]!.cost, 1) : edges[e]!.value;
  }
  // One sort of all edges, (key descending, index ascending): any subset read in this order is
  // what a stable sort of that subset (kept in index order) by the key would give.
  const sorted = (key: Float64Array) => Int32Array.from({ length: E }, (_, e) => e).sort((a, b) => key[b]! - key[a]! || a - b);
  const byPerCost = sorted(perCost);
  const byValue = sorted(value);
  const competitorStart = new Int32Array(rows.length + 1);
  for (let r = 0; r < rows.length; r++) competitorStart[r + 1] = competitorStart[r]! + Math.min(COMPETITORS, rows[r]!.edges.length);
  const competitors = new Int32Array(competitorStart[rows.length]!);
  const filled = competitorStart.slice(0, rows.length);
  for (const e of byValue) {
    for (let k = edgeRowStart[e]!; k < edgeRowStart[e + 1]!; k++) {
      const r = edgeRow[k]!;
      if (filled[r]! < competitorStart[r + 1]!) competitors[filled[r]!++] = e;
    }
  }
  const result = { byPerCost, competitorStart, competitors };
  ordersOf.set(model, result);
  return result;
}

export function greedy(model: Model, options: GreedyOptions = {}): GreedyResult {
  const { edges, edgeRowStart, edgeRow, edgeCoef, rowLimit } = model;
  const floors = options.floors ?? model.floors;
  const alpha = options.alpha ?? model.instance.objective.alpha;
  const maxMin = alpha >= MAX_MIN_ALPHA;
  const E = edges.length;
  const x = new Array<number>(E).fill(0);
  const use = new Float64Array(rowLimit.length);
  const floorCount = floors.map(() => 0);
  const streetValue = model.streets.map(() => 0);
  let total = 0;
  const shares = floors.map((f, i) => [f, i] as const).filter(([f]) => f.kind === 'group-share');
  const regionFloors = floors.map((f, i) => [f, i] as const).filter(([f]) => f.kind === 'region-sessions');
  const budgeted = new Uint8Array(E);
  for (let e = 0; e < E; e++) for (let k = edgeRowStart[e]!; k < edgeRowStart[e + 1]!; k++) if (model.rows[edgeRow[k]!]!.kind === 'budget') budgeted[e] = 1;
  // Each edge's floors (indices into `floors`), CSR: an edge is in a handful of the floors, so
  // a session counts towards them without asking every floor's member set.
  const floorStart = new Int32Array(E + 1);
  floors.forEach((f) => {
    for (const e of f.members) floorStart[e + 1]!++;
  });
  for (let e = 0; e < E; e++) floorStart[e + 1]! += floorStart[e]!;
  const floorOf = new Int32Array(floorStart[E]!);
  {
    const at = floorStart.slice(0, E);
    floors.forEach((f, i) => {
      for (const e of f.members) floorOf[at[e]!++] = i;
    });
  }
  const inShare = shares.map(([f]) => {
    const member = new Uint8Array(E);
    for (const e of f.members) member[e] = 1;
    return member;
  });
  const inAnyShare = new Uint8Array(E);
  for (const member of inShare) for (let e = 0; e < E; e++) inAnyShare[e]! |= member[e]!;
  const check = () => {
    if (options.signal?.aborted) throw new Error('The solve was cancelled');
  };

  const fits = (e: number) => {
    for (let k = edgeRowStart[e]!, end = edgeRowStart[e + 1]!; k < end; k++) {
      const row = edgeRow[k]!;
      if (!(use[row]! + edgeCoef[k]! <= rowLimit[row]! + EPS)) return false;
    }
    return true;
  };
  const sharesHold = (e: number, delta: number) => {
    for (let s = 0; s < shares.length; s++) {
      const [f, i] = shares[s]!;
      if (!(floorCount[i]! + (inShare[s]![e] ? delta : 0) >= f.share * (total + delta) - EPS)) return false;
    }
    return true;
  };
  const apply = (e: number, delta: number) => {
    x[e]! += delta;
    total += delta;
    for (let k = edgeRowStart[e]!, end = edgeRowStart[e + 1]!; k < end; k++) use[edgeRow[k]!]! += edgeCoef[k]! * delta;
    for (let k = floorStart[e]!, end = floorStart[e + 1]!; k < end; k++) floorCount[floorOf[k]!]! += delta;
    streetValue[edges[e]!.street]! += edges[e]!.value * model.streetScale[edges[e]!.street]! * delta;
  };
  const gain = (e: number) => {
    const { value, street } = edges[e]!;
    if (alpha === 0) return value;
    const u = streetValue[street]!;
    const du = value * model.streetScale[street]!;
    if (maxMin) {
      // Max-min: sessions in the poorest streets first; value breaks ties.
      return 1 / (1 + u) + 1e-6 * du;
    }
    return fairUtility(u + du, alpha) - fairUtility(u, alpha);
  };
  const perCost = (e: number, g: number) => (budgeted[e] ? g / Math.max(edges[e]!.cost, 1) : g);
  const priority = options.priority ?? ((e: number) => perCost(e, gain(e)));

  // (0) LP-guided start: round the relaxation down, then round up the largest fractions that fit.
  if (options.start) {
    const start = options.start;
    for (let e = 0; e < E; e++) {
      const n = Math.floor((start[e] ?? 0) + 1e-6);
      for (let k = 0; k < n && fits(e); k++) apply(e, 1);
    }
    check();
    const fractional: [number, number][] = [];
    for (let e = 0; e < E; e++) {
      const f = (start[e] ?? 0) - x[e]!;
      if (f > 1e-6) fractional.push([e, f * edges[e]!.value]);
    }
    fractional.sort((a, b) => b[1] - a[1]);
    for (const [e] of fractional) if (fits(e) && sharesHold(e, 1)) apply(e, 1);
  }

  // Each floor's members by value per unit of cost, best first (ties by edge index): the order
  // the repair adds them in, read off one sort of all edges.
  const { byPerCost, competitorStart, competitors } = orders(model, budgeted);
  const ranked = floors.map((f) => new Int32Array(f.members.size));
  {
    const at = floors.map(() => 0);
    for (const e of byPerCost) for (let k = floorStart[e]!, end = floorStart[e + 1]!; k < end; k++) ranked[floorOf[k]!]![at[floorOf[k]!]!++] = e;
  }

  // (1) Repair: region floors, neediest first.
  const shortfalls = new Map<string, number>();
  const order = [...regionFloors].sort((a, b) => b[0].required / (b[0].members.size || 1) - a[0].required / (a[0].members.size || 1));
  for (const [f, i] of order) {
    const members = ranked[i]!;
    let k = 0;
    while (floorCount[i]! < f.required && k < members.length) {
      const e = members[k]!;
      if (fits(e)) apply(e, 1);
      else k++;
    }
    check();
  }
  // Group shares: add the group's best sessions, else drop sessions no region floor needs.
  for (const [f, i] of shares) {
    const members = ranked[i]!;
    let k = 0;
    while (floorCount[i]! < f.share * total - EPS) {
      while (k < members.length && !fits(members[k]!)) k++;
      if (k < members.length) {
        apply(members[k]!, 1);
        continue;
      }
      const drop = x
        .map((n, e) => [n, e] as const)
        .filter(([n, e]) => n > 0 && !f.members.has(e) && regionFloors.every(([g, j]) => !g.members.has(e) || floorCount[j]! > g.required))
        .sort((a, b) => edges[a[1]]!.value - edges[b[1]]!.value)[0];
      if (!drop) break;
      apply(drop[1], -1);
    }
  }

  // (2) Lazy greedy.
  const fill = () => {
    const heap = new Heap();
    for (let e = 0; e < E; e++) heap.push(e, priority(e));
    let deferred: number[] = [];
    let steps = 0;
    const lazy = !options.priority && alpha !== 0;
    while (heap.size) {
      const key = heap.peekKey();
      const e = heap.popItem();
      if ((++steps & 4095) === 0) check();
      if (!fits(e)) continue;
      if (lazy) {
        const fresh = priority(e);
        if (fresh < key - EPS && fresh < heap.peekKey()) {
          heap.push(e, fresh);
          continue;
        }
      }
      if (!sharesHold(e, 1)) {
        deferred.push(e);
        continue;
      }
      apply(e, 1);
      heap.push(e, priority(e));
      if (deferred.length && inAnyShare[e]) {
        for (const d of deferred) heap.push(d, priority(d));
        deferred = [];
      }
    }
  };
  fill();

  // (3) Local improvement: one session from a weak edge to a stronger competitor.
  if (options.improve !== false && alpha === 0) {
    let improved = true;
    const short: FloorRow[] = [];
    for (let pass = 0; pass < 3 && improved; pass++) {
      improved = false;
      const held: number[] = [];
      for (let e = 0; e < E; e++) if (x[e]! > 0) held.push(e);
      held.sort((a, b) => edges[a]!.value - edges[b]!.value);
      for (const a of held) {
        check();
        if (x[a]! <= 0) continue;
        apply(a, -1);
        // The region floors of a that the move would leave short: the session must go to an edge in each.
        short.length = 0;
        for (let k = floorStart[a]!, end = floorStart[a + 1]!; k < end; k++) {
          const g = floors[floorOf[k]!]!;
          if (g.kind === 'region-sessions' && floorCount[floorOf[k]!]! < g.required) short.push(g);
        }
        let best = -1;
        let bestValue = edges[a]!.value + EPS;
        for (let k = edgeRowStart[a]!, end = edgeRowStart[a + 1]!; k < end; k++) {
          const row = edgeRow[k]!;
          for (let c = competitorStart[row]!, last = competitorStart[row + 1]!; c < last; c++) {
            const b = competitors[c]!;
            // Competitors come best first: none after this one can beat the best so far.
            if (edges[b]!.value <= bestValue) break;
            if (b === a) continue;
            if (short.length && !short.every((g) => g.members.has(b))) continue;
            if (fits(b) && sharesHold(b, 1)) {
              best = b;
              bestValue = edges[b]!.value;
            }
          }
        }
        if (best >= 0 && sharesHold(a, 0)) {
          apply(best, 1);
          improved = true;
        } else apply(a, 1);
      }
    }
    fill();
  }

  for (const [f, i] of regionFloors) if (floorCount[i]! < f.required) shortfalls.set(f.id, f.required - floorCount[i]!);
  for (const [f, i] of shares) if (floorCount[i]! < f.share * total - EPS) shortfalls.set(f.id, f.share * total - floorCount[i]!);
  return { x, shortfalls };
}
