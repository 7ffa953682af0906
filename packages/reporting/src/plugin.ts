import { fileURLToPath } from 'node:url';
import { DiandanStartupError, StartupErrorCodes, Type, definePlugin, kernel, type PluginOptions } from '@diandan/kernel';
import { matchingPlugin } from '@diandan/matching';
import { procurementPlugin } from '@diandan/procurement';
import { supplierRegistryPlugin } from '@diandan/supplier-registry';
import { surveyPlugin } from '@diandan/survey';
import { venuesPlugin } from '@diandan/venues';
import { DEFAULT_BALANCE_WEIGHTS } from './equity.js';
import { KpiService, type LevelIndex } from './kpis.js';
import { ReportingService } from './report.js';
import { ReportStore, type ReportJobData } from './reports.js';
import { MODELS } from './routes/models.js';
import { reportingRoutes } from './routes/reporting.js';

const weight = (d: number) => Type.Number({ minimum: 0, maximum: 100, default: d });
const config = Type.Object({
  /** The region levels the breakdowns use (names from the deployment's `levels`). */
  levels: Type.Object(
    {
      district: Type.String({ default: 'district' }),
      street: Type.String({ default: 'street' }),
      community: Type.String({ default: 'community' }),
    },
    { default: {} },
  ),
  /** Weights of the balance index's components (优质均衡指数); renormalised over the components with data. */
  balanceWeights: Type.Object(
    {
      streetEquality: weight(DEFAULT_BALANCE_WEIGHTS.streetEquality),
      districtEquality: weight(DEFAULT_BALANCE_WEIGHTS.districtEquality),
      streetCoverage: weight(DEFAULT_BALANCE_WEIGHTS.streetCoverage),
      communityCoverage: weight(DEFAULT_BALANCE_WEIGHTS.communityCoverage),
      groupReach: weight(DEFAULT_BALANCE_WEIGHTS.groupReach),
      satisfaction: weight(DEFAULT_BALANCE_WEIGHTS.satisfaction),
    },
    { default: {} },
  ),
  /** Products in the top and bottom lists. */
  topProducts: Type.Integer({ minimum: 1, maximum: 50, default: 5 }),
  /** Responses a product needs before it can appear among the lowest rated. */
  minRatingsForBottom: Type.Integer({ minimum: 1, default: 3 }),
  /** Unused listed products named in the KPIs (the total is always given). */
  unusedListed: Type.Integer({ minimum: 0, maximum: 500, default: 50 }),
  /** Entries of the gap list. */
  gapLimit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
});

/** The plugin definition: KPIs, equity, efficiency and the annual service report (服务年报). */
export const reportingPlugin = definePlugin({
  name: 'reporting',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  optionalDeps: { procurement: procurementPlugin, survey: surveyPlugin, venues: venuesPlugin, matching: matchingPlugin, registry: supplierRegistryPlugin },
  config,
  db: { schema: 'reporting', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: MODELS,
  tags: [{ name: 'reporting', description: 'KPIs, equity (均等化), efficiency evaluation (效能评估) and the annual service report (服务年报)' }],

  init(ctx) {
    const levelNames = ctx.config.levels;
    const index = (name: string) => {
      const i = ctx.deployment.levels.indexOf(name);
      if (i < 0) throw new DiandanStartupError(StartupErrorCodes.PLUGIN_CONFIG_INVALID, `plugin "reporting": level "${name}" is not one of the deployment's levels (${ctx.deployment.levels.join(', ')})`, { plugin: 'reporting', path: 'levels' });
      return i;
    };
    const levels: LevelIndex = { district: index(levelNames.district), street: index(levelNames.street), community: index(levelNames.community), names: levelNames };
    const kpis = new KpiService(levels, { topProducts: ctx.config.topProducts, minRatingsForBottom: ctx.config.minRatingsForBottom, unusedListed: ctx.config.unusedListed });
    const reporting = new ReportingService(kpis, levels, ctx.hooks, ctx.deps, { balanceWeights: ctx.config.balanceWeights, gapLimit: ctx.config.gapLimit });
    const store = new ReportStore(ctx.db, reporting);
    // The annual report (服务年报) is long work: a job with progress, stored when done.
    const reportJob = ctx.jobs.define<ReportJobData, { reportId: string; charts: number; bytes: number }>(
      'annual-report',
      async (job) => {
        const actor = await ctx.systemActor({ roles: job.data.roles, region: job.data.region }).catch(() => undefined);
        return store.generate(job.data.reportId, actor, (percent, message) => job.progress(percent, message));
      },
      { retryLimit: 1, expireInSeconds: 900 },
    );
    return { reporting, store, reportJob };
  },

  routes: (app, ctx, { reporting, store, reportJob }) => reportingRoutes(app, { reporting, store, reportJob, regions: ctx.deps.kernel.regions, jobs: ctx.jobs, db: ctx.db }),
});

/** The factory a deployment calls: `plugins: [reporting()]`. */
export const reporting = (options: PluginOptions<typeof config> = {}) => reportingPlugin.configure(options);
