import { fileURLToPath } from 'node:url';
import { DomainError, Type, definePlugin, kernel, kernelReady, on, orderRejected, type PluginOptions } from '@diandan/kernel';
import { DemandService } from './demand.js';
import { seedSurveyDemo } from './demo.js';
import { demandSignalled } from './hooks.js';
import { ImportService, clearImportedCsv } from './imports.js';
import { QuestionnaireService } from './questionnaires.js';
import { DemandRequestService } from './requests.js';
import { ResponseService } from './responses.js';
import { ResultService } from './results.js';
import { UNFILLED_ORDER_SOURCE, unfilledOrderSignals } from './unfilled-orders.js';
import { DemandRecordSchema, DemandRequestSchema, GapTableSchema, NeedsMapSchema, demandRoutes } from './routes/demand.js';
import { publicRoutes } from './routes/public.js';
import { ResultsSchema, resultRoutes } from './routes/results.js';
import { SurveyImportSchema, SurveySchema, surveyRoutes } from './routes/surveys.js';

const config = Type.Object({
  /** The respondent age bands (年龄段) a response may give. */
  ageBands: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, default: ['0-17', '18-34', '35-59', '60-74', '75+'] }),
  /** The languages (语言习惯) a response may give. */
  languages: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, default: ['mandarin', 'cantonese', 'hakka', 'teochew', 'english', 'other'] }),
  /** Cells of the needs map with fewer respondents than this are suppressed. */
  minCellSize: Type.Integer({ minimum: 2, maximum: 1000, default: 5 }),
  /** Public submissions per client and minute (counted in the database, keys hashed). */
  submissionsPerMinute: Type.Integer({ minimum: 1, maximum: 100_000, default: 30 }),
  /** Where the front end serves a questionnaire: the QR codes point at `<publicBaseUrl>/<slug>?region=<code>`. */
  publicBaseUrl: Type.String({ minLength: 1, default: 'https://example.invalid/survey' }),
  /** A unit's direct demand request weighs its expected audience divided by this (see the README, "Direct demand requests"). */
  requestAudiencePerWeight: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, default: 10 }),
  /** A rejected kernel order becomes demand records (source `unfilled-orders`; see the README, "Unfilled orders"). */
  unfilledOrders: Type.Boolean({ default: true }),
  /** Days after which the uploaded CSV text of a finished import is cleared (the result stays). */
  importRetentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  /** When the retention job runs (cron, Asia/Shanghai). */
  importRetentionCron: Type.String({ minLength: 9, maxLength: 64, default: '20 3 * * *' }),
  /** Seed the synthetic Guangzhou demo (a questionnaire, responses, demand requests) once, at start-up. */
  demo: Type.Boolean({ default: false }),
});

/** Demand surveys (需求采集), demand signals and the cultural needs map (文化需求地图). */
export const surveyPlugin = definePlugin({
  name: 'survey',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  config,
  db: { schema: 'survey', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: [SurveySchema, SurveyImportSchema, DemandRecordSchema, NeedsMapSchema, DemandRequestSchema, GapTableSchema, ResultsSchema],
  tags: [
    { name: 'survey', description: 'Questionnaires: definitions and versions, publication, invitations, paper imports, QR codes (需求采集)' },
    { name: 'survey-public', description: 'The public link of a questionnaire: anonymous responses, partial responses' },
    { name: 'survey-demand', description: 'Demand records and the cultural needs map (文化需求地图)' },
  ],

  init(ctx) {
    const kernelServices = ctx.deps.kernel;
    const settings = { ageBands: ctx.config.ageBands, languages: ctx.config.languages };
    const questionnaires = new QuestionnaireService(ctx.db, kernelServices, settings);
    const responses = new ResponseService(ctx.db, kernelServices, ctx.hooks, questionnaires, settings);
    const demand = new DemandService(ctx.db, kernelServices, ctx.hooks, ctx.config.minCellSize);
    const imports = new ImportService(ctx.db, questionnaires, responses);
    const importJob = ctx.jobs.define<{ importId: string }>('import-responses', (job) => imports.run(job), { retryLimit: 2 });
    const requests = new DemandRequestService(ctx.db, kernelServices, ctx.hooks, ctx.config.requestAudiencePerWeight);
    const results = new ResultService(ctx.db, questionnaires, ctx.config.minCellSize);
    const retentionDays = ctx.config.importRetentionDays;
    const importRetention = ctx.jobs.define('import-retention', async () => ({ cleared: await clearImportedCsv(ctx.db, retentionDays) }), { retryLimit: 2 });
    return { questionnaires, responses, demand, imports, importJob, requests, results, importRetention };
  },

  ready: (ctx, { importRetention }) => ctx.jobs.schedule(importRetention, ctx.config.importRetentionCron, {}, { tz: 'Asia/Shanghai' }),

  hooks: (ctx, services) => {
    // Granted once, on the first rejection: reads products of any region for unfilled-order demand.
    let productReader: ReturnType<typeof ctx.systemActor> | undefined;
    return [
    ...(ctx.config.demo
      ? [
          // After every plugin's `ready`: the demo-data plugin seeds the region tree and units there.
          on(kernelReady, async () => {
            try {
              await seedSurveyDemo(ctx, services);
            } catch (error) {
              ctx.log.error({ err: error }, 'the survey demo could not be seeded');
            }
          }),
        ]
      : []),
    // Other packages' demand signals: stored once per event, whatever the retries.
    on(
      demandSignalled,
      async (event, { eventId }) => {
        try {
          await services.demand.contribute(eventId, event);
        } catch (error) {
          // A signal that cannot be placed would fail every retry: drop it, say so.
          if (!(error instanceof DomainError)) throw error;
          ctx.log.warn({ source: event.source, code: error.code }, 'survey: a contributed demand signal was refused');
        }
      },
      { durable: true, name: 'contributed-demand' },
    ),
    // Orders the approval chain rejected: demand the kernel's ordering loop left unmet.
    ...(ctx.config.unfilledOrders
      ? [
          on(
            orderRejected,
            async ({ order }, { eventId }) => {
              const product = await ctx.deps.kernel.products.get(order.productId, { actor: await (productReader ??= ctx.systemActor({ roles: ['city-admin'] })) });
              const signals = unfilledOrderSignals(order, product, ctx.config.requestAudiencePerWeight);
              await services.demand.contribute(eventId, { source: UNFILLED_ORDER_SOURCE, signals });
            },
            { durable: true, name: 'unfilled-orders' },
          ),
        ]
      : []),
    ];
  },

  routes: async (app, ctx, services) => {
    surveyRoutes(app, ctx, services, ctx.db, ctx.config.publicBaseUrl);
    await publicRoutes(app, services.responses, ctx.db, ctx.config.submissionsPerMinute);
    demandRoutes(app, services, ctx.db);
    resultRoutes(app, services.results);
  },
});

/** The factory a deployment calls: `plugins: [survey({ minCellSize: 10 })]`. */
export const survey = (options: PluginOptions<typeof config> = {}) => surveyPlugin.configure(options);
