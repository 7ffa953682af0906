import { fileURLToPath } from 'node:url';
import Type, { type Static } from 'typebox';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { transaction } from '../db/database.js';
import { definePlugin, type PluginDefinition } from '../plugin/define.js';
import { KERNEL_VERSION } from '../version.js';
import { BUILTIN_CATEGORIES, BUILTIN_POPULATION_GROUPS, ReferenceData } from './reference-data.js';
import { RegionService } from './regions.js';
import { kernelRoutes, kernelSchemas } from './routes.js';
import { categories, populationGroups } from './schema.js';
import { AuditLog } from '../audit/audit-log.js';
import { auditRoutes, AuditRecordSchema } from '../audit/routes.js';
import { UnitService } from '../units/units.js';
import { unitRoutes, UnitSchema } from '../units/routes.js';
import { VenueService } from '../venues/venues.js';
import { venueRoutes, VenueSchema } from '../venues/routes.js';
import { SupplierService } from '../suppliers/suppliers.js';
import { supplierRoutes, SupplierSchema } from '../suppliers/routes.js';
import { ProductService, type ProductSummary } from '../products/products.js';
import { LibraryCache } from '../products/list-cache.js';
import { productRoutes, ProductSchema, ProductSummarySchema } from '../products/routes.js';
import { IdempotencyKeyRetention } from '../safe-writes/idempotency.js';
import { BudgetService } from '../budgets/budgets.js';
import { budgetRoutes, BudgetSchema } from '../budgets/routes.js';
import { OrderService } from '../orders/orders.js';
import { orderRoutes, OrderSchema } from '../orders/routes.js';
import { FeedbackService } from '../feedback/feedback.js';
import { feedbackRoutes, FeedbackSummarySchema } from '../feedback/routes.js';

const Entry = Type.Object({
  key: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
  name: Type.String({ minLength: 1 }),
  nameEn: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
});

/** The kernel's own config (`defineDeployment({ kernel: {...} })`). */
export const KernelConfigSchema = Type.Object({
  /** Population groups besides the built-in ones. */
  populationGroups: Type.Array(Entry, { default: [] }),
  /** Product categories besides the built-in ones. */
  categories: Type.Array(Entry, { default: [] }),
  /** The highest region level that approves orders (default: `district` if the deployment has it, else its top level). */
  approvalTopLevel: Type.Optional(Type.String()),
  /** Anonymous feedback submissions accepted per client address and minute. */
  feedbackPerMinute: Type.Integer({ minimum: 1, default: 30 }),
  /** How long a response stays stored under its `Idempotency-Key`, in hours; a retry after that is a new request. */
  idempotencyKeyHours: Type.Integer({ minimum: 1, default: 24 }),
});

/**
 * Checks what the schema cannot: an extra group or category must not reuse a
 * built-in key. Runs with the other config checks, before the database is opened.
 */
export function checkKernelConfig(config: Static<typeof KernelConfigSchema>, levels: readonly string[]): void {
  if (config.approvalTopLevel !== undefined && !levels.includes(config.approvalTopLevel)) {
    throw new DiandanStartupError(
      StartupErrorCodes.PLUGIN_CONFIG_INVALID,
      `plugin "kernel": config.approvalTopLevel: "${config.approvalTopLevel}" is not one of the levels ${levels.join(', ')}`,
      { plugin: 'kernel', path: 'config.approvalTopLevel' },
    );
  }
  const lists = [
    ['populationGroups', config.populationGroups, BUILTIN_POPULATION_GROUPS],
    ['categories', config.categories, BUILTIN_CATEGORIES],
  ] as const;
  for (const [key, extras, builtin] of lists) {
    extras.forEach((entry, i) => {
      const path = `config.${key}[${i}].key`;
      if (builtin.some((b) => b.key === entry.key)) {
        throw new DiandanStartupError(
          StartupErrorCodes.PLUGIN_CONFIG_INVALID,
          `plugin "kernel": ${path}: "${entry.key}" is built in; choose another key`,
          { plugin: 'kernel', path },
        );
      }
      if (extras.findIndex((e) => e.key === entry.key) !== i) {
        throw new DiandanStartupError(StartupErrorCodes.PLUGIN_CONFIG_INVALID, `plugin "kernel": ${path}: "${entry.key}" is listed twice`, {
          plugin: 'kernel',
          path,
        });
      }
    });
  }
}

