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
  /**
   * For each edge, the rows it appears in and its coefficient there (by row index). Built on
   * first read from `edgeRowStart`/`edgeRow`/`edgeCoef`, which the solvers use instead: a
   * city-wide model has over a million (row, coefficient) pairs, too many to allocate as objects.
   */
  readonly edgeRows: { row: number; coef: number }[][];
  /** The same pairs flat (CSR): edge e's are at `edgeRowStart[e]` … `edgeRowStart[e + 1] − 1`, rows ascending. */
  edgeRowStart: Int32Array;
  edgeRow: Int32Array;
  edgeCoef: Float64Array;
  /** `rows[r].limit` for every row. */
  rowLimit: Float64Array;
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
  // Streets are numbered in the order edges first reach them; each demand's is looked up once.
  const streetOfDemand = new Int32Array(instance.demands.length).fill(-1);
  const edges = instance.candidates.map((c) => {
    let s = streetOfDemand[c.demand]!;
    if (s < 0) {
      const code = instance.demands[c.demand]!.regionCode;
      s = streetIndex.get(code) ?? -1;
      if (s < 0) {
        s = streets.length;
        streets.push(code);
        streetIndex.set(code, s);
      }
      streetOfDemand[c.demand] = s;
    }
    return { demand: c.demand, product: c.product, value: c.value, cost: instance.products[c.product]!.cost, street: s };
  });
  const streetScale = streets.map((code) => {
    const pop = population.get(code);
    return pop && pop > 0 ? 10_000 / pop : 1;
  });
  const capacity = new Map(instance.capacities.map((c) => [`${c.supplierId}|${c.period}`, c.sessions]));
  const budgets = new Map(instance.budgets.map((b) => [b.regionCode, b.amount]));
  // Region caps (the tightest when several name one region); an instance/1 has none.
  const caps = new Map<string, number>();
  for (const c of instance.caps ?? []) {
    const n = capSessions(c, instance.regions);
    if (Number.isFinite(n)) caps.set(c.regionCode, Math.min(n, caps.get(c.regionCode) ?? Infinity));
  }
  // Rows are found by small integer keys instead of `kind:key` strings (a city-wide model
  // looked up over a million such strings): ids, codes and periods are numbered once, and a
  // row's key string is only written when the row is created. Rows keep their order of first
  // use, edge by edge, so the model is the same as when they were keyed by strings.
  const numbering = () => {
    const index = new Map<string, number>();
    const no = (key: string) => {
      let i = index.get(key);
      if (i === undefined) index.set(key, (i = index.size));
      return i;
    };
    return { no, size: () => index.size };
  };
  const demandIds = numbering();
  const productIds = numbering();
  const suppliers = numbering();
  const demandRegions = numbering();
  const periods = numbering();
  const demandKey = instance.demands.map((d) => demandIds.no(d.id));
  const demandRegion = instance.demands.map((d) => demandRegions.no(d.regionCode));
  const demandPeriod = instance.demands.map((d) => periods.no(d.period));
  const productKey = instance.products.map((p) => productIds.no(p.id));
  const productSupplier = instance.products.map((p) => suppliers.no(p.supplierId));
  const regionCount = demandRegions.size();
  const periodCount = periods.size();
  const regionIds = numbering();
  // The budget and cap rows over each demand region's ancestry (self first).
  const limitsAt = new Map<string, { code: string; region: number; budget: number | undefined; cap: number | undefined }[]>();
  const limitsOf = (code: string) => {
    let list = limitsAt.get(code);
    if (!list) {
      list = (ancestors.get(code) ?? [code]).map((c) => ({ code: c, region: regionIds.no(c), budget: budgets.get(c), cap: caps.get(c) }));
      limitsAt.set(code, list);
    }
    return list;
  };
  const demandLimits = instance.demands.map((d) => limitsOf(d.regionCode));
  const rows: LimitRow[] = [];
  const newRow = (kind: RowKind, key: string, limit: number): number => {
    rows.push({ kind, key, limit, edges: [], coef: [] });
    return rows.length - 1;
  };
  const demandRow = new Map<number, number>();
  const repeatRow = new Map<number, number>();
  const capacityRow = new Map<number, number>();
  const budgetRow = new Map<number, number>();
  const capRow = new Map<number, number>();
  const E = edges.length;
  const edgeRowStart = new Int32Array(E + 1);
  let edgeRow = new Int32Array(Math.max(16, E * 6));
  let edgeCoef = new Float64Array(edgeRow.length);
  let n = 0;
  const add = (row: number, edge: number, coef: number) => {
    const r = rows[row]!;
    r.edges.push(edge);
    r.coef.push(coef);
    if (n === edgeRow.length) {
      const grownRow = new Int32Array(2 * n);
      grownRow.set(edgeRow);
      edgeRow = grownRow;
      const grownCoef = new Float64Array(2 * n);
      grownCoef.set(edgeCoef);
      edgeCoef = grownCoef;
    }
    edgeRow[n] = row;
    edgeCoef[n++] = coef;
  };
  for (let i = 0; i < E; i++) {
    const e = edges[i]!;
    const d = instance.demands[e.demand]!;
    const p = instance.products[e.product]!;
    edgeRowStart[i] = n;
    let r = demandRow.get(demandKey[e.demand]!);
    if (r === undefined) demandRow.set(demandKey[e.demand]!, (r = newRow('demand', d.id, d.sessions)));
    add(r, i, 1);
    const period = demandPeriod[e.demand]!;
    const repeatKey = (productKey[e.product]! * regionCount + demandRegion[e.demand]!) * periodCount + period;
    r = repeatRow.get(repeatKey);
    if (r === undefined) repeatRow.set(repeatKey, (r = newRow('repeat', `${p.id}|${d.regionCode}|${d.period}`, instance.repeatCap)));
    add(r, i, 1);
    const capacityKey = productSupplier[e.product]! * periodCount + period;
    r = capacityRow.get(capacityKey);
    if (r === undefined) {
      const key = `${p.supplierId}|${d.period}`;
      capacityRow.set(capacityKey, (r = newRow('capacity', key, capacity.get(key) ?? instance.defaultCapacity)));
    }
    add(r, i, 1);
    for (const l of demandLimits[e.demand]!) {
      if (l.budget !== undefined) {
        r = budgetRow.get(l.region);
        if (r === undefined) budgetRow.set(l.region, (r = newRow('budget', l.code, l.budget)));
        add(r, i, p.cost);
      }
      if (l.cap !== undefined) {
        r = capRow.get(l.region);
        if (r === undefined) capRow.set(l.region, (r = newRow('cap', l.code, l.cap)));
        add(r, i, 1);
      }
    }
    // Each edge's rows ascending (as when they were collected row by row): the first tight row
    // an explanation names, and the order the local improvement visits rows in, depend on it.
    for (let k = edgeRowStart[i]! + 1; k < n; k++) {
      const row = edgeRow[k]!;
      const coef = edgeCoef[k]!;
      let j = k - 1;
      for (; j >= edgeRowStart[i]! && edgeRow[j]! > row; j--) {
        edgeRow[j + 1] = edgeRow[j]!;
        edgeCoef[j + 1] = edgeCoef[j]!;
      }
      edgeRow[j + 1] = row;
      edgeCoef[j + 1] = coef;
    }
  }
  edgeRowStart[E] = n;
  edgeRow = edgeRow.slice(0, n);
  edgeCoef = edgeCoef.slice(0, n);
  const rowLimit = Float64Array.from(rows, (r) => r.limit);
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
  let edgeRows: { row: number; coef: number }[][] | undefined;
  const model = { instance, edges, rows, floors, streets, streetScale, edgeFloors, edgeRowStart, edgeRow, edgeCoef, rowLimit } as Omit<Model, 'edgeRows'>;
  return Object.defineProperty(model, 'edgeRows', {
    enumerable: true,
    get: () =>
      (edgeRows ??= edges.map((_, e) => {
        const list: { row: number; coef: number }[] = [];
        for (let k = edgeRowStart[e]!; k < edgeRowStart[e + 1]!; k++) list.push({ row: edgeRow[k]!, coef: edgeCoef[k]! });
        return list;
      })),
  }) as Model;
}
