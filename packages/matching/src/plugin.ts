import { fileURLToPath } from 'node:url';
import { Type, definePlugin, extension, kernel, kernelReady, on, type Actor, type JobDefinition, type PluginOptions } from '@diandan/kernel';
import { surveyPlugin } from '@diandan/survey';
import { BallotService } from './ballots.js';
import { seedMatchingDemo } from './demo.js';
import { MatchingService } from './matching.js';
import { DEFAULT_WEIGHTS } from './problem.js';
import { MODELS, PlanOrderExtension } from './routes/models.js';
import { matchingRoutes } from './routes/matching.js';
import { ballotRoutes } from './routes/ballots.js';
import type { SolveReport } from './solve.js';
import type { SolveJobData } from './worker.js';

const FloorConfig = Type.Union([
  Type.Object({
    id: Type.String({ minLength: 1, maxLength: 100 }),
    kind: Type.Literal('region-sessions'),
    regionCode: Type.String({ minLength: 1, maxLength: 32 }),
    min: Type.Optional(Type.Integer({ minimum: 0 })),
    perTenThousand: Type.Optional(Type.Number({ minimum: 0 })),
  }),
  Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), kind: Type.Literal('group-share'), group: Type.String({ minLength: 1, maxLength: 64 }), share: Type.Number({ minimum: 0, maximum: 1 }) }),
]);

const CapConfig = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  regionCode: Type.String({ minLength: 1, maxLength: 32 }),
  max: Type.Optional(Type.Integer({ minimum: 0 })),
  perTenThousand: Type.Optional(Type.Number({ minimum: 0 })),
});

const BandConfig = Type.Object({
  level: Type.String({ minLength: 1, maxLength: 32, description: 'A region level name, e.g. `street`' }),
  floorPerTenThousand: Type.Optional(Type.Number({ minimum: 0 })),
  capPerTenThousand: Type.Optional(Type.Number({ minimum: 0 })),
});

const config = Type.Object({
  /** The scoring weights (see MODEL.md); unset keys keep their documented defaults. */
  weights: Type.Object(
    {
      category: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      group: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      tags: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      popularity: Type.Optional(Type.Number({ minimum: 0, maximum: 0.2, description: 'β, popularity’s share of the quality term: at most 0.2' })),
      minRelevance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      neutralQuality: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      candidatesPerDemand: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    },
    { default: {} },
  ),
  /** At most this many sessions of one product per street and period (diversity). */
  repeatCap: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
  /** Sessions per supplier and month. */
  supplierCapacity: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
  /** The deployment's policy floors, in every run (a run may add its own). */
  floors: Type.Array(FloorConfig, { default: [], maxItems: 1000 }),
  /** The deployment's region caps, in every run: at most `max` sessions and/or `perTenThousand` per 10,000 residents under the region. */
  caps: Type.Array(CapConfig, { default: [], maxItems: 1000 }),
  /** Level bands, in every run: every region of `level` gets at least `floorPerTenThousand` and at most `capPerTenThousand` sessions per 10,000 residents. */
  bands: Type.Array(BandConfig, { default: [], maxItems: 10 }),
  /** The exact MIP is tried when the instance has at most this many candidate edges. */
  mipMaxEdges: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 2000 }),
  mipTimeLimitSeconds: Type.Number({ minimum: 0.1, maximum: 600, default: 10 }),
  /** Floors priced by re-solving the LP without each. */
  pricedFloors: Type.Integer({ minimum: 0, maximum: 1000, default: 12 }),
  /** A solve still running after this long is failed (the worker thread is ended). */
  solveTimeoutSeconds: Type.Integer({ minimum: 5, maximum: 86_400, default: 600 }),
  /** Recommendations: each earlier pick of the same category or supplier multiplies a score by this. */
  diversity: Type.Number({ minimum: 0, maximum: 1, default: 0.7 }),
  /** Seed a synthetic run and a residents' ballot (the Guangzhou demo) once the deployment is ready. */
  demo: Type.Boolean({ default: false }),
});

/**
 * The worker module: compiled JavaScript when running from `dist`; from the TypeScript
 * sources (tests, `tsx`), a small `.mjs` that registers tsx in the thread first.
 */
