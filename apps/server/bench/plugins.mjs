// Bench-only plugins: extra Diandan plugins a benchmark scenario adds to the
// deployment, to measure what registering something costs. Start a server with them
// with `node bench/server.mjs --with=guard,extension`, or give a scenario in
// bench/http.mjs `with: ['guard']`.
//
// Each does what a real package's would, no more: the guard reads its suppliers' rows
// through the placement transaction with one query per batch of orders (`guardBatch`),
// the per-order guard one query per order (`guard`); the extension loads one page's
// data with one query.
import { DomainError, definePlugin, extension, guard, guardBatch, kernelTables, orderPlacementGuard, Type } from '@diandan/kernel';
import { eq, inArray } from 'drizzle-orm';

const notActive = () => new DomainError('conflict', 'BENCH_SUPPLIER_NOT_ACTIVE', 'The supplier is not active');

/** Refuses orders of suppliers it does not know to be active, reading a batch's supplier rows in the transaction. */
const guardBench = definePlugin({
  name: 'bench-guard',
  version: '0.0.0',
  kernel: '^0.1.0',
  hooks: () => [
    guardBatch(orderPlacementGuard, async (items, { tx }) => {
      const ids = [...new Set(items.map((i) => i.subject.order.supplierId))];
      const rows = await tx.select({ id: kernelTables.suppliers.id, status: kernelTables.suppliers.status }).from(kernelTables.suppliers).where(inArray(kernelTables.suppliers.id, ids));
      const active = new Set(rows.filter((r) => r.status === 'active').map((r) => r.id));
      return items.map((i) => (active.has(i.subject.order.supplierId) ? undefined : notActive()));
    }),
  ],
});

/** The same check, one query per order. */
const guardEachBench = definePlugin({
  name: 'bench-guard-each',
  version: '0.0.0',
  kernel: '^0.1.0',
  hooks: () => [
    guard(orderPlacementGuard, async ({ order }, { tx }) => {
      const [row] = await tx.select({ status: kernelTables.suppliers.status }).from(kernelTables.suppliers).where(eq(kernelTables.suppliers.id, order.supplierId));
      if (row?.status !== 'active') throw notActive();
    }),
  ],
});

/** Shows each product's supplier name on product reads: one query per page. */
const extensionBench = definePlugin({
  name: 'bench-extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  extensions: () => [
    extension('product', {
      schema: Type.Object({ supplierName: Type.String() }),
      async load(products, { db }) {
        const ids = [...new Set(products.map((p) => p.supplierId))];
        const rows = await db.select({ id: kernelTables.suppliers.id, name: kernelTables.suppliers.name }).from(kernelTables.suppliers).where(inArray(kernelTables.suppliers.id, ids));
        const names = new Map(rows.map((r) => [r.id, r.name]));
        return new Map(products.map((p) => [p.id, { supplierName: names.get(p.supplierId) ?? '' }]));
      },
    }),
  ],
});

/** @type {Record<string, () => import('@diandan/kernel').PluginInstance>} */
export const benchPlugins = {
  guard: () => guardBench.configure({}),
  'guard-each': () => guardEachBench.configure({}),
  extension: () => extensionBench.configure({}),
};
