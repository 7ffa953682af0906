import { Type, model, ref } from '@diandan/kernel';

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);
const Period = Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date', description: 'Exclusive' }) });

const tally = {
  deliveries: Type.Integer(),
  participants: Num,
  expectedAudience: Num,
  responses: Type.Integer(),
  meanRating: NullableNum,
  satisfactionRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'Share of responses rating 4 or 5' }),
};
const RegionTally = Type.Object({ code: Type.String(), name: Type.String(), population: Type.Union([Type.Integer(), Type.Null()]), ...tally, deliveriesPer10k: NullableNum, participantsPer10k: NullableNum });
const Share = Type.Object({ covered: Type.Integer(), total: Type.Integer(), share: NullableNum });
const ProductTally = Type.Object({ id: Type.String(), title: Type.String(), category: Type.String(), ...tally });

/** The KPIs of a region subtree over a period. */
export const KpisSchema = model(
  'ReportingKpis',
  Type.Object({
    region: Type.Object({ code: Type.String(), name: Type.String(), level: Type.String(), population: Type.Union([Type.Integer(), Type.Null()]) }),
    period: Period,
    ...tally,
    ordersByStatus: Type.Record(Type.String(), Type.Integer(), { description: 'Orders whose service window starts in the period' }),
    approvalLeadTime: Type.Object({ approved: Type.Integer(), meanHours: NullableNum, medianHours: NullableNum }),
    coverage: Type.Object({ streets: Share, communities: Share }),
    per10k: Type.Object({ population: Type.Union([Type.Integer(), Type.Null()]), deliveries: NullableNum, participants: NullableNum }),
    groups: Type.Array(Type.Object({ key: Type.String(), name: Type.String(), deliveries: Type.Integer(), participants: Num, respondents: Type.Integer(), meanRating: NullableNum })),
    budget: Type.Union([Type.Object({ year: Type.Integer(), allocated: Num, reserved: Num, spent: Num, execution: NullableNum }), Type.Null()]),
    suppliers: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), ...tally })),
    products: Type.Object({ top: Type.Array(ProductTally), bottom: Type.Array(ProductTally) }),
    participation: Type.Object(
      {
        venues: Type.Object({ total: Type.Integer(), used: Type.Integer({ description: 'Hosted at least one delivery in the period' }) }),
        units: Type.Object({ total: Type.Integer(), active: Type.Integer({ description: 'Had at least one delivery in the period' }) }),
        suppliers: Type.Object({ total: Type.Integer({ description: 'With a listed product' }), active: Type.Integer({ description: 'Delivered in the subtree in the period' }) }),
      },
      { description: 'Venues and ordering units of the subtree, suppliers with a listed product — and how many of each took part in the period' },
    ),
    catalogue: Type.Object({
      listed: Type.Integer(),
      ordered: Type.Integer(),
      utilisation: NullableNum,
      unused: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), category: Type.String() }), { description: 'Listed products nobody ordered: flagged for review (first ones)' }),
      unusedTotal: Type.Integer(),
    }),
    byDistrict: Type.Array(RegionTally),
    byStreet: Type.Array(RegionTally),
    byCategory: Type.Array(Type.Object({ key: Type.String(), name: Type.String(), ...tally })),
    byMonth: Type.Array(Type.Object({ month: Type.String(), ...tally })),
    yearEarlier: Type.Object({
      period: Period,
      deliveries: Type.Integer(),
      participants: Num,
      responses: Type.Integer(),
      satisfactionRate: NullableNum,
      meanRating: NullableNum,
      streetCoverage: NullableNum,
      change: Type.Object({ deliveries: NullableNum, participants: NullableNum }),
    }),
  }),
);

const Theil = Type.Union([
  Type.Object({
    total: Num,
    between: Num,
    within: Num,
    betweenShare: NullableNum,
    groups: Type.Array(Type.Object({ key: Type.String(), outcomeShare: Num, populationShare: Num, theil: Num })),
  }),
  Type.Null(),
]);
const Measure = Type.Object({ giniDistricts: NullableNum, giniStreets: NullableNum, theil: Theil });
const components = { streetEquality: NullableNum, districtEquality: NullableNum, streetCoverage: NullableNum, communityCoverage: NullableNum, groupReach: NullableNum, satisfaction: NullableNum };

/** Equity (均等化) of a subtree. */
export const EquitySchema = model(
  'ReportingEquity',
  Type.Object({
    measures: Type.Object({ deliveries: Measure, participants: Measure }),
    streetsWithoutPopulation: Type.Array(Type.String()),
    balance: Type.Object({
      index: NullableNum,
      components: Type.Object(components),
      weights: Type.Object({ streetEquality: Num, districtEquality: Num, streetCoverage: Num, communityCoverage: Num, groupReach: Num, satisfaction: Num }),
    }),
    gaps: Type.Array(
      Type.Object({
        kind: Type.Union([Type.Literal('street'), Type.Literal('group')]),
        code: Type.String(),
        name: Type.String(),
        population: Type.Union([Type.Integer(), Type.Null()]),
        deliveries: Type.Integer(),
        expected: Num,
        shortfall: Num,
        ratio: NullableNum,
      }),
    ),
  }),
);

/** The efficiency evaluation (效能评估). */
export const EfficiencySchema = model(
  'ReportingEfficiency',
  Type.Object({
    indicators: Type.Array(
      Type.Object({
        key: Type.String(),
        name: Type.String(),
        nameEn: Type.String(),
        formula: Type.String(),
        value: NullableNum,
        target: Num,
        weight: Num,
        score: NullableNum,
        note: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    composite: NullableNum,
    leftOut: Type.Array(Type.String()),
  }),
);

const Cell = Type.Union([Type.String(), Type.Number(), Type.Null()]);
/** A report section (from reporting itself or from `report.sections`). */
export const SectionSchema = model(
  'ReportingSection',
  Type.Object({
    key: Type.String(),
    title: Type.String(),
    available: Type.Boolean(),
    note: Type.Optional(Type.String()),
    figures: Type.Optional(Type.Record(Type.String(), Cell)),
    table: Type.Optional(Type.Object({ columns: Type.Array(Type.String()), rows: Type.Array(Type.Array(Cell)) })),
    paragraphs: Type.Optional(Type.Array(Type.String())),
  }),
);

/** A stored annual report. */
export const StoredReportSchema = model(
  'ReportingReport',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    year: Type.Integer(),
    locale: Type.Union([Type.Literal('zh'), Type.Literal('en')]),
    status: Type.Union([Type.Literal('queued'), Type.Literal('ready'), Type.Literal('failed')]),
    jobId: Type.Union([Type.String(), Type.Null()], { description: 'Poll GET /v1/jobs/{jobId} for progress' }),
    error: Type.Union([Type.String(), Type.Null()]),
    requestedBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
);

/** The JSON download: everything the report shows. */
export const ReportDataSchema = model(
  'ReportingReportData',
  Type.Object({
    generatedAt: Type.String({ format: 'date-time' }),
    locale: Type.String(),
    kpis: ref(KpisSchema),
    equity: ref(EquitySchema),
    efficiency: ref(EfficiencySchema),
    sections: Type.Array(ref(SectionSchema)),
    geometry: Type.Array(Type.Object({ code: Type.String(), level: Type.String(), geometry: Type.Unknown() })),
  }),
);

export const MODELS = [KpisSchema, EquitySchema, EfficiencySchema, SectionSchema, StoredReportSchema, ReportDataSchema];
