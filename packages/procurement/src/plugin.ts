import { fileURLToPath } from 'node:url';
import { DiandanStartupError, StartupErrorCodes, Type, definePlugin, kernel, kernelReady, on, type Actor, type JobDefinition, type PluginOptions } from '@diandan/kernel';
import { BidService } from './bids.js';
import { ProcurementClock } from './clock.js';
import { ContractService } from './contracts.js';
import { seedProcurementDemo } from './demo.js';
import { DocumentFileService } from './documents.js';
import { EvaluationService } from './evaluation.js';
import { IndicatorService } from './indicators.js';
import { OcdsService } from './ocds.js';
import { ProjectService } from './projects.js';
import { MODELS } from './routes/models.js';
import { procurementRoutes } from './routes/procurement.js';
import { BidSealer, DEVELOPMENT_SEALING_KEY } from './sealing.js';

/** The environment variable the sealing secret is read from when `sealingKey` is not configured. */
export const SEALING_KEY_ENV = 'DIANDAN_PROCUREMENT_SEALING_KEY';

const config = Type.Object({
  /**
   * The deployment secret the per-tender bid keys are derived from (HKDF-SHA256, at
   * least 32 characters). Default: env `DIANDAN_PROCUREMENT_SEALING_KEY`, else a
   * development key — refused when NODE_ENV is `production`.
   */
  sealingKey: Type.Optional(Type.String({ minLength: 32, maxLength: 512 })),
  /** Days between an award and the earliest contract signature (中标公示/质疑期); fractions allowed. */
  standstillDays: Type.Number({ minimum: 0, maximum: 60, default: 7 }),
  ocds: Type.Object(
    {
      /** The registered OCDS prefix, `ocds-` + 6 characters. */
      ocidPrefix: Type.String({ pattern: '^ocds-[a-z0-9]{6}$', default: 'ocds-213czf' }),
      publisherName: Type.String({ minLength: 1, default: 'Diandan procurement platform' }),
      publisherUri: Type.Optional(Type.String({ format: 'uri' })),
      /** The public base URL of the API, for the packages' `uri`. */
      publicUrl: Type.String({ format: 'uri', default: 'http://localhost:3000' }),
      license: Type.Optional(Type.String({ format: 'uri' })),
      publicationPolicy: Type.Optional(Type.String({ format: 'uri' })),
    },
    { default: {} },
  ),
  /** Largest procurement document file, in bytes (the deployment's `files.maxBytes` still applies to the upload). */
  maxFileBytes: Type.Integer({ minimum: 1, default: 20 * 1024 * 1024 }),
  /** Content types of procurement document files, decided from their bytes. */
  fileTypes: Type.Array(Type.String(), { default: ['application/pdf', 'image/png', 'image/jpeg'] }),
  /** Seed one synthetic project per method (the Guangzhou demo) once the deployment is ready. */
  demo: Type.Boolean({ default: false }),
});

