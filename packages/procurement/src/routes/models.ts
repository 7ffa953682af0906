import { Type, model } from '@diandan/kernel';
import { METHOD_KEYS, TENDER_STATES } from '../lifecycle.js';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
/** A short id chosen by the buyer for lots, items, documents and milestones. */
export const LocalId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$', description: 'Letters, digits, `-` and `_`, up to 40' });
const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
const Yuan = Type.Integer({ minimum: 0, maximum: 10_000_000_000, description: 'Whole yuan (CNY)' });

export const LotInput = Type.Object({ id: LocalId, title: Text(200), description: Type.Optional(Nullable(Text(2000, 0))), value: Yuan });
export const ItemInput = Type.Object({
  id: LocalId,
  description: Text(1000),
  category: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  unit: Text(20),
  relatedLot: LocalId,
});
export const DocumentInput = Type.Object({
  id: LocalId,
  documentType: Type.String({ pattern: '^[a-zA-Z]{1,64}$', description: 'OCDS documentType (open codelist), e.g. `tenderNotice`, `biddingDocuments`' }),
  title: Text(200),
  url: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2000 }))),
  fileId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  datePublished: Type.Optional(Nullable(DateTime)),
});

const Lot = Type.Object({ id: Type.String(), title: Type.String(), description: Nullable(Type.String()), value: Type.Integer() });
const Item = Type.Object({ id: Type.String(), description: Type.String(), category: Nullable(Type.String()), quantity: Type.Integer(), unit: Type.String(), relatedLot: Type.String() });
const Doc = Type.Object({ id: Type.String(), documentType: Type.String(), title: Type.String(), url: Nullable(Type.String()), fileId: Nullable(Type.String()), datePublished: Nullable(Type.String()) });
const Period = Type.Object({ startDate: Nullable(DateTime), endDate: DateTime });

export const ProjectSchema = model(
  'ProcurementProject',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    buyerUnitId: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    title: Type.String(),
    description: Type.String(),
    category: Type.String(),
    method: Type.Enum(METHOD_KEYS),
    procurementMethod: Type.Enum(['open', 'selective', 'limited', 'direct'], { description: 'OCDS procurementMethod' }),
    procurementMethodDetails: Type.String({ description: 'The method’s Chinese name' }),
    rationale: Nullable(Type.String()),
    framework: Type.Boolean(),
    estimate: Type.Integer(),
    lots: Type.Array(Lot),
    items: Type.Array(Item),
    documents: Type.Array(Doc),
    invitedSupplierIds: Type.Optional(Type.Array(Type.String(), { description: 'Shown to the buyer’s administrators only' })),
    panel: Type.Optional(Type.Array(Type.String(), { description: 'Users (`sub`) of the evaluation panel; shown to the buyer’s administrators only' })),
    priceWeight: Type.Integer(),
    qualityWeight: Type.Integer(),
    standstillDays: Type.Number(),
    enquiryPeriod: Period,
    tenderPeriod: Period,
    status: Type.Enum(TENDER_STATES),
    statusReason: Nullable(Type.String()),
    publishedAt: Nullable(DateTime),
    openedAt: Nullable(DateTime),
    createdAt: DateTime,
    version: Type.Integer(),
  }),
);

export const EnquirySchema = model(
  'ProcurementEnquiry',
  Type.Object({ id: Type.String({ format: 'uuid' }), projectId: Type.String(), question: Type.String(), answer: Nullable(Type.String()), askedAt: DateTime, answeredAt: Nullable(DateTime) }),
);

export const AmendmentSchema = model(
  'ProcurementAmendment',
  Type.Object({
    id: Type.Integer(),
    date: DateTime,
    rationale: Type.String(),
    changes: Type.Array(Type.Object({ field: Type.String(), before: Type.Unknown(), after: Type.Unknown() })),
  }),
);

