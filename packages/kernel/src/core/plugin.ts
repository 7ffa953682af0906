import { fileURLToPath } from 'node:url';
import Type, { type Static } from 'typebox';
import { AccessService } from '../auth/access.js';
import type { RoleRegistry } from '../auth/roles.js';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { transaction } from '../db/database.js';
import { kernelRuntime } from '../kernel.js';
import { definePlugin, type PluginDefinition } from '../plugin/define.js';
import type { DeploymentLists } from '../plugin/deployment-lists.js';
import type { OpenList } from '../plugin/lists.js';
import { KERNEL_VERSION } from '../version.js';
import { BUILTIN_CATEGORIES, BUILTIN_POPULATION_GROUPS, ReferenceData } from './reference-data.js';
import { RegionService } from './regions.js';
import { kernelRoutes, kernelSchemas } from './routes.js';
import { categories, populationGroups } from './schema.js';
import { AuditLog } from '../audit/audit-log.js';
import { auditRoutes, AuditRecordSchema } from '../audit/routes.js';
import { UnitService } from '../units/units.js';
import { unitRoutes, unitModel } from '../units/routes.js';
import { VenueService } from '../venues/venues.js';
import { venueRoutes, venueModel } from '../venues/routes.js';
import { SupplierService } from '../suppliers/suppliers.js';
import { supplierRoutes, supplierModel } from '../suppliers/routes.js';
import { JobRecordRetention } from '../jobs/retention.js';
import { jobRoutes, JobSchema } from '../jobs/routes.js';
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
import type { PersonalData } from '../personal-data/personal-data.js';
import { FileService, StoredFileSchema } from '../files/files.js';
import { openFileStore } from '../files/config.js';

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
  /** How long the record of a finished background job stays visible at `GET /v1/jobs/{id}`, in days. */
  jobRecordDays: Type.Integer({ minimum: 1, default: 30 }),
  /** Background jobs and durable events (see docs/deploying.md, "Background jobs"); each key may be left out. */
  jobs: Type.Object(
    {
      /** Run jobs and deliver durable events in this process; `false` for a process that only queues them (web-only). */
      workers: Type.Optional(Type.Boolean({ default: true })),
      /** How often an idle worker looks for due jobs, retries and jobs sent elsewhere, in seconds (at least 0.5). */
      pollingIntervalSeconds: Type.Optional(Type.Number({ minimum: 0.5, maximum: 3600, default: 2 })),
      /** How long shutting down waits for running jobs before aborting them, and then for in-request event handlers, in seconds. */
      shutdownTimeoutSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600, default: 5 })),
    },
    { default: {} },
  ),
  /** Roles besides the built-in ones; `level` pins the region level their tokens must be signed at. */
  roles: Type.Array(Type.Object({ ...Entry.properties, level: Type.Optional(Type.String()) }), { default: [] }),
  /** The region level each built-in staff role is signed at, where the deployment names its levels otherwise. */
  roleLevels: Type.Record(Type.String(), Type.String(), { default: {} }),
  /** Kinds of ordering unit, venue and supplier besides the built-in ones. */
  unitKinds: Type.Array(Entry, { default: [] }),
  venueKinds: Type.Array(Entry, { default: [] }),
  supplierKinds: Type.Array(Entry, { default: [] }),
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

/** What closes each started kernel's file store (removes its temporary folder). */
const closeFileStores = new WeakMap<object, () => Promise<void>>();

