import {
  BEARER,
  IdempotencyKeyHeader,
  IfMatchHeader,
  Page,
  PageQuery,
  Type,
  authorize,
  expectedVersion,
  idempotentWrite,
  model,
  pageRequest,
  problemResponses,
  ref,
  requireActor,
  sendVersion,
  type Database,
  type DiandanApp,
} from '@diandan/kernel';
import { APPLICATION_STATES, type ApplicationAction } from '../lifecycle.js';
import { REVIEWER_ROLES, type SupplierRegistry } from '../registry.js';

const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const QualificationSchema = model(
  'SupplierQualification',
  Type.Object({
    id: Type.Integer(),
    type: Type.String({ description: 'e.g. 营业执照, 营业性演出许可证, 职业资格证书' }),
    number: Type.String(),
    issuer: Type.String(),
    validFrom: Day,
    validUntil: Nullable(Day),
    mandatory: Type.Boolean({ description: 'An expired mandatory qualification suspends the supplier' }),
    fileId: Nullable(Type.String()),
    status: Type.Enum(['pending', 'accepted', 'rejected']),
    reviewedBy: Nullable(Type.String()),
    reviewedAt: Nullable(Type.String({ format: 'date-time' })),
    warnedAt: Nullable(Type.String({ format: 'date-time', description: 'When `qualification.expiring` was emitted for it' })),
  }),
);

export const ApplicationSchema = model(
  'SupplierApplication',
  Type.Object({
    id: Type.String({ format: 'uuid', description: 'Also the kernel supplier’s id once approved' }),
    name: Type.String(),
    kind: Type.String(),
    status: Type.Enum(APPLICATION_STATES),
    regionCode: Type.String(),
    creditCode: Nullable(Type.String({ description: 'Organisations: Unified Social Credit Code (统一社会信用代码)' })),
    idNumber: Nullable(Type.String({ description: 'Individuals: masked; only the last four characters are kept' })),
    description: Type.String(),
    categories: Type.Array(Type.String()),
    regionsServed: Type.Array(Type.String()),
    contacts: Type.Array(Type.Object({ name: Type.String({ description: 'masked' }), phone: Type.String({ description: 'masked' }), title: Type.String() })),
    qualifications: Type.Array(ref(QualificationSchema)),
    reasons: Type.Array(Type.String(), { description: 'Of the last rejection or request for changes' }),
    statusReason: Nullable(Type.String()),
    suspendedFor: Nullable(Type.Enum(['manual', 'expired'])),
    blacklistedUntil: Nullable(Day),
    supplierId: Nullable(Type.String({ format: 'uuid' })),
    createdBy: Type.String(),
    version: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  }),
);

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
const Codes = Type.Array(Text(32), { maxItems: 50 });
const ContactInput = Type.Object({
  name: Text(50),
  phone: Type.String({ minLength: 7, maxLength: 20, description: 'Mainland mobile or landline; stored encrypted, shown masked' }),
  title: Type.Optional(Text(50, 0)),
});
const QualificationInput = Type.Object({
  type: Text(50),
  number: Text(100),
  issuer: Text(100),
  validFrom: Day,
  validUntil: Type.Optional(Nullable(Day)),
  mandatory: Type.Optional(Type.Boolean()),
  fileId: Type.Optional(Nullable(Text(64))),
});
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const QualificationParams = Type.Object({ id: Type.String({ format: 'uuid' }), qualificationId: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
const ActionHeaders = Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties });
const Reason = Text(1000);

