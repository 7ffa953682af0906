import {
  ADMIN_ROLES,
  BEARER,
  FileResponses,
  IdempotencyKeyHeader,
  IfMatchHeader,
  StoredFileSchema,
  UploadBodySchema,
  readIdempotencyKey,
  readUpload,
  sendFile,
  Page,
  PageQuery,
  Type,
  authorize,
  expectedVersion,
  idempotentWrite,
  pageRequest,
  problemResponses,
  ref,
  requireActor,
  sendVersion,
  type Database,
  type DiandanApp,
  type Role,
  type TObject,
  type TSchema,
} from '@diandan/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { METHOD_KEYS, TENDER_STATES } from '../lifecycle.js';
import type { Services } from '../plugin.js';
import {
  AmendmentSchema,
  AwardSchema,
  BidSchema,
  CallOffSchema,
  ContractSchema,
  DeclarationSchema,
  DocumentInput,
  EnquirySchema,
  IndicatorsSchema,
  ItemInput,
  LocalId,
  LotInput,
  OcdsPackageSchema,
  ProjectSchema,
  RankingSchema,
} from './models.js';

const TAG = 'procurement';
const Id = Type.String({ format: 'uuid' });
const ProjectParams = Type.Object({ id: Id });
const Reason = Type.String({ minLength: 1, maxLength: 1000 });
const DateTime = Type.String({ format: 'date-time' });
const Subs = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50 });
const SupplierIds = Type.Array(Id, { maxItems: 100 });
const Weight = Type.Integer({ minimum: 0, maximum: 100 });

const projectFields = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ minLength: 1, maxLength: 10_000 }),
  category: Type.String({ minLength: 1, maxLength: 64, description: 'A kernel category key' }),
  rationale: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Mandatory for single source / targeted commission (procurementMethodRationale)' })),
  estimate: Type.Integer({ minimum: 1, maximum: 10_000_000_000, description: 'Estimated value, whole yuan' }),
  lots: Type.Array(LotInput, { minItems: 1, maxItems: 50 }),
  items: Type.Array(ItemInput, { maxItems: 200 }),
  documents: Type.Optional(Type.Array(DocumentInput, { maxItems: 100 })),
  invitedSupplierIds: Type.Optional(SupplierIds),
  panel: Type.Optional(Subs),
  priceWeight: Weight,
  qualityWeight: Weight,
  standstillDays: Type.Optional(Type.Number({ minimum: 0, maximum: 60, description: 'Days between award and contract (fractions allowed)' })),
  enquiryPeriodEnd: DateTime,
  tenderPeriodEnd: DateTime,
};

type Problems = Parameters<typeof problemResponses>;

/** A state-changing POST: authorised by role before validation, Idempotency-Key, If-Match when `ifMatch`, ETag of the answer. */
function action(
  app: DiandanApp,
  db: Database,
  spec: {
    url: string;
    operationId: string;
    summary: string;
    description?: string;
    roles: readonly Role[];
    params: TObject;
    body?: TObject;
    ifMatch?: boolean;
    status: 200 | 201;
    response: TSchema;
    problems: Problems;
    run: (req: any, tx: any, version: number) => Promise<any>;
  },
): void {
  app.post(
    spec.url,
    {
      preValidation: authorize(...spec.roles),
      schema: {
        tags: [TAG],
        operationId: spec.operationId,
        summary: spec.summary,
        ...(spec.description ? { description: spec.description } : {}),
        security: BEARER,
        params: spec.params,
        headers: spec.ifMatch ? Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties }) : IdempotencyKeyHeader,
        ...(spec.body ? { body: spec.body } : {}),
        response: { [spec.status]: spec.response, ...problemResponses(...spec.problems) },
      },
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const result = await idempotentWrite(db, req, reply, async (tx) => ({
        status: spec.status,
        body: await spec.run(req, tx, spec.ifMatch ? expectedVersion(req) : 0),
      }));
      if (result && typeof result === 'object' && typeof (result as { version?: unknown }).version === 'number') sendVersion(reply, (result as { version: number }).version);
      return result;
    },
  );
}

const ctxOf = (req: FastifyRequest, tx: any) => ({ actor: requireActor(req), tx, requestId: req.id });