/** The plugin definition: government procurement of public cultural services (政府购买公共文化服务). */
export const procurementPlugin = definePlugin({
  name: 'procurement',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  config,
  db: { schema: 'procurement', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: MODELS,
  tags: [{ name: 'procurement', description: 'Government procurement of public cultural services (政府购买公共文化服务): tenders, sealed bids, evaluation, awards, contracts, OCDS 1.1' }],

  init(ctx): Services {
    const secret = ctx.config.sealingKey ?? process.env[SEALING_KEY_ENV];
    if (!secret && process.env.NODE_ENV === 'production') {
      throw new DiandanStartupError(StartupErrorCodes.PLUGIN_CONFIG_INVALID, `config.sealingKey (or ${SEALING_KEY_ENV}) is required in production: bids are sealed with it`, {
        plugin: 'procurement',
        path: 'sealingKey',
      });
    }
    if (secret !== undefined && secret.length < 32) {
      throw new DiandanStartupError(StartupErrorCodes.PLUGIN_CONFIG_INVALID, `${SEALING_KEY_ENV} must be at least 32 characters`, { plugin: 'procurement', path: 'sealingKey' });
    }
    const k = ctx.deps.kernel;
    let system: Promise<Actor> | undefined;
    const systemActor = () => (system ??= ctx.systemActor({ roles: ['city-admin'] }));
    // One clock for every service: the database's, which tests and simulations may move forward.
    const clock = new ProcurementClock(ctx.db);
    const ocds = new OcdsService(ctx.db, {
      ocidPrefix: ctx.config.ocds.ocidPrefix,
      publisher: { name: ctx.config.ocds.publisherName, uri: ctx.config.ocds.publisherUri },
      publicUrl: ctx.config.ocds.publicUrl,
      license: ctx.config.ocds.license,
      publicationPolicy: ctx.config.ocds.publicationPolicy,
    }, clock);
    const projects = new ProjectService(ctx.db, k, ctx.hooks, ocds, systemActor, { standstillDays: ctx.config.standstillDays }, clock);
    const bids = new BidService(ctx.db, k, ctx.hooks, projects, new BidSealer(secret ?? DEVELOPMENT_SEALING_KEY), clock);
    const evaluation = new EvaluationService(ctx.db, k, ctx.hooks, projects, ocds, clock);
    const contracts = new ContractService(ctx.db, k, ctx.hooks, projects, ocds, clock);
    const indicators = new IndicatorService(ctx.db);
    const documents = new DocumentFileService(ctx.db, k, { owner: ctx.name, maxBytes: ctx.config.maxFileBytes, accept: ctx.config.fileTypes });
    // Daily: document files stored but never linked to a project (a crash between the two steps).
    const cleanOrphanFiles = ctx.jobs.define<{ olderThanHours?: number }, { removed: number }>('clean-orphan-files', async (job) => ({ removed: await documents.cleanOrphans(await systemActor(), job.data) }), { retryLimit: 2 });
    // Every minute, once across processes: published tenders whose enquiry period ended become `tendering`.
    const advancePeriods = ctx.jobs.define('advance-periods', async () => ({ advanced: await projects.advanceDue() }), { retryLimit: 2 });
    return { clock, projects, bids, evaluation, contracts, ocds, indicators, documents, advancePeriods, cleanOrphanFiles };
  },

  hooks: (ctx, services) =>
    ctx.config.demo
      ? [
          // After every plugin's `ready` (the demo-data plugin seeds units and suppliers there).
          on(kernelReady, async () => {
            try {
              await seedProcurementDemo(ctx, services);
            } catch (error) {
              ctx.log.error({ err: error }, 'the procurement demo could not be seeded');
            }
          }),
        ]
      : [],

  async ready(ctx, { advancePeriods, cleanOrphanFiles }) {
    await ctx.jobs.schedule(advancePeriods, '* * * * *', {});
    await ctx.jobs.schedule(cleanOrphanFiles, '45 4 * * *', {}, { tz: 'Asia/Shanghai' });
  },

  routes: (app, ctx, services) => procurementRoutes(app, services, ctx.db, ctx.config.maxFileBytes),
});

/** The services this plugin offers other plugins (`ctx.deps.procurement`). */
export interface Services {
  /** The clock every deadline is checked against (the database's; tests and simulations move it forward). */
  clock: ProcurementClock;
  projects: ProjectService;
  bids: BidService;
  evaluation: EvaluationService;
  contracts: ContractService;
  ocds: OcdsService;
  indicators: IndicatorService;
  /** Files of procurement documents (kernel file storage). */
  documents: DocumentFileService;
  /** The daily job that removes document files never linked to a project. */
  cleanOrphanFiles: JobDefinition<{ olderThanHours?: number }, { removed: number }>;
  /** The scheduled job that persists `published → tendering`. */
  advancePeriods: JobDefinition<Record<string, never>, { advanced: number }>;
}

/** The factory a deployment calls: `plugins: [procurement({ ocds: { ocidPrefix: 'ocds-abc123' } })]`. */
export const procurement = (options: PluginOptions<typeof config> = {}) => procurementPlugin.configure(options);
