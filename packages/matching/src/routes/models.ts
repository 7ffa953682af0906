import { Type, model, type TSchema } from '@diandan/kernel';
import { BALLOT_STATES } from '../ballots.js';
import { PLAN_STATES, RUN_STATES } from '../lifecycle.js';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** A nested document described in MODEL.md (kept whole on the wire). */
const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** What an order placed from a plan carries under `extensions.matching`. */
export const PlanOrderExtension = Type.Object({ planId: Type.String({ format: 'uuid' }), demandId: Type.String({ minLength: 1, maxLength: 200 }) });

export const FloorInput = Type.Union([
  Type.Object({
    id: Type.String({ minLength: 1, maxLength: 100 }),
    kind: Type.Literal('region-sessions'),
    regionCode: Type.String({ minLength: 1, maxLength: 32 }),
    min: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    perTenThousand: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
  }),
  Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), kind: Type.Literal('group-share'), group: Type.String({ minLength: 1, maxLength: 64 }), share: Type.Number({ minimum: 0, maximum: 1 }) }),
]);

export const CapInput = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  regionCode: Type.String({ minLength: 1, maxLength: 32 }),
  max: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  perTenThousand: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
});

export const BandInput = Type.Object({
  level: Type.String({ minLength: 1, maxLength: 32 }),
  floorPerTenThousand: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
  capPerTenThousand: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
});

const FloorReport = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  required: Type.Number({ description: 'Sessions (region floors) or share (group floors)' }),
  achieved: Type.Number(),
  met: Type.Boolean(),
  dual: Nullable(Type.Number({ description: 'LP dual: welfare lost per extra session the floor asks for' })),
  price: Nullable(Type.Number({ description: 'LP bound without this floor − with all floors' })),
});

const Summary = Type.Object({
  solver: Type.String(),
  alpha: Type.Number(),
  welfare: Type.Number(),
  value: Type.Number(),
  bound: Nullable(Type.Number({ description: 'LP relaxation bound on the welfare' })),
  gap: Nullable(Type.Number({ description: '(bound − welfare) ÷ bound: the certificate; 0 is proven optimal' })),
  heuristicWelfare: Type.Number(),
  timings: Type.Record(Type.String(), Type.Number()),
  mip: Nullable(Type.Object({ status: Type.String(), welfare: Type.Number() })),
  feasibility: Type.Object({ feasible: Type.Boolean(), relaxations: Type.Array(Type.Object({ floorId: Type.String(), shortfall: Type.Number() })) }),
  floors: Type.Array(FloorReport),
  priceOfFairness: Nullable(Type.Object({ unconstrained: Type.Number(), fair: Type.Number(), ratio: Type.Number({ description: '(unconstrained − fair) ÷ unconstrained' }) })),
  evaluation: Open('Demand value, % of bound, coverage, Gini of sessions per 10,000 residents, group shares, the popularity-greedy baseline (see MODEL.md)'),
  verification: Type.Object({ ok: Type.Boolean(), violations: Type.Array(Open('A violated constraint')) }),
});

export const RunSchema = model(
  'MatchingRun',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    status: Type.Enum(RUN_STATES),
    jobId: Nullable(Type.String()),
    options: Open('The run’s input: regionCode, periods, year, alpha, solver, floors, caps, bands'),
    progress: Type.Integer({ minimum: 0, maximum: 100 }),
    message: Nullable(Type.String()),
    planId: Nullable(Type.String({ format: 'uuid' })),
    summary: Nullable(Summary),
    error: Nullable(Type.String()),
    createdAt: DateTime,
    finishedAt: Nullable(DateTime),
  }),
);

export const PlanSchema = model(
  'MatchingPlan',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    runId: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    status: Type.Enum(PLAN_STATES),
    allocations: Type.Array(Type.Object({ demandId: Type.String(), productId: Type.String(), sessions: Type.Integer() })),
    orderIds: Type.Array(Type.String({ format: 'uuid' })),
    skipped: Type.Array(Type.Object({ demandId: Type.String(), productId: Type.String(), reason: Type.String() })),
    version: Type.Integer(),
    createdAt: DateTime,
    approvedBy: Nullable(Type.String()),
    approvedAt: Nullable(DateTime),
  }),
);