/** What the kernel offers every plugin through `ctx.deps.kernel` (declare `deps: { kernel }`). */
export interface KernelServices {
  readonly regions: RegionService;
  readonly audit: AuditLog;
  /** Turns token claims and plugins' grants into actors. */
  readonly access: AccessService;
  readonly units: UnitService;
  readonly venues: VenueService;
  readonly suppliers: SupplierService;
  readonly products: ProductService;
  readonly budgets: BudgetService;
  readonly orders: OrderService;
  readonly feedback: FeedbackService;
  /** Keyed hashes and encryption of personal data with the deployment's key (see docs/plugin-authors.md, "Personal data"). */
  readonly personalData: PersonalData;
  /** Files plugins store: uploads, documents, images (see docs/plugin-authors.md, "Files"). */
  readonly files: FileService;
  /** The read cache of library searches (see list-cache.ts). */
  readonly libraryCache: LibraryCache<ProductSummary>;
  /** Forgets responses stored under idempotency keys after `idempotencyKeyHours` (a scheduled job). */
  readonly idempotencyKeys: IdempotencyKeyRetention;
  /** Forgets the records of finished jobs after `jobRecordDays` (a daily job). */
  readonly jobRecords: JobRecordRetention;
  readonly populationGroups: ReferenceData;
  readonly categories: ReferenceData;
  /** The deployment's roles (built-in, configured and contributed by plugins) and their levels. */
  readonly roles: RoleRegistry;
  /** The deployment's kinds of unit, venue and supplier. */
  readonly kinds: { readonly unit: OpenList; readonly venue: OpenList; readonly supplier: OpenList };
  /** What `GET /v1/deployment` shows. */
  deployment(): DeploymentDescription;
}

/** A deployment as `GET /v1/deployment` describes it. */
export interface DeploymentDescription {
  city: string;
  levels: string[];
  kernelVersion: string;
  plugins: { name: string; version: string }[];
  roles: { key: string; name: string; nameEn: string; description?: string | undefined; source: string; level: string | null }[];
  unitKinds: ListDescription[];
  venueKinds: ListDescription[];
  supplierKinds: ListDescription[];
}

type ListDescription = { key: string; name: string; nameEn: string; description?: string | undefined; source: string };

const describe = (list: OpenList): ListDescription[] => list.entries().map((e) => ({ ...e }));

/**
 * The kernel's core, defined through the same contract as every other plugin: its
 * tables and migrations (schema `kernel`), its routes and its hooks. It always starts
 * first; other plugins declare `deps: { kernel }` and use `ctx.deps.kernel`.
 */
