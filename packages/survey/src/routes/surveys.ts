import type QRCodeModule from 'qrcode';
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
  type JobDefinition,
  type PluginContext,
} from '@diandan/kernel';
import type { ImportService } from '../imports.js';
import { QUESTIONNAIRE_STATES, type QuestionnaireAction } from '../lifecycle.js';
import { SURVEY_STAFF_ROLES, type QuestionnaireService } from '../questionnaires.js';

// qrcode is loaded on the first QR code asked for, not at start-up (it is ~35 ms of every start).
let qrcode: Promise<typeof QRCodeModule> | undefined;
const loadQrCode = () => (qrcode ??= import('qrcode').then((m) => m.default));

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Code = Type.String({ minLength: 1, maxLength: 32 });

const QuotaSchema = Type.Object({
  regionCode: Nullable(Code),
  group: Nullable(Code),
  ageBand: Nullable(Code),
  limit: Type.Integer({ minimum: 1 }),
  completed: Type.Integer(),
});

export const SurveySchema = model(
  'Survey',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    slug: Type.String({ description: 'The public link: /v1/public/surveys/{slug}' }),
    regionCode: Type.String(),
    status: Type.Enum(QUESTIONNAIRE_STATES),
    currentVersion: Type.Integer({ description: 'The newest definition version' }),
    publishedVersion: Nullable(Type.Integer({ description: 'The version the public link serves' })),
    definition: Type.Object({}, { additionalProperties: true, description: 'The newest definition (SurveyJS JSON subset, see the README)' }),
    opensAt: Nullable(DateTime),
    closesAt: Nullable(DateTime),
    targetRegions: Type.Array(Type.String()),
    targetGroups: Type.Array(Type.String()),
    invitationOnly: Type.Boolean(),
    publicResults: Type.Array(Type.String(), { description: 'Questions whose results are public (GET /v1/public/surveys/{slug}/results)' }),
    quotas: Type.Array(QuotaSchema),
    createdBy: Type.String(),
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
  }),
);

export const SurveyImportSchema = model(
  'SurveyImport',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    questionnaireId: Type.String({ format: 'uuid' }),
    status: Type.Enum(['queued', 'running', 'completed', 'failed']),
    rows: Type.Integer(),
    imported: Type.Integer(),
    errors: Type.Array(Type.Object({ line: Type.Integer(), question: Nullable(Type.String()), reason: Type.String() })),
    jobId: Nullable(Type.String()),
    createdAt: DateTime,
  }),
);

const Definition = Type.Object({}, { additionalProperties: true, description: 'SurveyJS JSON subset (see the README); checked strictly' });
const QuotaInput = Type.Object({ regionCode: Type.Optional(Nullable(Code)), group: Type.Optional(Nullable(Code)), ageBand: Type.Optional(Nullable(Code)), limit: Type.Integer({ minimum: 1, maximum: 10_000_000 }) });
const Settings = {
  opensAt: Type.Optional(Nullable(DateTime)),
  closesAt: Type.Optional(Nullable(DateTime)),
  targetRegions: Type.Optional(Type.Array(Code, { maxItems: 200 })),
  targetGroups: Type.Optional(Type.Array(Code, { maxItems: 50 })),
  invitationOnly: Type.Optional(Type.Boolean()),
  quotas: Type.Optional(Type.Array(QuotaInput, { maxItems: 500 })),
  publicResults: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200 })),
};
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ActionHeaders = Type.Object({ ...IfMatchHeader.properties, ...IdempotencyKeyHeader.properties });
const TAGS = ['survey'];