/** The routes of applications and their review (入库申请与审核). */
export function applicationRoutes(app: DiandanApp, registry: SupplierRegistry, db: Database): void {
  app.post(
    '/v1/supplier-applications',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'createSupplierApplication',
        summary: 'Apply to join the supplier library (supplier user)',
        description: 'Organisations give `creditCode`, individuals (`individual-artist`) `idNumber`; both are checked including their check character. The identity number is kept only as a keyed hash and its last four characters.',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: Type.Object({
          name: Text(200),
          kind: Text(64),
          regionCode: Text(32),
          creditCode: Type.Optional(Type.String({ minLength: 1, maxLength: 18 })),
          idNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 18 })),
          description: Type.Optional(Text(2000, 0)),
          categories: Codes,
          regionsServed: Codes,
          contacts: Type.Array(ContactInput, { minItems: 1, maxItems: 5 }),
          qualifications: Type.Optional(Type.Array(QualificationInput, { maxItems: 20 })),
        }),
        response: { 201: ref(ApplicationSchema), ...problemResponses(403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const application = await idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await registry.apply(req.body, { actor: requireActor(req), tx, requestId: req.id }),
      }));
      sendVersion(reply, application.version);
      return application;
    },
  );

  app.get(
    '/v1/supplier-applications',
    {
      preValidation: authorize('supplier', ...REVIEWER_ROLES),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'listSupplierApplications',
        summary: 'List applications: a supplier its own, reviewers and admins those of their subtree',
        security: BEARER,
        querystring: Type.Object({ ...PageQuery.properties, status: Type.Optional(Type.Enum(APPLICATION_STATES)) }),
        response: { 200: Page(ref(ApplicationSchema), 'SupplierApplicationPage'), ...problemResponses(403) },
      },
    },
    async (req) => registry.list({ status: req.query.status, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/supplier-applications/:id',
    {
      preValidation: authorize('supplier', ...REVIEWER_ROLES),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'getSupplierApplication',
        summary: 'Get one application (its applicant, the supplier, reviewers and admins of its region)',
        security: BEARER,
        params: IdParams,
        response: { 200: ref(ApplicationSchema), ...problemResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const application = await registry.get(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, application.version);
      return application;
    },
  );

  app.patch(
    '/v1/supplier-applications/:id',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'updateSupplierApplication',
        summary: 'Change an application or the supplier’s profile (the applicant; needs If-Match)',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: Type.Object(
          {
            name: Type.Optional(Text(200)),
            description: Type.Optional(Text(2000, 0)),
            categories: Type.Optional(Codes),
            regionsServed: Type.Optional(Codes),
            contacts: Type.Optional(Type.Array(ContactInput, { minItems: 1, maxItems: 5 })),
          },
          { minProperties: 1 },
        ),
        response: { 200: ref(ApplicationSchema), ...problemResponses(403, 404, 409, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const application = await registry.update({ id: req.params.id, expectedVersion: expectedVersion(req), ...req.body }, { actor: requireActor(req), requestId: req.id });
      sendVersion(reply, application.version);
      return application;
    },
  );

  const actions: readonly [ApplicationAction, string, string, 'reasons' | 'reason' | 'blacklist' | 'optional-reason' | 'none'][] = [
    ['start-review', 'startSupplierReview', 'Start reviewing an application (reviewer or admin of its region)', 'none'],
    ['approve', 'approveSupplierApplication', 'Approve an application: the kernel supplier is created (reviewer or admin)', 'none'],
    ['reject', 'rejectSupplierApplication', 'Reject an application, with reasons (reviewer or admin)', 'reasons'],
    ['request-changes', 'requestSupplierChanges', 'Ask the applicant for changes, with reasons (reviewer or admin)', 'reasons'],
    ['resubmit', 'resubmitSupplierApplication', 'Resubmit a changed application (the applicant)', 'none'],
    ['suspend', 'suspendRegisteredSupplier', 'Suspend an approved supplier: new orders are refused with REGISTRY_SUSPENDED (admin)', 'reason'],
    ['reinstate', 'reinstateRegisteredSupplier', 'Reinstate a suspended supplier (admin; refused while a mandatory qualification is expired)', 'optional-reason'],
    ['blacklist', 'blacklistSupplier', 'Blacklist a supplier until a date or indefinitely: new orders are refused with SUPPLIER_BLACKLISTED (admin)', 'blacklist'],
    ['lift-blacklist', 'liftSupplierBlacklist', 'Lift a blacklisting (admin)', 'optional-reason'],
  ];
  for (const [action, operationId, summary, shape] of actions) {
    const body =
      shape === 'reasons'
        ? Type.Object({ reasons: Type.Array(Reason, { minItems: 1, maxItems: 20 }) })
        : shape === 'reason'
          ? Type.Object({ reason: Reason })
          : shape === 'blacklist'
            ? Type.Object({ reason: Reason, until: Type.Optional(Nullable(Day)) })
            : shape === 'optional-reason'
              ? Type.Object({ reason: Type.Optional(Reason) })
              : undefined;
    app.post(
      `/v1/supplier-applications/:id/${action}`,
      {
        preValidation: authorize(...(action === 'resubmit' ? (['supplier'] as const) : REVIEWER_ROLES)),
        schema: {
          tags: ['supplier-registry'],
          operationId,
          summary: `${summary}; needs If-Match`,
          ...(action === 'suspend' || action === 'blacklist'
            ? { description: 'Orders already approved or scheduled are not touched: they continue to delivery (or the unit cancels them). Only new orders are refused, and the supplier’s products leave the library.' }
            : {}),
          security: BEARER,
          params: IdParams,
          headers: ActionHeaders,
          ...(body ? { body } : {}),
          response: { 200: ref(ApplicationSchema), ...problemResponses(403, 404, 409, 412, 422, 428) },
        },
      },
      async (req, reply) => {
        const given = (req.body ?? {}) as { reasons?: string[]; reason?: string; until?: string | null };
        const application = await idempotentWrite(db, req, reply, async (tx) => ({
          status: 200,
          body: await registry.act(
            { id: (req.params as { id: string }).id, action, expectedVersion: expectedVersion(req), reasons: given.reasons, reason: given.reason, until: given.until },
            { actor: requireActor(req), tx, requestId: req.id },
          ),
        }));
        sendVersion(reply, application.version);
        return application;
      },
    );
  }

  app.post(
    '/v1/supplier-applications/:id/qualifications',
    {
      preValidation: authorize('supplier'),
      schema: {
        tags: ['supplier-registry'],
        operationId: 'addSupplierQualification',
        summary: 'Add a qualification document (the applicant); a reviewer accepts or rejects it',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: QualificationInput,
        response: { 201: ref(ApplicationSchema), ...problemResponses(403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const application = await idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await registry.addQualification({ id: req.params.id, ...req.body }, { actor: requireActor(req), tx, requestId: req.id }),
      }));
      sendVersion(reply, application.version);
      return application;
    },
  );

  for (const decision of ['accept', 'reject'] as const) {
    app.post(
      `/v1/supplier-applications/:id/qualifications/:qualificationId/${decision}`,
      {
        preValidation: authorize(...REVIEWER_ROLES),
        schema: {
          tags: ['supplier-registry'],
          operationId: decision === 'accept' ? 'acceptSupplierQualification' : 'rejectSupplierQualification',
          summary:
            decision === 'accept'
              ? 'Accept a pending qualification document (reviewer or admin); a supplier suspended for an expired qualification is reinstated'
              : 'Reject a pending qualification document (reviewer or admin)',
          security: BEARER,
          params: QualificationParams,
          headers: IdempotencyKeyHeader,
          body: Type.Object({ reason: Type.Optional(Reason) }),
          response: { 200: ref(ApplicationSchema), ...problemResponses(403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const application = await idempotentWrite(db, req, reply, async (tx) => ({
          status: 200,
          body: await registry.reviewQualification(
            { id: req.params.id, qualificationId: req.params.qualificationId, decision, reason: req.body.reason },
            { actor: requireActor(req), tx, requestId: req.id },
          ),
        }));
        sendVersion(reply, application.version);
        return application;
      },
    );
  }
}