export const ExplanationSchema = model(
  'MatchingExplanation',
  Type.Object({
    demandId: Type.String(),
    productId: Type.String(),
    sessions: Type.Integer(),
    unitId: Nullable(Type.String()),
    regionCode: Type.String(),
    period: Type.String(),
    group: Type.String(),
    source: Type.String(),
    weight: Type.Number(),
    relevance: Type.Object({ total: Type.Number(), category: Type.Number(), group: Type.Number(), tags: Type.Number() }),
    quality: Type.Object({ value: Type.Number(), source: Type.String() }),
    popularity: Type.Number(),
    valuePerSession: Type.Number(),
    floors: Type.Array(Type.String(), { description: 'Floors this allocation counts towards' }),
    limitedBy: Nullable(Type.String({ description: '`demand`, `repeat`, `capacity`, `budget:<region>`, `cap:<region>`, or null' })),
  }),
);

export const WhyNotSchema = model(
  'MatchingWhyNot',
  Type.Object({
    unitId: Type.String(),
    productId: Type.String(),
    allocated: Type.Integer({ description: 'Sessions of the product the plan gives the unit' }),
    reasons: Type.Array(
      Type.Object({
        demandId: Nullable(Type.String()),
        reason: Type.String({ description: '`allocated`, `no-demand`, `not-listed`, `not-relevant`, `not-serviceable`, `audience`, `not-shortlisted`, `demand`, `repeat`, `capacity`, `budget`, `lower-value`' }),
        detail: Type.String(),
      }),
    ),
  }),
);

export const ExportSchema = model(
  'MatchingExport',
  Type.Object({
    schema: Type.Object({ instance: Type.Literal('diandan.matching.instance/2'), plan: Type.Literal('diandan.matching.plan/1') }),
    runId: Type.String({ format: 'uuid' }),
    instance: Open('The instance, schema diandan.matching.instance/2 (MODEL.md): every input after scoring'),
    plan: Type.Object({ version: Type.Literal('diandan.matching.plan/1'), allocations: Type.Array(Type.Object({ demandId: Type.String(), productId: Type.String(), sessions: Type.Integer() })) }),
    summary: Open('welfare, value, bound, gap, solver, alpha'),
  }),
);

export const RecommendationsSchema = model(
  'MatchingRecommendations',
  Type.Object({
    unitId: Type.String(),
    regionCode: Type.String(),
    period: Type.String(),
    remainingBudget: Nullable(Type.Integer({ description: 'Available budget of the unit’s region for the year' })),
    demands: Type.Integer({ description: 'Demand records the ranking used' }),
    items: Type.Array(
      Type.Object({
        productId: Type.String(),
        title: Type.String(),
        category: Type.String(),
        supplierId: Type.String(),
        cost: Type.Integer(),
        value: Type.Number(),
        score: Type.Number(),
        affordable: Type.Boolean(),
        reasons: Type.Array(Type.String()),
        demand: Nullable(Type.Object({ id: Type.String(), source: Type.String(), category: Type.String(), group: Type.String() })),
      }),
    ),
  }),
);

const Funded = Type.Object({ key: Type.String(), cost: Type.Number(), approvals: Type.Integer(), by: Type.String(), pricePerVoter: Nullable(Type.Number()) });
const Outcome = Type.Object({
  rule: Type.String(),
  funded: Type.Array(Funded),
  cost: Type.Number(),
  leftover: Type.Number(),
  perVoter: Nullable(Type.Number()),
  groups: Type.Array(
    Type.Object({
      group: Type.String(),
      voters: Type.Integer(),
      share: Type.Number(),
      fundedApproved: Type.Array(Type.String()),
      satisfied: Type.Integer(),
      spent: Type.Number(),
      budgetShare: Type.Number(),
    }),
  ),
});

export const BallotSchema = model(
  'MatchingBallot',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    title: Type.String(),
    budget: Type.Integer(),
    options: Type.Array(Type.Object({ key: Type.String(), productId: Type.String(), title: Type.String(), category: Type.String(), sessions: Type.Integer(), cost: Type.Integer() })),
    rule: Type.Object({ rule: Type.Literal('equal-shares'), completion: Type.String(), increment: Type.Number() }),
    status: Type.Enum(BALLOT_STATES),
    votes: Type.Integer(),
    result: Nullable(Type.Object({ equalShares: Outcome, mostVotes: Outcome, difference: Type.Object({ onlyEqualShares: Type.Array(Type.String()), onlyMostVotes: Type.Array(Type.String()) }) })),
    version: Type.Integer(),
    createdAt: DateTime,
    openedAt: Nullable(DateTime),
    closedAt: Nullable(DateTime),
  }),
);

export const MODELS = [RunSchema, PlanSchema, ExplanationSchema, WhyNotSchema, ExportSchema, RecommendationsSchema, BallotSchema];