const WORKER_MODULE = import.meta.url.endsWith('.ts') ? new URL('./worker-dev.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);

/** The plugin definition: fair, explainable, near-optimal allocation of cultural products to demand (精准配送). */
export const matchingPlugin = definePlugin({
  name: 'matching',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  optionalDeps: { survey: surveyPlugin },
  config,
  db: { schema: 'matching', migrations: fileURLToPath(new URL('../drizzle', import.meta.url)) },
  schemas: MODELS,
  tags: [
    { name: 'matching', description: 'Allocation of cultural products to demand (精准配送): runs, plans with a certificate, explanations, recommendations' },
    { name: 'matching-ballots', description: 'Residents’ ballots over a street’s budget (居民点单): approval voting, Method of Equal Shares' },
  ],

  init(ctx): Services {
    const k = ctx.deps.kernel;
    let system: Promise<Actor> | undefined;
    const systemActor = () => (system ??= ctx.systemActor({ roles: ['city-admin'] }));
    const survey = ctx.deps.survey;
    const matching = new MatchingService(
      ctx.db,
      k,
      ctx.hooks,
      ctx.jobs,
      {
        weights: { ...DEFAULT_WEIGHTS, ...ctx.config.weights },
        repeatCap: ctx.config.repeatCap,
        supplierCapacity: ctx.config.supplierCapacity,
        floors: ctx.config.floors.map((f) => ({ ...f })),
        caps: ctx.config.caps.map((c) => ({ ...c })),
        bands: ctx.config.bands.map((b) => ({ ...b })),
        mipMaxEdges: ctx.config.mipMaxEdges,
        mipTimeLimitSeconds: ctx.config.mipTimeLimitSeconds,
        pricedFloors: ctx.config.pricedFloors,
        diversity: ctx.config.diversity,
      },
      { name: ctx.name, systemActor, survey: survey?.demand },
    );
    // CPU-heavy: HiGHS and the heuristic run in a worker thread; a solve is not retried
    // (it is deterministic: a run that failed or timed out would fail again).
    const solveJob = ctx.jobs.defineWorker<SolveJobData, SolveReport>('solve', { module: WORKER_MODULE, retryLimit: 0, expireInSeconds: ctx.config.solveTimeoutSeconds });
    matching.bindJob(solveJob);
    // Finished solves are recorded by this job, not only when someone reads the run.
    const recordFinishedRuns = ctx.jobs.define('record-finished-runs', async () => ({ recorded: await matching.recordFinishedRuns() }), { retryLimit: 0 });
    const ballots = new BallotService(ctx.db, k, ctx.hooks, systemActor);
    return { matching, ballots, solveJob, recordFinishedRuns };
  },

  ready: (ctx, { recordFinishedRuns }) => ctx.jobs.schedule(recordFinishedRuns, '* * * * *', {}),

  extensions: (_ctx, { matching }) => [
    // An order placed from a plan carries the plan and demand it came from.
    extension('order', {
      schema: PlanOrderExtension,
      input: PlanOrderExtension,
      load: (orders, { db }) => matching.planOf(orders.map((o) => o.id), db),
      save: (orderId, value, { tx, actor }) => matching.recordPlanOrder(orderId, value, { tx, actor }),
    }),
  ],

  hooks: (ctx, services) =>
    ctx.config.demo
      ? [
          on(kernelReady, async () => {
            try {
              await seedMatchingDemo(ctx, services);
            } catch (error) {
              ctx.log.error({ err: error }, 'the matching demo could not be seeded');
            }
          }),
        ]
      : [],

  routes: (app, ctx, services) => {
    matchingRoutes(app, services, ctx.db);
    ballotRoutes(app, services, ctx.db);
  },
});

/** The services this plugin offers other plugins (`ctx.deps.matching`). */
export interface Services {
  matching: MatchingService;
  ballots: BallotService;
  /** The worker-thread solve job (`matching.solve`). */
  solveJob: JobDefinition<SolveJobData, SolveReport>;
  /** Records runs whose solve has finished (`matching.record-finished-runs`, every minute). */
  recordFinishedRuns: JobDefinition<Record<string, never>, { recorded: number }>;
}

/** The factory a deployment calls: `plugins: [matching({ floors: [...] })]`. */
export const matching = (options: PluginOptions<typeof config> = {}) => matchingPlugin.configure(options);