export const BidSchema = model(
  'ProcurementBid',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    projectId: Type.String(),
    lotId: Type.String(),
    supplierId: Type.String(),
    status: Type.Enum(['sealed', 'withdrawn', 'replaced', 'valid', 'disqualified']),
    statusReason: Nullable(Type.String()),
    commitment: Type.String({ description: 'SHA-256 (hex) of the bid’s binding, content and nonce: the receipt' }),
    submittedAt: DateTime,
    withdrawnAt: Nullable(DateTime),
    sealed: Type.Boolean({ description: 'Content is withheld until the bids are opened' }),
    price: Nullable(Type.Integer()),
    proposal: Nullable(Type.String()),
    documents: Nullable(Type.Array(Doc)),
    nonce: Nullable(Type.String({ description: 'Shown after the opening, to recompute the commitment' })),
  }),
);

export const DeclarationSchema = model(
  'ProcurementDeclaration',
  Type.Object({ member: Type.String(), conflict: Type.Boolean(), statement: Type.String(), declaredAt: DateTime }),
);

export const RankingSchema = model(
  'ProcurementRanking',
  Type.Object({
    lots: Type.Array(
      Type.Object({
        lotId: Type.String(),
        complete: Type.Boolean(),
        bids: Type.Array(
          Type.Object({
            bidId: Type.String(),
            supplierId: Type.String(),
            price: Type.Integer(),
            priceScore: Type.Number(),
            qualityScore: Type.Number(),
            total: Type.Number(),
            scoredBy: Type.Integer(),
            rank: Type.Integer(),
          }),
        ),
      }),
    ),
  }),
);

export const AwardSchema = model(
  'ProcurementAward',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    projectId: Type.String(),
    lotId: Type.String(),
    bidId: Nullable(Type.String()),
    supplierId: Nullable(Type.String()),
    status: Type.Enum(['pending', 'active', 'cancelled', 'unsuccessful']),
    statusReason: Nullable(Type.String()),
    value: Nullable(Type.Integer()),
    rank: Nullable(Type.Integer()),
    date: DateTime,
    standstillEnd: Nullable(DateTime),
    version: Type.Integer(),
  }),
);

const Milestone = Type.Object({
  id: Type.String(),
  title: Type.String(),
  dueDate: Type.String(),
  value: Type.Integer(),
  status: Type.Enum(['scheduled', 'met']),
  dateMet: Nullable(Type.String()),
});

export const ContractSchema = model(
  'ProcurementContract',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    projectId: Type.String(),
    awardId: Type.String(),
    supplierId: Type.String(),
    title: Type.String(),
    value: Type.Integer(),
    period: Type.Object({ startDate: DateTime, endDate: DateTime }),
    status: Type.Enum(['active', 'terminated']),
    milestones: Type.Array(Milestone),
    signedAt: DateTime,
    calledOff: Type.Integer({ description: 'Framework agreements: the value called off so far' }),
    version: Type.Integer(),
  }),
);

export const CallOffSchema = model(
  'ProcurementCallOff',
  Type.Object({ id: Type.String({ format: 'uuid' }), contractId: Type.String(), orderId: Type.String(), cost: Type.Integer(), createdBy: Type.String(), createdAt: DateTime }),
);

export const IndicatorsSchema = model(
  'ProcurementIndicators',
  Type.Object({
    from: DateTime,
    to: DateTime,
    items: Type.Array(
      Type.Object({
        buyerUnitId: Type.String(),
        buyerName: Type.String(),
        tenders: Type.Integer(),
        openedTenders: Type.Integer(),
        singleBidTenders: Type.Integer(),
        singleBidShare: Type.Number(),
        directTenders: Type.Integer(),
        directShare: Type.Number(),
        averageBidders: Type.Number(),
        contractedEstimate: Type.Integer(),
        contractValue: Type.Integer(),
        savings: Type.Integer(),
      }),
    ),
  }),
);

/** OCDS packages are described by the OCDS schemas (linked), not restated here. */
export const OcdsPackageSchema = Type.Object({}, { additionalProperties: true, description: 'An OCDS 1.1 package (schema 1__1__5)' });

export const MODELS = [ProjectSchema, EnquirySchema, AmendmentSchema, BidSchema, DeclarationSchema, RankingSchema, AwardSchema, ContractSchema, CallOffSchema, IndicatorsSchema];
