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
  pop(): [number, number] | undefined {
    const { keys, items } = this;
    if (!keys.length) return undefined;
    const top: [number, number] = [items[0]!, keys[0]!];
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

export function greedy(model: Model, options: GreedyOptions = {}): GreedyResult {
  const { edges, rows, edgeRows } = model;
  const floors = options.floors ?? model.floors;
  const alpha = options.alpha ?? model.instance.objective.alpha;
  const maxMin = alpha >= MAX_MIN_ALPHA;
  const x = new Array<number>(edges.length).fill(0);
  const use = new Array<number>(rows.length).fill(0);
  const floorCount = floors.map(() => 0);
  const streetValue = model.streets.map(() => 0);
  let total = 0;
  const shares = floors.map((f, i) => [f, i] as const).filter(([f]) => f.kind === 'group-share');
  const regionFloors = floors.map((f, i) => [f, i] as const).filter(([f]) => f.kind === 'region-sessions');
  const budgeted = edges.map((_, e) => edgeRows[e]!.some((r) => rows[r.row]!.kind === 'budget'));
  const check = () => {
    if (options.signal?.aborted) throw new Error('The solve was cancelled');
  };

  const fits = (e: number) => edgeRows[e]!.every(({ row, coef }) => use[row]! + coef <= rows[row]!.limit + EPS);
  const sharesHold = (e: number, delta: number) =>
    shares.every(([f, i]) => floorCount[i]! + (f.members.has(e) ? delta : 0) >= f.share * (total + delta) - EPS);
  const apply = (e: number, delta: number) => {
    x[e]! += delta;
    total += delta;
    for (const { row, coef } of edgeRows[e]!) use[row]! += coef * delta;
    floors.forEach((f, i) => {
      if (f.members.has(e)) floorCount[i]! += delta;
    });
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
    for (let e = 0; e < edges.length; e++) {
      const n = Math.floor((start[e] ?? 0) + 1e-6);
      for (let k = 0; k < n && fits(e); k++) apply(e, 1);
    }
    check();
    const fractional: [number, number][] = [];
    for (let e = 0; e < edges.length; e++) {
      const f = (start[e] ?? 0) - x[e]!;
      if (f > 1e-6) fractional.push([e, f * edges[e]!.value]);
    }
    fractional.sort((a, b) => b[1] - a[1]);
    for (const [e] of fractional) if (fits(e) && sharesHold(e, 1)) apply(e, 1);
  }

  // (1) Repair: region floors, neediest first.
  const shortfalls = new Map<string, number>();
  const order = [...regionFloors].sort((a, b) => b[0].required / (b[0].members.size || 1) - a[0].required / (a[0].members.size || 1));
  for (const [f, i] of order) {
    const members = [...f.members].sort((a, b) => perCost(b, edges[b]!.value) - perCost(a, edges[a]!.value));
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
    const members = [...f.members].sort((a, b) => perCost(b, edges[b]!.value) - perCost(a, edges[a]!.value));
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
    for (let e = 0; e < edges.length; e++) heap.push(e, priority(e));
    let deferred: number[] = [];
    let steps = 0;
    while (heap.size) {
      const [e, key] = heap.pop()!;
      if ((++steps & 4095) === 0) check();
      if (!fits(e)) continue;
      if (!options.priority && alpha !== 0) {
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
      if (deferred.length && shares.some(([f]) => f.members.has(e))) {
        for (const d of deferred) heap.push(d, priority(d));
        deferred = [];
      }
    }
  };
  fill();

  // (3) Local improvement: one session from a weak edge to a stronger competitor.
  if (options.improve !== false && alpha === 0) {
    const byValue = rows.map((row) => [...row.edges].sort((a, b) => edges[b]!.value - edges[a]!.value).slice(0, 64));
    let improved = true;
    for (let pass = 0; pass < 3 && improved; pass++) {
      improved = false;
      const held = x.map((n, e) => [n, e] as const).filter(([n]) => n > 0).sort((a, b) => edges[a[1]]!.value - edges[b[1]]!.value);
      for (const [, a] of held) {
        check();
        if (x[a]! <= 0) continue;
        const needed = regionFloors.some(([g, j]) => g.members.has(a) && floorCount[j]! <= g.required);
        apply(a, -1);
        let best = -1;
        let bestValue = edges[a]!.value + EPS;
        for (const { row } of edgeRows[a]!) {
          for (const b of byValue[row]!) {
            if (b === a || edges[b]!.value <= bestValue) continue;
            if (needed && !regionFloors.every(([g, j]) => !g.members.has(a) || floorCount[j]! >= g.required || g.members.has(b))) continue;
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
