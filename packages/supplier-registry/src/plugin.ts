import { fileURLToPath } from 'node:url';
import {
  DomainError,
  Type,
  definePlugin,
  extension,
  feedbackReceived,
  guard,
  kernel,
  on,
  supplierStatusGuard,
  supplierUpdated,
  type PluginOptions,
} from '@diandan/kernel';
import { qualificationExpiring } from './hooks.js';
import { SUSPENSION_CODES } from './lifecycle.js';
import { ProductMediaLibrary, type ProductMediaSummary } from './product-media.js';
import { SupplierQualityService, type SupplierQuality } from './ratings.js';
import { SupplierRegistry } from './registry.js';
import { ApplicationSchema, QualificationSchema, applicationRoutes } from './routes/applications.js';
import { fileRoutes } from './routes/files.js';
import { ProductMediaSchema, ProductMediaSummarySchema, mediaRoutes } from './routes/media.js';
import { DirectoryEntrySchema, RatingSchema, SupplierQualitySchema, qualityRoutes } from './routes/quality.js';

const config = Type.Object({
  /** Supplier kinds of individuals: they give an identity number instead of a credit code. */
  individualKinds: Type.Array(Type.String(), { default: ['individual-artist'] }),
  /** Qualifications expiring within this many days are warned about (`qualification.expiring`), once each. */
  expiryWarningDays: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
  /** When the daily qualification check runs (cron, Asia/Shanghai). */
  checkSchedule: Type.String({ default: '30 2 * * *' }),
  /** When the scores and the quality tier are recomputed (cron, Asia/Shanghai). */
  recomputeSchedule: Type.String({ default: '0 3 * * *' }),
  /** Largest qualification file, in bytes (the deployment's `files.maxBytes` still applies to the upload). */
  maxFileBytes: Type.Integer({ minimum: 1, default: 10 * 1024 * 1024 }),
  /** Content types of qualification files, decided from their bytes. */
  fileTypes: Type.Array(Type.String(), { default: ['application/pdf', 'image/png', 'image/jpeg'] }),
  /** Product media (photos, video, programme PDFs): largest file in bytes (the deployment's `files.maxBytes` still applies). */
  maxMediaBytes: Type.Integer({ minimum: 1, default: 20 * 1024 * 1024 }),
  /** Content types of product media, decided from their bytes. */
  mediaTypes: Type.Array(Type.String(), { default: ['image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'application/pdf'] }),
  /** Most media files one product may have. */
  maxMediaPerProduct: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  /** The quality score (see the README). */
  score: Type.Object(
    {
      criteria: Type.Object(
        {
          punctuality: Type.Number({ minimum: 0, default: 1 }),
          quality: Type.Number({ minimum: 0, default: 2 }),
          cooperation: Type.Number({ minimum: 0, default: 1 }),
        },
        { default: {} },
      ),
      sources: Type.Object({ units: Type.Number({ minimum: 0, default: 0.7 }), citizens: Type.Number({ minimum: 0, default: 0.3 }) }, { default: {} }),
      minRatings: Type.Integer({ minimum: 1, default: 3 }),
      halfLifeDays: Type.Number({ exclusiveMinimum: 0, default: 365 }),
      qualityScore: Type.Number({ minimum: 0, maximum: 5, default: 4.5 }),
    },
    { default: {} },
  ),
});

/**
 * What product reads carry under `extensions['supplier-registry']`: the supplier's score
 * and tier (once it has been scored) and the product's media.
 */
const ProductExtensionSchema = Type.Object({
  ...Type.Partial(SupplierQualitySchema).properties,
  media: ProductMediaSummarySchema,
});
type ProductExtension = Partial<SupplierQuality> & { media: ProductMediaSummary };

/** The supplier registry (文化供应商库): applications, review, qualifications, ratings, quality tier, directory. */
export const supplierRegistryPlugin = definePlugin({
  name: 'supplier-registry',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  config,
  db: { schema: 'supplier_registry', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: [QualificationSchema, ApplicationSchema, RatingSchema, DirectoryEntrySchema, ProductMediaSchema],
  tags: [{ name: 'supplier-registry', description: 'Supplier applications, review, qualifications, ratings and the public directory (文化供应商库)' }],
  contributes: {
    supplierKinds: [{ key: 'public-institution', name: '事业单位', nameEn: 'Public institution' }],
  },

  init(ctx) {
    const kernelServices = ctx.deps.kernel;
    const registry = new SupplierRegistry(ctx.db, kernelServices, ctx.hooks, kernelServices.personalData, {
      individualKinds: ctx.config.individualKinds,
      name: ctx.name,
      maxFileBytes: ctx.config.maxFileBytes,
      fileTypes: ctx.config.fileTypes,
      systemActor: (grant) => ctx.systemActor(grant),
    });
    const quality = new SupplierQualityService(ctx.db, kernelServices, registry, ctx.config.score);
    const media = new ProductMediaLibrary(ctx.db, kernelServices, {
      owner: ctx.name,
      maxBytes: ctx.config.maxMediaBytes,
      types: ctx.config.mediaTypes,
      maxPerProduct: ctx.config.maxMediaPerProduct,
    });
    const checkQualifications = ctx.jobs.define<{ today?: string }>('check-qualifications', async (job) =>
      registry.checkQualifications({ today: job.data.today, warningDays: ctx.config.expiryWarningDays }, (tx, event) => ctx.hooks.publish(tx, qualificationExpiring, event)),
    );
    const recomputeScores = ctx.jobs.define<{ asOf?: string }>('recompute-scores', async (job) => quality.recompute({ asOf: job.data.asOf }));
    const cleanOrphanFiles = ctx.jobs.define<{ olderThanHours?: number }>('clean-orphan-files', async (job) => ({ removed: await registry.cleanOrphanFiles(job.data) }));
    return { registry, quality, media, checkQualifications, recomputeScores, cleanOrphanFiles };
  },

  hooks: (ctx, { registry, quality }) => [
    // The kernel's own reinstate route must not undo what the registry decided.
    guard(supplierStatusGuard, async ({ before, after }, { tx, actor }) => {
      if (actor.system === ctx.name || before.status !== 'suspended' || after.status !== 'active') return;
      const application = await registry.ofSupplier(before.id, tx);
      if (!application) return;
      if (application.status === 'blacklisted') {
        throw new DomainError('conflict', SUSPENSION_CODES.blacklisted, 'This supplier is blacklisted: the supplier registry lifts it (POST /v1/supplier-applications/{id}/lift-blacklist)');
      }
      const expired = await registry.expiredMandatory(tx, application.id, registry.today());
      if (expired.length) {
        throw new DomainError('conflict', SUSPENSION_CODES.expired, `A mandatory qualification is expired (${expired.join(', ')}): a valid document must be reviewed first`, { types: expired });
      }
      if (application.status === 'suspended') {
        throw new DomainError('conflict', SUSPENSION_CODES.suspended, 'The supplier registry suspended this supplier: reinstate it there (POST /v1/supplier-applications/{id}/reinstate)');
      }
    }),
    // Citizens' feedback counts towards the score; durable: no rating is lost, each counted once.
    on(feedbackReceived, (event, { eventId }) => quality.recordFeedback(eventId, event), { durable: true, name: 'citizen-ratings' }),
    // A supplier renamed through the kernel's routes: its application follows (durable, so no rename is missed).
    on(supplierUpdated, async ({ after }) => void (await registry.syncSupplierNames(after.id)), { durable: true, name: 'supplier-names' }),
  ],

  // The score and tier on every kernel supplier and product read, and a product's media (count and cover): a page in one query each.
  extensions: (_ctx, { quality, media }) => [
    extension('supplier', { schema: SupplierQualitySchema, load: (suppliers, { db }) => quality.qualityOf(suppliers.map((s) => s.id), db) }),
    extension('product', {
      schema: ProductExtensionSchema,
      load: async (products, { db }) => {
        const [bySupplier, mediaOf] = await Promise.all([quality.qualityOf(products.map((p) => p.supplierId), db), media.summaries(products.map((p) => p.id), db)]);
        const entries: [string, ProductExtension][] = [];
        for (const p of products) {
          const score = bySupplier.get(p.supplierId);
          const shown = mediaOf.get(p.id);
          if (score || shown) entries.push([p.id, { ...score, media: shown ?? { count: 0, cover: null } }]);
        }
        return new Map(entries);
      },
    }),
  ],

  async ready(ctx, { registry, checkQualifications, recomputeScores, cleanOrphanFiles }) {
    // Renames made while the registry was not installed (or before supplier.updated existed): one statement.
    const synced = await registry.syncSupplierNames();
    if (synced > 0) ctx.log.info({ synced }, 'supplier registry: copied supplier names changed in the kernel');
    await ctx.jobs.schedule(checkQualifications, ctx.config.checkSchedule, {}, { tz: 'Asia/Shanghai' });
    await ctx.jobs.schedule(cleanOrphanFiles, '15 4 * * *', {}, { tz: 'Asia/Shanghai' });
    await ctx.jobs.schedule(recomputeScores, ctx.config.recomputeSchedule, {}, { tz: 'Asia/Shanghai' });
  },

  routes: (app, ctx, { registry, quality, media }) => {
    applicationRoutes(app, registry, ctx.db);
    qualityRoutes(app, quality, ctx.db);
    fileRoutes(app, registry, ctx.config.maxFileBytes);
    mediaRoutes(app, media, ctx.config.maxMediaBytes);
  },
});

/** The factory a deployment calls: `plugins: [supplierRegistry({ expiryWarningDays: 60 })]`. */
export const supplierRegistry = (options: PluginOptions<typeof config> = {}) => supplierRegistryPlugin.configure(options);
