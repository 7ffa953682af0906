import { BEARER, IfMatchHeader, Page, PageQuery, Type, authorize, expectedVersion, idempotentWrite, pageRequest, problemResponses, ref, requireActor, sendVersion, type Database, type DiandanApp } from '@diandan/kernel';
import { BALLOT_STAFF } from '../ballots.js';
import type { Services } from '../plugin.js';
import { action, ctxOf } from './matching.js';
import { BallotSchema } from './models.js';

const TAG = 'matching-ballots';
const Id = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Id });
const Options = Type.Array(Type.Object({ productId: Id, sessions: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }), { maxItems: 200 });
const Rule = Type.Object({
  completion: Type.Optional(Type.Enum(['add1-greedy', 'greedy', 'none'], { description: 'How money MES leaves unspent is used (README: the vote rule)' })),
  increment: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Yuan added to every voter’s share per Add1 step' })),
});

/** Routes of `/v1/matching/ballots/…`: residents' choice over a street's budget. */
export function ballotRoutes(app: DiandanApp, { ballots }: Services, db: Database): void {
  action(app, db, {
    url: '/v1/matching/ballots',
    tag: TAG,
    operationId: 'createMatchingBallot',
    summary: 'Draft a residents’ ballot for a street’s budget over listed products serving the street',
    roles: BALLOT_STAFF,
    params: Type.Object({}),
    body: Type.Object({
      regionCode: Type.String({ minLength: 1, maxLength: 32, description: 'A street' }),
      title: Type.String({ minLength: 1, maxLength: 200 }),
      budget: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Whole yuan' }),
      options: Options,
      rule: Type.Optional(Rule),
    }),
    status: 201,
    response: ref(BallotSchema),
    problems: [403, 404, 422],
    prepare: (req) => ballots.resolveOptions(req.body.regionCode, req.body.options, requireActor(req)),
    run: (req, tx, _version, options) => ballots.create(req.body, ctxOf(req, tx), options),
  });

  app.get(
    '/v1/matching/ballots',
    {
      preValidation: authorize(...BALLOT_STAFF),
      schema: { tags: [TAG], operationId: 'listMatchingBallots', summary: 'Ballots of your subtree', security: BEARER, querystring: PageQuery, response: { 200: Page(ref(BallotSchema), 'MatchingBallotPage'), ...problemResponses(403) } },
    },
    async (req) => ballots.list({ page: pageRequest(req.query) }, { actor: requireActor(req) }),
  );

  app.get(
    '/v1/matching/ballots/:id',
    {
      preValidation: authorize(...BALLOT_STAFF),
      schema: { tags: [TAG], operationId: 'getMatchingBallot', summary: 'A ballot; once closed, both rules’ results with explanations per voter group', security: BEARER, params: IdParams, response: { 200: ref(BallotSchema), ...problemResponses(403, 404) } },
    },
    async (req, reply) => {
      const ballot = await ballots.get(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, ballot.version);
      return ballot;
    },
  );

  app.patch(
    '/v1/matching/ballots/:id',
    {
      preValidation: authorize(...BALLOT_STAFF),
      schema: {
        tags: [TAG],
        operationId: 'updateMatchingBallot',
        summary: 'Change a draft ballot (If-Match); refused once voting opened (the rule is locked)',
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: Type.Object({ title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), budget: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })), options: Type.Optional(Options), rule: Type.Optional(Rule) }),
        response: { 200: ref(BallotSchema), ...problemResponses(403, 404, 409, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const options = req.body.options ? await ballots.resolveOptions((await ballots.get(req.params.id, { actor })).regionCode, req.body.options, actor) : undefined;
      const result = await idempotentWrite(db, req, reply, async (tx) => ({ status: 200, body: await ballots.update({ id: req.params.id, expectedVersion: expectedVersion(req), ...req.body }, ctxOf(req, tx), options) }));
      sendVersion(reply, (result as { version: number }).version);
      return result;
    },
  );

  for (const [verb, summary] of [
    ['open', 'Open voting: the rule, budget and options are locked from now on (If-Match)'],
    ['close', 'Close voting and compute the result: Method of Equal Shares, and most votes that still fit as the baseline (If-Match)'],
    ['cancel', 'Cancel a draft or open ballot (If-Match)'],
  ] as const) {
    action(app, db, {
      url: `/v1/matching/ballots/:id/${verb}`,
      tag: TAG,
      operationId: `${verb}MatchingBallot`,
      summary,
      roles: BALLOT_STAFF,
      params: IdParams,
      ifMatch: true,
      status: 200,
      response: ref(BallotSchema),
      problems: [403, 404, 409, 412, 422, 428],
      run: (req, tx, version) => ballots.act({ id: req.params.id, action: verb, expectedVersion: version }, ctxOf(req, tx)),
    });
  }

  action(app, db, {
    url: '/v1/matching/ballots/:id/votes',
    tag: TAG,
    operationId: 'voteMatchingBallot',
    summary: 'Record one resident’s approvals (staff entering a paper ballot); the resident’s identifier is only kept as a keyed hash, one vote per resident',
    roles: BALLOT_STAFF,
    params: IdParams,
    body: Type.Object({
      voter: Type.String({ minLength: 4, maxLength: 64, description: 'The resident’s identifier (resident card, phone); hashed, never stored or shown' }),
      group: Type.String({ minLength: 1, maxLength: 64, description: 'A kernel population group, for the explanation per voter group' }),
      approvals: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, description: 'Option keys (product ids) the resident approves' }),
    }),
    status: 201,
    response: Type.Object({ ballotId: Id, approvals: Type.Array(Type.String()), group: Type.String(), votes: Type.Integer() }),
    problems: [403, 404, 409, 422],
    prepare: (req) => ballots.checkGroup(req.body.group),
    run: (req, tx) => ballots.vote({ id: req.params.id, ...req.body }, ctxOf(req, tx)),
  });
}