/** What the kernel offers every plugin through `ctx.services.get(kernel)`. */
export interface KernelServices {
  readonly regions: RegionService;
  readonly audit: AuditLog;
  readonly units: UnitService;
  readonly venues: VenueService;
  readonly suppliers: SupplierService;
  readonly products: ProductService;
  readonly budgets: BudgetService;
  readonly orders: OrderService;
  readonly feedback: FeedbackService;
  /** The read cache of library searches (see list-cache.ts). */
  readonly libraryCache: LibraryCache<ProductSummary>;
  /** Forgets responses stored under idempotency keys after `idempotencyKeyHours`. */
  readonly idempotencyKeys: IdempotencyKeyRetention;
  readonly populationGroups: ReferenceData;
  readonly categories: ReferenceData;
  readonly deployment: {
    city: string;
    levels: string[];
    kernelVersion: string;
    plugins: { name: string; version: string }[];
  };
}

/**
 * The kernel's core, defined through the same contract as every other plugin: its
 * tables and migrations (schema `kernel`), its routes and its hooks. It always starts
 * first; other plugins reach its services with `ctx.services.get(kernel)`.
 */
export const kernel: PluginDefinition<typeof KernelConfigSchema, KernelServices> = definePlugin({
  name: 'kernel',
  version: KERNEL_VERSION,
  kernel: KERNEL_VERSION,
  config: KernelConfigSchema,
  db: { schema: 'kernel', migrations: fileURLToPath(new URL('../../drizzle', import.meta.url)) },
  schemas: [...kernelSchemas, AuditRecordSchema, UnitSchema, VenueSchema, SupplierSchema, ProductSummarySchema, ProductSchema, BudgetSchema, OrderSchema, FeedbackSummarySchema],
  tags: [
    { name: 'units', description: 'Ordering units (点单单位): cultural stations, library branches, schools, barracks, …' },
    { name: 'venues', description: 'Venues where deliveries take place' },
    { name: 'suppliers', description: 'The supplier directory (文化供应商)' },
    { name: 'products', description: 'The product library (产品库) and its review workflow' },
    { name: 'orders', description: 'Orders (点单): placed by units, approved up the region chain, scheduled, delivered, closed' },
    { name: 'budgets', description: 'Yearly budgets per region, allocated down the tree' },
    { name: 'feedback', description: 'Citizens’ feedback on deliveries (群众评价)' },
    { name: 'audit', description: 'The append-only audit log' },
  ],
  async init(ctx) {
    const groups = new ReferenceData(ctx.db, populationGroups);
    const cats = new ReferenceData(ctx.db, categories);
    await transaction(ctx.db, async (tx) => {
      await groups.sync(tx, BUILTIN_POPULATION_GROUPS, ctx.config.populationGroups);
      await cats.sync(tx, BUILTIN_CATEGORIES, ctx.config.categories);
    });
    const levels = ctx.deployment.levels;
    const regions = new RegionService(ctx.db, levels, ctx.hooks);
    const audit = new AuditLog(ctx.db);
    const units = new UnitService(ctx.db, regions, audit);
    const venues = new VenueService(ctx.db, regions, audit);
    const libraryCache = new LibraryCache<ProductSummary>();
    await libraryCache.connect(ctx);
    const products = new ProductService(ctx.db, regions, groups, cats, audit, ctx.hooks, libraryCache);
    const budgets = new BudgetService(ctx.db, regions, audit);
    const topLevel = ctx.config.approvalTopLevel ?? (levels.includes('district') ? 'district' : levels[0]!);
    const orders = new OrderService(ctx.db, regions, budgets, audit, ctx.hooks, topLevel, levels);
    return {
      regions,
      audit,
      units,
      venues,
      suppliers: new SupplierService(ctx.db, audit, (db) => regions.root(db)),
      products,
      budgets,
      orders,
      feedback: new FeedbackService(ctx.db, orders, regions, groups, audit, ctx.hooks),
      libraryCache,
      idempotencyKeys: new IdempotencyKeyRetention(ctx.db, ctx.config.idempotencyKeyHours),
      populationGroups: groups,
      categories: cats,
      deployment: {
        city: ctx.deployment.city,
        levels: [...ctx.deployment.levels],
        kernelVersion: KERNEL_VERSION,
        plugins: ctx.deployment.plugins.map((p) => ({ ...p })),
      },
    };
  },
  ready: (ctx, services) => services.idempotencyKeys.start(ctx.log),
  close: async (_ctx, services) => {
    services.idempotencyKeys.stop();
    await services.libraryCache.close();
  },
  async routes(app, ctx, services) {
    kernelRoutes(app, ctx, services);
    auditRoutes(app, services);
    unitRoutes(app, services, ctx.db);
    venueRoutes(app, services, ctx.db);
    supplierRoutes(app, services, ctx.db);
    productRoutes(app, services, ctx.db);
    budgetRoutes(app, services);
    orderRoutes(app, services);
    await feedbackRoutes(app, services, ctx.db, { perMinute: ctx.config.feedbackPerMinute });
  },
});