/** Routes of `/v1/procurement/…`: thin wrappers over the services. */
export function procurementRoutes(app: DiandanApp, s: Services, db: Database, maxFileBytes: number): void {
  const services = s;
  const { projects, bids, evaluation, contracts, ocds, indicators } = s;

  // ---- projects ----
  action(app, db, {
    url: '/v1/procurement/projects',
    operationId: 'createProcurementProject',
    summary: 'Draft a procurement project for a buyer unit of your subtree (city/district admins)',
    roles: ADMIN_ROLES,
    params: Type.Object({}),
    body: Type.Object({
      buyerUnitId: Id,
      method: Type.Enum(METHOD_KEYS),
      framework: Type.Optional(Type.Boolean({ description: 'A framework agreement whose contracts take call-offs (OCDS techniques.hasFrameworkAgreement)' })),
      ...projectFields,
    }),
    status: 201,
    response: ref(ProjectSchema),
    problems: [403, 404, 422],
    run: (req, tx) => projects.create(req.body, ctxOf(req, tx)),
  });

  app.get(
    '/v1/procurement/projects',
    {
      schema: {
        tags: [TAG],
        operationId: 'listProcurementProjects',
        summary: 'List procurement projects: published ones for everybody, drafts of your subtree for admins',
        security: [],
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Enum(TENDER_STATES)),
          buyerUnitId: Type.Optional(Id),
        }),
        response: { 200: Page(ref(ProjectSchema), 'ProcurementProjectPage'), ...problemResponses() },
      },
    },
    async (req) => projects.list({ status: req.query.status, buyerUnitId: req.query.buyerUnitId, page: pageRequest(req.query) }, { actor: req.actor ?? null }),
  );

  app.get(
    '/v1/procurement/projects/:id',
    {
      schema: {
        tags: [TAG],
        operationId: 'getProcurementProject',
        summary: 'One procurement project (public once published)',
        security: [],
        params: ProjectParams,
        response: { 200: ref(ProjectSchema), ...problemResponses(404) },
      },
    },
    async (req, reply) => {
      const project = await projects.get(req.params.id, { actor: req.actor ?? null });
      sendVersion(reply, project.version);
      return project;
    },
  );

  app.patch(
    '/v1/procurement/projects/:id',
    {
      preValidation: authorize(...ADMIN_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'updateProcurementProject',
        summary: 'Change a draft, or amend a published tender before its deadline (needs If-Match; amendments need amendmentRationale)',
        security: BEARER,
        params: ProjectParams,
        headers: IfMatchHeader,
        body: Type.Object({
          ...Object.fromEntries(Object.entries(projectFields).map(([k, v]) => [k, Type.Optional(v)])),
          amendmentRationale: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
        }),
        response: { 200: ref(ProjectSchema), ...problemResponses(403, 404, 409, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const project = await projects.update({ id: req.params.id, expectedVersion: expectedVersion(req), changes: req.body as any }, { actor: requireActor(req), requestId: req.id });
      sendVersion(reply, project.version);
      return project;
    },
  );

  for (const [verb, summary] of [
    ['publish', 'Publish the tender notice: the enquiry and tender periods start'],
    ['open', 'Open the bids (开标) once the tender period has ended'],
    ['award', 'Award each lot to its best-ranked bid; the standstill period starts'],
    ['cancel', 'Cancel the project'],
  ] as const) {
    action(app, db, {
      url: `/v1/procurement/projects/:id/${verb}`,
      operationId: `${verb}ProcurementProject`,
      summary: `${summary} (buyer’s admins; needs If-Match)`,
      roles: ADMIN_ROLES,
      params: ProjectParams,
      ...(verb === 'cancel' ? { body: Type.Object({ reason: Reason }) } : {}),
      ifMatch: true,
      status: 200,
      response: ref(ProjectSchema),
      problems: [403, 404, 409, 412, 422, 428],
      run: (req, tx, version) => {
        const input = { id: req.params.id, projectId: req.params.id, expectedVersion: version };
        if (verb === 'publish') return projects.publish(input, ctxOf(req, tx));
        if (verb === 'open') return bids.open(input, ctxOf(req, tx));
        if (verb === 'award') return evaluation.award(input, ctxOf(req, tx));
        return projects.cancel({ ...input, reason: req.body.reason }, ctxOf(req, tx));
      },
    });
  }

  app.get(
    '/v1/procurement/projects/:id/amendments',
    {
      schema: {
        tags: [TAG],
        operationId: 'listProcurementAmendments',
        summary: 'The amendments of a published tender',
        security: [],
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(AmendmentSchema)) }), ...problemResponses(404) },
      },
    },
    async (req) => projects.amendments({ projectId: req.params.id }, { actor: req.actor ?? null }),
  );

  // ---- enquiries ----
  action(app, db, {
    url: '/v1/procurement/projects/:id/enquiries',
    operationId: 'askProcurementEnquiry',
    summary: 'Ask a question during the enquiry period (eligible active suppliers)',
    roles: ['supplier'],
    params: ProjectParams,
    body: Type.Object({ question: Type.String({ minLength: 1, maxLength: 4000 }) }),
    status: 201,
    response: ref(EnquirySchema),
    problems: [403, 404, 409],
    run: (req, tx) => projects.ask({ projectId: req.params.id, question: req.body.question }, ctxOf(req, tx)),
  });

  app.get(
    '/v1/procurement/projects/:id/enquiries',
    {
      schema: {
        tags: [TAG],
        operationId: 'listProcurementEnquiries',
        summary: 'Questions and answers of a published tender (askers are not shown)',
        security: [],
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(EnquirySchema)) }), ...problemResponses(404) },
      },
    },
    async (req) => projects.enquiries({ projectId: req.params.id }, { actor: req.actor ?? null }),
  );

  action(app, db, {
    url: '/v1/procurement/projects/:id/enquiries/:enquiryId/answer',
    operationId: 'answerProcurementEnquiry',
    summary: 'Answer a question (buyer’s admins), before the tender deadline',
    roles: ADMIN_ROLES,
    params: Type.Object({ id: Id, enquiryId: Id }),
    body: Type.Object({ answer: Type.String({ minLength: 1, maxLength: 4000 }) }),
    status: 200,
    response: ref(EnquirySchema),
    problems: [403, 404, 409],
    run: (req, tx) => projects.answer({ projectId: req.params.id, enquiryId: req.params.enquiryId, answer: req.body.answer }, ctxOf(req, tx)),
  });

  // ---- sealed bids ----
  action(app, db, {
    url: '/v1/procurement/projects/:id/bids',
    operationId: 'submitProcurementBid',
    summary: 'Submit (or replace) your sealed bid for a lot before the tender deadline (eligible active suppliers)',
    description: 'The content is encrypted at once and cannot be read by anyone until the bids are opened; the answer is a receipt with a SHA-256 commitment.',
    roles: ['supplier'],
    params: ProjectParams,
    body: Type.Object({
      lotId: LocalId,
      price: Type.Integer({ minimum: 1, maximum: 10_000_000_000, description: 'Whole yuan' }),
      proposal: Type.String({ minLength: 1, maxLength: 20_000, description: 'The quality proposal (技术方案)' }),
      documents: Type.Optional(Type.Array(DocumentInput, { maxItems: 20 })),
    }),
    status: 201,
    response: ref(BidSchema),
    problems: [403, 404, 409, 422],
    run: (req, tx) =>
      bids.submit(
        {
          projectId: req.params.id,
          lotId: req.body.lotId,
          price: req.body.price,
          proposal: req.body.proposal,
          documents: (req.body.documents ?? []).map((d: any) => ({ id: d.id, documentType: d.documentType, title: d.title, url: d.url ?? null, fileId: d.fileId ?? null, datePublished: d.datePublished ?? null })),
        },
        ctxOf(req, tx),
      ),
  });

  action(app, db, {
    url: '/v1/procurement/projects/:id/bids/:bidId/withdraw',
    operationId: 'withdrawProcurementBid',
    summary: 'Withdraw your sealed bid before the tender deadline',
    roles: ['supplier'],
    params: Type.Object({ id: Id, bidId: Id }),
    status: 200,
    response: ref(BidSchema),
    problems: [403, 404, 409],
    run: (req, tx) => bids.withdraw({ projectId: req.params.id, bidId: req.params.bidId }, ctxOf(req, tx)),
  });

  app.get(
    '/v1/procurement/projects/:id/bids',
    {
      preValidation: authorize(),
      schema: {
        tags: [TAG],
        operationId: 'listProcurementBids',
        summary: 'Bids: a supplier its own receipts; admins and the panel all bids, once opened (409 PROCUREMENT_BIDS_SEALED before)',
        security: BEARER,
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(BidSchema)) }), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => bids.list({ projectId: req.params.id }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/procurement/projects/:id/bids/:bidId',
    {
      preValidation: authorize(),
      schema: {
        tags: [TAG],
        operationId: 'getProcurementBid',
        summary: 'One bid, under the rules of the list',
        security: BEARER,
        params: Type.Object({ id: Id, bidId: Id }),
        response: { 200: ref(BidSchema), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => bids.get({ projectId: req.params.id, bidId: req.params.bidId }, { actor: requireActor(req) }),
  );

  // ---- evaluation ----
  action(app, db, {
    url: '/v1/procurement/projects/:id/declarations',
    operationId: 'declareProcurementInterests',
    summary: 'Declare a conflict of interest, or none, before scoring (panel members)',
    roles: [],
    params: ProjectParams,
    body: Type.Object({ conflict: Type.Boolean(), statement: Type.String({ minLength: 1, maxLength: 2000 }) }),
    status: 201,
    response: ref(DeclarationSchema),
    problems: [403, 404, 409],
    run: (req, tx) => evaluation.declare({ projectId: req.params.id, conflict: req.body.conflict, statement: req.body.statement }, ctxOf(req, tx)),
  });

  app.get(
    '/v1/procurement/projects/:id/declarations',
    {
      preValidation: authorize(),
      schema: {
        tags: [TAG],
        operationId: 'listProcurementDeclarations',
        summary: 'The panel’s declarations (buyer’s admins and the panel)',
        security: BEARER,
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(DeclarationSchema)) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => evaluation.declarations({ projectId: req.params.id }, { actor: requireActor(req) }),
  );

  action(app, db, {
    url: '/v1/procurement/projects/:id/bids/:bidId/score',
    operationId: 'scoreProcurementBid',
    summary: 'Score a valid bid’s quality, 0–100 (panel members without a conflict)',
    roles: [],
    params: Type.Object({ id: Id, bidId: Id }),
    body: Type.Object({ score: Type.Integer({ minimum: 0, maximum: 100 }), comment: Type.String({ maxLength: 2000 }) }),
    status: 200,
    response: Type.Object({ bidId: Type.String(), member: Type.String(), score: Type.Integer(), comment: Type.String() }),
    problems: [403, 404, 409],
    run: (req, tx) => evaluation.score({ projectId: req.params.id, bidId: req.params.bidId, score: req.body.score, comment: req.body.comment }, ctxOf(req, tx)),
  });

  action(app, db, {
    url: '/v1/procurement/projects/:id/bids/:bidId/disqualify',
    operationId: 'disqualifyProcurementBid',
    summary: 'Disqualify a bid during the evaluation (buyer’s admins)',
    roles: ADMIN_ROLES,
    params: Type.Object({ id: Id, bidId: Id }),
    body: Type.Object({ reason: Reason }),
    status: 200,
    response: Type.Object({ disqualified: Type.Boolean() }),
    problems: [403, 404, 409],
    run: async (req, tx) => {
      await evaluation.disqualify({ projectId: req.params.id, bidId: req.params.bidId, reason: req.body.reason }, ctxOf(req, tx));
      return { disqualified: true };
    },
  });

  app.get(
    '/v1/procurement/projects/:id/ranking',
    {
      preValidation: authorize(),
      schema: {
        tags: [TAG],
        operationId: 'getProcurementRanking',
        summary: 'The ranking per lot with price and quality scores (buyer’s admins and the panel, once opened)',
        security: BEARER,
        params: ProjectParams,
        response: { 200: ref(RankingSchema), ...problemResponses(403, 404, 409) },
      },
    },
    async (req) => evaluation.ranking({ projectId: req.params.id }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/procurement/projects/:id/awards',
    {
      schema: {
        tags: [TAG],
        operationId: 'listProcurementAwards',
        summary: 'The awards of a project (public)',
        security: [],
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(AwardSchema)) }), ...problemResponses(404) },
      },
    },
    async (req) => evaluation.awards({ projectId: req.params.id }, { actor: req.actor ?? null }),
  );

  action(app, db, {
    url: '/v1/procurement/awards/:id/reject',
    operationId: 'rejectProcurementAward',
    summary: 'Reject a pending award (winner declines or is disqualified): the next-ranked bid is awarded (buyer’s admins; needs If-Match)',
    roles: ADMIN_ROLES,
    params: ProjectParams,
    body: Type.Object({ reason: Reason }),
    ifMatch: true,
    status: 200,
    response: Type.Object({ rejected: ref(AwardSchema), next: ref(AwardSchema) }),
    problems: [403, 404, 409, 412, 428],
    run: (req, tx, version) => evaluation.rejectAward({ awardId: req.params.id, expectedVersion: version, reason: req.body.reason }, ctxOf(req, tx)),
  });

  // ---- contracts ----
  action(app, db, {
    url: '/v1/procurement/awards/:id/contract',
    operationId: 'signProcurementContract',
    summary: 'Sign the contract of a pending award once the standstill period has ended (buyer’s admins; needs If-Match of the award)',
    roles: ADMIN_ROLES,
    params: ProjectParams,
    body: Type.Object({
      title: Type.String({ minLength: 1, maxLength: 200 }),
      value: Type.Integer({ minimum: 1, maximum: 10_000_000_000 }),
      periodStart: DateTime,
      periodEnd: DateTime,
      milestones: Type.Array(
        Type.Object({ id: LocalId, title: Type.String({ minLength: 1, maxLength: 200 }), dueDate: DateTime, value: Type.Integer({ minimum: 0, maximum: 10_000_000_000 }) }),
        { minItems: 1, maxItems: 50 },
      ),
    }),
    ifMatch: true,
    status: 201,
    response: ref(ContractSchema),
    problems: [403, 404, 409, 412, 422, 428],
    run: (req, tx, version) => contracts.sign({ awardId: req.params.id, expectedVersion: version, ...req.body }, ctxOf(req, tx)),
  });

  app.get(
    '/v1/procurement/projects/:id/contracts',
    {
      schema: {
        tags: [TAG],
        operationId: 'listProcurementContracts',
        summary: 'The contracts of a project (public)',
        security: [],
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(ContractSchema)) }), ...problemResponses(404) },
      },
    },
    async (req) => contracts.list({ projectId: req.params.id }, { actor: req.actor ?? null }),
  );

  app.get(
    '/v1/procurement/contracts/:id',
    {
      schema: {
        tags: [TAG],
        operationId: 'getProcurementContract',
        summary: 'One contract (public)',
        security: [],
        params: ProjectParams,
        response: { 200: ref(ContractSchema), ...problemResponses(404) },
      },
    },
    async (req, reply) => {
      const contract = await contracts.get(req.params.id, { actor: req.actor ?? null });
      sendVersion(reply, contract.version);
      return contract;
    },
  );

  action(app, db, {
    url: '/v1/procurement/contracts/:id/milestones/:milestoneId/complete',
    operationId: 'completeProcurementMilestone',
    summary: 'Confirm a milestone (履约验收); the last one terminates the contract (buyer’s admins; needs If-Match of the contract)',
    roles: ADMIN_ROLES,
    params: Type.Object({ id: Id, milestoneId: LocalId }),
    ifMatch: true,
    status: 200,
    response: ref(ContractSchema),
    problems: [403, 404, 409, 412, 428],
    run: (req, tx, version) => contracts.completeMilestone({ contractId: req.params.id, milestoneId: req.params.milestoneId, expectedVersion: version }, ctxOf(req, tx)),
  });

  action(app, db, {
    url: '/v1/procurement/contracts/:id/call-offs',
    operationId: 'callOffProcurementContract',
    summary: 'Call off a framework contract: a kernel order, submitted into the normal approval chain (the unit’s operator or staff over it)',
    roles: [],
    params: ProjectParams,
    body: Type.Object({
      unitId: Id,
      productId: Id,
      venueId: Id,
      windowStart: Type.String({ format: 'date' }),
      windowEnd: Type.String({ format: 'date' }),
      expectedAudience: Type.Integer({ minimum: 1, maximum: 100_000 }),
    }),
    status: 201,
    response: Type.Object({ callOff: ref(CallOffSchema), orderId: Type.String(), orderStatus: Type.String() }),
    problems: [403, 404, 409, 422],
    run: async (req, tx) => {
      const { callOff, order } = await contracts.callOff({ contractId: req.params.id, ...req.body }, ctxOf(req, tx));
      return { callOff, orderId: order.id, orderStatus: order.status };
    },
  });

  app.get(
    '/v1/procurement/contracts/:id/call-offs',
    {
      preValidation: authorize(),
      schema: {
        tags: [TAG],
        operationId: 'listProcurementCallOffs',
        summary: 'A framework contract’s call-offs (buyer’s admins and the supplier)',
        security: BEARER,
        params: ProjectParams,
        response: { 200: Type.Object({ items: Type.Array(ref(CallOffSchema)) }), ...problemResponses(403, 404) },
      },
    },
    async (req) => contracts.callOffs({ contractId: req.params.id }, { actor: requireActor(req) }),
  );

  // ---- OCDS ----
  app.get(
    '/v1/procurement/projects/:id/ocds/releases',
    {
      schema: {
        tags: [TAG],
        operationId: 'getProcurementOcdsReleases',
        summary: 'The project as an OCDS 1.1 release package (public once published)',
        description: 'Validates against https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json',
        security: [],
        params: ProjectParams,
        response: { 200: OcdsPackageSchema, ...problemResponses(404) },
      },
    },
    async (req) => ocds.releasePackage(req.params.id),
  );

  app.get(
    '/v1/procurement/projects/:id/ocds/record',
    {
      schema: {
        tags: [TAG],
        operationId: 'getProcurementOcdsRecord',
        summary: 'The project as an OCDS 1.1 record package with the compiled release (public once published)',
        description: 'Validates against https://standard.open-contracting.org/schema/1__1__5/record-package-schema.json',
        security: [],
        params: ProjectParams,
        response: { 200: OcdsPackageSchema, ...problemResponses(404) },
      },
    },
    async (req) => ocds.recordPackage(req.params.id),
  );

  // ---- document files ----
  app.post(
    '/v1/procurement/projects/:id/files',
    {
      preValidation: authorize(...ADMIN_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'uploadProcurementFile',
        summary: 'Upload a procurement document’s file (the buyer’s administrators) — then name it in a document’s `fileId`',
        description:
          'multipart/form-data with one `file` field. The type is decided from the bytes (`415 FILE_TYPE_NOT_ALLOWED`), the size is limited (`413 FILE_TOO_LARGE`), the name is only ever shown. With `Idempotency-Key`, a retry stores nothing and answers the first upload (`idempotent-replayed: true`); the same key with other bytes is `422 IDEMPOTENCY_KEY_REUSED`.',
        security: BEARER,
        params: ProjectParams,
        headers: IdempotencyKeyHeader,
        body: UploadBodySchema,
        response: { 201: ref(StoredFileSchema), ...problemResponses(400, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const idempotencyKey = readIdempotencyKey(req);
      // Who may upload is decided before the bytes are read; the service checks it again.
      await services.projects.get(req.params.id, { actor });
      const { data, name } = await readUpload(req, { maxBytes: maxFileBytes });
      const { file, replayed } = await services.documents.upload({ projectId: req.params.id, data, name, idempotencyKey }, { actor, requestId: req.id });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(file);
    },
  );

  app.get(
    '/v1/procurement/projects/:id/files/:fileId',
    {
      schema: {
        tags: [TAG],
        operationId: 'downloadProcurementFile',
        summary: 'Download a procurement document’s file: public once a document of the published project names it; otherwise the buyer’s administrators only',
        security: [],
        params: Type.Object({ id: Id, fileId: Id }),
        response: {
          ...FileResponses,
          ...problemResponses(404),
        },
      },
    },
    async (req, reply) => {
      const { file, stream } = await services.documents.open({ projectId: req.params.id, fileId: req.params.fileId }, { actor: req.actor ?? null });
      return sendFile(reply, file, stream);
    },
  );

  // ---- indicators ----
  app.get(
    '/v1/procurement/indicators',
    {
      preValidation: authorize(...ADMIN_ROLES),
      schema: {
        tags: [TAG],
        operationId: 'getProcurementIndicators',
        summary: 'Red-flag indicators per buyer for tenders published in [from, to) within your subtree (city/district admins)',
        security: BEARER,
        querystring: Type.Object({ from: DateTime, to: DateTime, buyerUnitId: Type.Optional(Id) }),
        response: { 200: ref(IndicatorsSchema), ...problemResponses(403) },
      },
    },
    async (req) => indicators.byBuyer(req.query, { actor: requireActor(req) }),
  );
}