export const kernel: PluginDefinition<typeof KernelConfigSchema, KernelServices> = definePlugin({
  name: 'kernel',
  version: KERNEL_VERSION,
  kernel: KERNEL_VERSION,
  config: KernelConfigSchema,
  db: { schema: 'kernel', migrations: fileURLToPath(new URL('../../drizzle', import.meta.url)) },
  // Units, venues and suppliers show the deployment's own kinds, so their models are built per deployment.
  schemas: (_ctx, services) => [
    ...kernelSchemas,
    AuditRecordSchema,
    unitModel(services.kinds.unit),
    venueModel(services.kinds.venue),
    supplierModel(services.kinds.supplier),
    ProductSummarySchema,
    ProductSchema,
    BudgetSchema,
    OrderSchema,
    FeedbackSummarySchema,
    JobSchema,
    StoredFileSchema,
  ],
  tags: [
    { name: 'units', description: 'Ordering units (点单单位): cultural stations, library branches, schools, barracks, …' },
    { name: 'venues', description: 'Venues where deliveries take place' },
    { name: 'suppliers', description: 'The supplier directory (文化供应商)' },
    { name: 'products', description: 'The product library (产品库) and its review workflow' },
    { name: 'orders', description: 'Orders (点单): placed by units, approved up the region chain, scheduled, delivered, closed' },
    { name: 'budgets', description: 'Yearly budgets per region, allocated down the tree' },
    { name: 'feedback', description: 'Citizens’ feedback on deliveries (群众评价)' },
    { name: 'audit', description: 'The append-only audit log' },
    { name: 'jobs', description: 'Background jobs: status, progress and results' },
  ],
  async init(ctx) {
    const { lists, extensions, personalData, files: filesSetup } = kernelRuntime(ctx);
    const groups = new ReferenceData(ctx.db, populationGroups);
    const cats = new ReferenceData(ctx.db, categories);
    await transaction(ctx.db, async (tx) => {
      await groups.sync(tx, BUILTIN_POPULATION_GROUPS, ctx.config.populationGroups);
      await cats.sync(tx, BUILTIN_CATEGORIES, ctx.config.categories);
    });
    const levels = ctx.deployment.levels;
    const regions = new RegionService(ctx.db, levels, ctx.hooks);
    const audit = new AuditLog(ctx.db);
    const libraryCache = new LibraryCache<ProductSummary>();
    await libraryCache.connect(ctx);
    const products = new ProductService(ctx.db, regions, groups, cats, audit, ctx.hooks, libraryCache, extensions);
    const budgets = new BudgetService(ctx.db, regions, audit, ctx.hooks);
    const topLevel = ctx.config.approvalTopLevel ?? (levels.includes('district') ? 'district' : levels[0]!);
    // PostgreSQL pipelines a transaction's concurrent statements; PGlite runs one at a time.
    const orders = new OrderService(ctx.db, regions, budgets, audit, ctx.hooks, extensions, topLevel, levels, {
      concurrentStatements: ctx.driver === 'postgres',
    });
    const units = new UnitService(ctx.db, regions, audit, extensions, lists.unitKinds, personalData);
    // Contacts stored in plain text before 0009/0010 are sealed now: the key is not in the database, so no migration can.
    const sealed = await units.sealLegacyContacts();
    if (sealed > 0) ctx.log.info({ sealed }, 'sealed the contact phones and names of units stored in plain text');
    const idempotencyKeys = new IdempotencyKeyRetention(ctx.db, ctx.config.idempotencyKeyHours, ctx.jobs);
    const jobRecords = new JobRecordRetention(ctx.db, ctx.config.jobRecordDays, ctx.jobs);
    const fileStore = await openFileStore(filesSetup.files, filesSetup.database, ctx.log);
    closeFileStores.set(ctx, fileStore.close);
    return {
      regions,
      audit,
      access: new AccessService(lists.roles, regions),
      units,
      venues: new VenueService(ctx.db, regions, audit, extensions, lists.venueKinds),
      suppliers: new SupplierService(ctx.db, regions, audit, ctx.hooks, extensions, lists.supplierKinds, libraryCache),
      products,
      budgets,
      orders,
      feedback: new FeedbackService(ctx.db, orders, regions, groups, audit, ctx.hooks),
      personalData,
      files: new FileService(ctx.db, fileStore.store, audit, fileStore.maxBytes, ctx.log),
      libraryCache,
      idempotencyKeys,
      jobRecords,
      populationGroups: groups,
      categories: cats,
      roles: lists.roles,
      kinds: { unit: lists.unitKinds, venue: lists.venueKinds, supplier: lists.supplierKinds },
      deployment: () => describeDeployment(ctx.deployment, lists),
    };
  },
  async ready(_ctx, services) {
    await services.idempotencyKeys.schedule();
    await services.jobRecords.schedule();
  },
  close: async (ctx, services) => {
    await services.libraryCache.close();
    await closeFileStores.get(ctx)?.();
  },
  async routes(app, ctx, services) {
    const { extensions } = kernelRuntime(ctx);
    kernelRoutes(app, ctx, services);
    auditRoutes(app, services);
    unitRoutes(app, { units: services.units, kinds: services.kinds.unit, extensions }, ctx.db);
    venueRoutes(app, { venues: services.venues, kinds: services.kinds.venue, extensions }, ctx.db);
    supplierRoutes(app, { suppliers: services.suppliers, kinds: services.kinds.supplier, extensions }, ctx.db);
    productRoutes(app, { products: services.products, extensions }, ctx.db);
    budgetRoutes(app, services, ctx.db);
    orderRoutes(app, { orders: services.orders, extensions }, ctx.db);
    jobRoutes(app, ctx.jobs);
    await feedbackRoutes(app, services, ctx.db, { perMinute: ctx.config.feedbackPerMinute });
  },
});

function describeDeployment(info: { city: string; levels: readonly string[]; plugins: readonly { name: string; version: string }[] }, lists: DeploymentLists): DeploymentDescription {
  return {
    city: info.city,
    levels: [...info.levels],
    kernelVersion: KERNEL_VERSION,
    plugins: info.plugins.map((p) => ({ ...p })),
    roles: lists.roles.list.entries().map((e) => ({ ...e, level: lists.roles.levelOf(e.key) ?? null })),
    unitKinds: describe(lists.unitKinds),
    venueKinds: describe(lists.venueKinds),
    supplierKinds: describe(lists.supplierKinds),
  };
}
