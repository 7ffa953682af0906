/**
 * The instance compiled to rows over the candidate edges: what the greedy heuristic and
 * the LP/MIP share. (`verify` does not use it: it recomputes everything on its own.)
 */
import { ancestry, capSessions, requiredSessions, type Instance } from './problem.js';

export type RowKind = 'demand' | 'repeat' | 'capacity' | 'budget' | 'cap';

export interface LimitRow {
  kind: RowKind;
  key: string;
  limit: number;
  /** Edge indices and their coefficients (1, or the cost for budgets). */
  edges: number[];
  coef: number[];
}

export interface FloorRow {
  id: string;
  kind: 'region-sessions' | 'group-share';
  /** Region floor: sessions required; group share: the share. */
  required: number;
  share: number;
  /** Edges that count (under the region / of the group). */
  members: Set<number>;
}

export interface Model {
  instance: Instance;
  edges: { demand: number; product: number; value: number; cost: number; street: number }[];
  rows: LimitRow[];
  /** For each edge, the rows it appears in and its coefficient there. */
  edgeRows: { row: number; coef: number }[][];
  floors: FloorRow[];
  /** Street (demand region) index of each edge; `streetScale` turns value into value per 10,000 residents. */
  streets: string[];
  streetScale: number[];
  /** For each edge, the floors (indices into `floors`) it counts towards. */
  edgeFloors: number[][];
}

export function compile(instance: Instance): Model {
  const ancestors = ancestry(instance.regions);
  const population = new Map(instance.regions.map((r) => [r.code, r.population]));
  const streets: string[] = [];
  const streetIndex = new Map<string, number>();
  const edges = instance.candidates.map((c) => {
    const d = instance.demands[c.demand]!;
    let s = streetIndex.get(d.regionCode);
    if (s === undefined) {
      s = streets.length;
      streets.push(d.regionCode);
      streetIndex.set(d.regionCode, s);
    }
    return { demand: c.demand, product: c.product, value: c.value, cost: instance.products[c.product]!.cost, street: s };
  });
  const streetScale = streets.map((code) => {
    const pop = population.get(code);
    return pop && pop > 0 ? 10_000 / pop : 1;
  });
  const rows: LimitRow[] = [];
  const byKey = new Map<string, LimitRow>();
  const add = (kind: RowKind, key: string, limit: number, edge: number, coef: number) => {
    const full = `${kind}:${key}`;
    let row = byKey.get(full);
    if (!row) {
      row = { kind, key, limit, edges: [], coef: [] };
      byKey.set(full, row);
      rows.push(row);
    }
    row.edges.push(edge);
    row.coef.push(coef);
  };
  const capacity = new Map(instance.capacities.map((c) => [`${c.supplierId}|${c.period}`, c.sessions]));
  const budgets = new Map(instance.budgets.map((b) => [b.regionCode, b.amount]));
  // Region caps (the tightest when several name one region); an instance/1 has none.
  const caps = new Map<string, number>();
  for (const c of instance.caps ?? []) {
    const n = capSessions(c, instance.regions);
    if (Number.isFinite(n)) caps.set(c.regionCode, Math.min(n, caps.get(c.regionCode) ?? Infinity));
  }
  edges.forEach((e, i) => {
    const d = instance.demands[e.demand]!;
    const p = instance.products[e.product]!;
    add('demand', d.id, d.sessions, i, 1);
    add('repeat', `${p.id}|${d.regionCode}|${d.period}`, instance.repeatCap, i, 1);
    const capKey = `${p.supplierId}|${d.period}`;
    add('capacity', capKey, capacity.get(capKey) ?? instance.defaultCapacity, i, 1);
    for (const code of ancestors.get(d.regionCode) ?? [d.regionCode]) {
      const amount = budgets.get(code);
      if (amount !== undefined) add('budget', code, amount, i, p.cost);
      const cap = caps.get(code);
      if (cap !== undefined) add('cap', code, cap, i, 1);
    }
  });
  const edgeRows: { row: number; coef: number }[][] = edges.map(() => []);
  rows.forEach((row, r) => row.edges.forEach((e, k) => edgeRows[e]!.push({ row: r, coef: row.coef[k]! })));
  // Floor membership: region floors by the demand's ancestry, group shares by its group.
  const regionFloorsAt = new Map<string, number[]>();
  const groupFloorsOf = new Map<string, number[]>();
  instance.floors.forEach((f, i) => {
    const [map, key] = f.kind === 'region-sessions' ? [regionFloorsAt, f.regionCode] : [groupFloorsOf, f.group];
    map.set(key, [...(map.get(key) ?? []), i]);
  });
  const floorsOfDemand = instance.demands.map((d) => [
    ...(ancestors.get(d.regionCode) ?? [d.regionCode]).flatMap((code) => regionFloorsAt.get(code) ?? []),
    ...(groupFloorsOf.get(d.group) ?? []),
  ]);
  const edgeFloors = edges.map((e) => floorsOfDemand[e.demand]!);
  const members = instance.floors.map(() => new Set<number>());
  edgeFloors.forEach((list, e) => {
    for (const f of list) members[f]!.add(e);
  });
  const floors: FloorRow[] = instance.floors.map((f, i) =>
    f.kind === 'region-sessions'
      ? { id: f.id, kind: f.kind, required: requiredSessions(f, instance.regions), share: 0, members: members[i]! }
      : { id: f.id, kind: f.kind, required: 0, share: f.share, members: members[i]! },
  );
  return { instance, edges, rows, edgeRows, floors, streets, streetScale, edgeFloors };
}