/** Staff routes of questionnaires: create, edit (new versions), publish, invitations, imports, QR codes. */
export function surveyRoutes(
  app: DiandanApp,
  ctx: Pick<PluginContext<never>, 'jobs'>,
  services: { questionnaires: QuestionnaireService; imports: ImportService; importJob: JobDefinition<{ importId: string }, unknown> },
  db: Database,
  publicBaseUrl: string,
): void {
  const { questionnaires } = services;
  const staff = authorize(...SURVEY_STAFF_ROLES);

  app.post(
    '/v1/surveys',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'createSurvey',
        summary: 'Create a questionnaire (draft) in a region of your subtree',
        description: 'The definition is checked strictly: a misconfigured element is refused with `SURVEY_INVALID_DEFINITION` naming it (`question`).',
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ regionCode: Code, definition: Definition, ...Settings }),
        response: { 201: ref(SurveySchema), ...problemResponses(403, 404, 422) },
      },
    },
    async (req, reply) => {
      const survey = await idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: await questionnaires.create(req.body, { actor: requireActor(req), tx, requestId: req.id }) }));
      sendVersion(reply, survey.version);
      return survey;
    },
  );

  app.get(
    '/v1/surveys',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'listSurveys',
        summary: 'List the questionnaires of your subtree',
        security: BEARER,
        querystring: Type.Object({ ...PageQuery.properties, status: Type.Optional(Type.Enum(QUESTIONNAIRE_STATES)) }),
        response: { 200: Page(ref(SurveySchema), 'SurveyPage'), ...problemResponses(403) },
      },
    },
    async (req) => questionnaires.list({ status: req.query.status, page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/surveys/:id',
    {
      preValidation: staff,
      schema: { tags: TAGS, operationId: 'getSurvey', summary: 'Read a questionnaire', security: BEARER, params: IdParams, response: { 200: ref(SurveySchema), ...problemResponses(403, 404) } },
    },
    async (req, reply) => {
      const survey = await questionnaires.get(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, survey.version);
      return survey;
    },
  );

  app.patch(
    '/v1/surveys/:id',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'updateSurvey',
        summary: 'Change a questionnaire; a new definition of a published one becomes a new version',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: Type.Object({ definition: Type.Optional(Definition), ...Settings }),
        response: { 200: ref(SurveySchema), ...problemResponses(403, 404, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const survey = await questionnaires.update({ ...req.body, id: req.params.id, expectedVersion: expectedVersion(req) }, { actor: requireActor(req), requestId: req.id });
      sendVersion(reply, survey.version);
      return survey;
    },
  );

  for (const [action, operationId, summary] of [
    ['publish', 'publishSurvey', 'Publish: the public link serves the newest version'],
    ['close', 'closeSurvey', 'Close: no more responses'],
    ['reopen', 'reopenSurvey', 'Reopen a closed questionnaire'],
  ] as const satisfies readonly (readonly [QuestionnaireAction, string, string])[]) {
    app.post(
      `/v1/surveys/:id/${action}`,
      {
        preValidation: staff,
        schema: { tags: TAGS, operationId, summary, security: BEARER, params: IdParams, headers: ActionHeaders, response: { 200: ref(SurveySchema), ...problemResponses(403, 404, 409, 412, 422, 428) } },
      },
      async (req, reply) => {
        const survey = await idempotentWrite(db, req, reply, async (tx) => ({
          status: 200,
          body: await questionnaires.act({ id: req.params.id, action, expectedVersion: expectedVersion(req) }, { actor: requireActor(req), tx, requestId: req.id }),
        }));
        sendVersion(reply, survey.version);
        return survey;
      },
    );
  }

  app.post(
    '/v1/surveys/:id/invitations',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'mintSurveyInvitations',
        summary: 'Mint invitation tokens (one response each) for an invitation-only questionnaire; shown once',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ count: Type.Integer({ minimum: 1, maximum: 1000 }) }),
        response: { 201: Type.Object({ tokens: Type.Array(Type.String()) }), ...problemResponses(403, 404, 409, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => ({ status: 201, body: { tokens: await questionnaires.invite({ id: req.params.id, count: req.body.count }, { actor: requireActor(req), tx, requestId: req.id }) } })),
  );

  app.get(
    '/v1/surveys/:id/invitations',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'countSurveyInvitations',
        summary: 'How many invitations were minted and used (never which)',
        security: BEARER,
        params: IdParams,
        response: { 200: Type.Object({ minted: Type.Integer(), used: Type.Integer() }), ...problemResponses(403, 404) },
      },
    },
    async (req) => questionnaires.invitationCounts(req.params.id, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/surveys/:id/qr',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getSurveyQrCode',
        summary: 'A QR code of the public link for one region (SVG or PNG), to print on posters',
        security: BEARER,
        params: IdParams,
        querystring: Type.Object({ region: Type.Optional(Code), format: Type.Optional(Type.Enum(['svg', 'png'])) }),
        response: { 200: { description: 'The QR code', content: { 'image/svg+xml': { schema: Type.String() }, 'image/png': { schema: Type.String({ format: 'binary' }) } } }, ...problemResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const survey = await questionnaires.get(req.params.id, { actor });
      const region = req.query.region ?? survey.regionCode;
      // The region must be one the questionnaire covers (and the caller sees).
      await questionnaires.coveredRegion(survey.id, region, actor);
      const url = `${publicBaseUrl.replace(/\/$/, '')}/${survey.slug}?region=${encodeURIComponent(region)}`;
      if (req.query.format === 'png') {
        const png = await (await loadQrCode()).toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 512 });
        return reply.type('image/png').header('content-disposition', `inline; filename="survey-${region}.png"`).send(png as unknown as string);
      }
      const svg = await (await loadQrCode()).toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply.type('image/svg+xml').send(svg);
    },
  );

  app.post(
    '/v1/surveys/:id/imports',
    {
      preValidation: staff,
      // The server's default body limit (1 MiB): split larger paper batches into several imports.

      schema: {
        tags: TAGS,
        operationId: 'importSurveyResponses',
        summary: 'Import paper responses from CSV (a job; all-or-nothing, see the README for the template)',
        security: BEARER,
        params: IdParams,
        headers: IdempotencyKeyHeader,
        body: Type.Object({ csv: Type.String({ minLength: 1, maxLength: 1_000_000 }) }),
        response: { 202: ref(SurveyImportSchema), ...problemResponses(403, 404, 409, 422) },
      },
    },
    async (req, reply) =>
      idempotentWrite(db, req, reply, async (tx) => {
        const actor = requireActor(req);
        const created = await services.imports.create({ questionnaireId: req.params.id, csv: req.body.csv }, { actor, tx });
        const jobId = await ctx.jobs.send(services.importJob, { importId: created.id }, { owner: actor, tx });
        return { status: 202, body: await services.imports.setJob(created.id, jobId!, tx) };
      }),
  );

  app.get(
    '/v1/surveys/:id/imports/:importId',
    {
      preValidation: staff,
      schema: {
        tags: TAGS,
        operationId: 'getSurveyImport',
        summary: 'The status of an import, with its bad rows (line and reason)',
        security: BEARER,
        params: Type.Object({ id: Type.String({ format: 'uuid' }), importId: Type.String({ format: 'uuid' }) }),
        response: { 200: ref(SurveyImportSchema), ...problemResponses(403, 404) },
      },
    },
    async (req) => services.imports.get({ questionnaireId: req.params.id, id: req.params.importId }, { actor: requireActor(req) }),
  );
}
