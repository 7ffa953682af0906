/**
 * Collection over HTTP: anonymous responses with conditional questions, refused bad
 * input (nothing stored), invitations (and that no response can be linked to its
 * invitee), quotas that close when full (also under concurrent submissions), partial
 * responses resumed with a token, rate limits.
 */
import { sql } from 'drizzle-orm';
import { queryRows } from '@diandan/kernel';
import { client, createTestServer, expectStatus, ifMatch, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { survey } from '../src/index.js';
import { FREE_TEXTS, publishedSurvey, surveyOf } from './support.js';

let app: FastifyInstance;
let call: Call;
const { cityAdmin } = testActors;

beforeAll(async () => {
  app = await createTestServer({ plugins: [survey({ submissionsPerMinute: 1000 })] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

const rows = (text: string) => queryRows<Record<string, unknown>>(app.diandan.database.db, sql.raw(text));
const responsesOf = async (id: string) => rows(`select * from survey.responses where questionnaire_id = '${id}'`);

describe('anonymous responses', () => {
  it('stores a complete response with conditional questions, and only the visible answers', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const answers = {
      attends: 'no',
      why_not: FREE_TEXTS[0],
      wants: ['opera', 'reading'],
      opera_troupe: FREE_TEXTS[1],
      visits: 3,
      next_date: '2027-05-01',
      interest: 4,
      rank: ['screening', 'exhibition'],
      district: '440103',
      group: 'elderly',
      satisfaction: { venues: 'high', events: 'low' },
    };
    const res = await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers, respondent: { ageBand: '60-74', regionCode: '440103001001', group: 'elderly', language: 'cantonese' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ status: 'completed', resumeToken: null, definitionVersion: 1 });
    const [stored] = await responsesOf(s.id);
    expect(stored).toMatchObject({ status: 'completed', age_band: '60-74', region_code: '440103001001', group_key: 'elderly', language: 'cantonese', source: 'online', resume_token_hash: null });
    expect(stored!.answers).toEqual(answers);
    // No IP address, user agent or time finer than the day in any column.
    expect(Object.keys(stored!).sort()).toEqual(['age_band', 'answers', 'day', 'definition_version', 'group_key', 'id', 'language', 'questionnaire_id', 'region_code', 'region_path', 'resume_token_hash', 'source', 'status'].sort());
  });

  const bad: [string, Record<string, unknown>, string, string][] = [
    ['an unknown option', { attends: 'maybe' }, 'attends', 'SURVEY_INVALID_ANSWER'],
    ['a wrong type', { attends: 'yes', visits: 'three' }, 'visits', 'SURVEY_INVALID_ANSWER'],
    ['an oversize text', { attends: 'no', why_not: 'x'.repeat(101) }, 'why_not', 'SURVEY_INVALID_ANSWER'],
    ['an answer to a hidden question', { attends: 'yes', why_not: '不该回答' }, 'why_not', 'SURVEY_HIDDEN_QUESTION_ANSWERED'],
    ['a hidden question via contains', { attends: 'yes', wants: ['reading'], opera_troupe: '剧团' }, 'opera_troupe', 'SURVEY_HIDDEN_QUESTION_ANSWERED'],
    ['too many choices', { attends: 'yes', wants: ['opera', 'reading', 'craft'] }, 'wants', 'SURVEY_INVALID_ANSWER'],
    ['too few choices', { attends: 'yes', wants: [] as string[], visits: 1, short: 'x' }, 'short', 'SURVEY_HIDDEN_QUESTION_ANSWERED'],
    ['a rating out of range', { attends: 'yes', interest: 6 }, 'interest', 'SURVEY_INVALID_ANSWER'],
    ['an incomplete ranking', { attends: 'yes', rank: ['screening'] }, 'rank', 'SURVEY_INVALID_ANSWER'],
    ['an unknown region', { attends: 'yes', district: '999999' }, 'district', 'SURVEY_INVALID_ANSWER'],
    ['an unknown group', { attends: 'yes', group: 'martians' }, 'group', 'SURVEY_INVALID_ANSWER'],
    ['an unknown matrix row', { attends: 'yes', satisfaction: { parking: 'low' } }, 'satisfaction', 'SURVEY_INVALID_ANSWER'],
    ['a bad date', { attends: 'yes', next_date: '2027-02-30' }, 'next_date', 'SURVEY_INVALID_ANSWER'],
    ['a number out of range', { attends: 'yes', visits: 400 }, 'visits', 'SURVEY_INVALID_ANSWER'],
    ['an unknown question', { attends: 'yes', nope: 1 }, 'nope', 'SURVEY_UNKNOWN_QUESTION'],
    ['a missing required answer', { wants: ['reading'] }, 'attends', 'SURVEY_ANSWER_REQUIRED'],
  ];
  it.each(bad)('refuses %s with a problem naming the question, storing nothing', async (_what, answers, question, code) => {
    const s = await publishedSurvey(call, cityAdmin);
    const res = await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers });
    expect(problem(res)).toEqual({ status: 422, code, problem: true });
    expect(res.body.details.question).toBe(question);
    expect(await responsesOf(s.id)).toHaveLength(0);
    expect(await rows(`select * from survey.demand_records where questionnaire_id = '${s.id}'`)).toHaveLength(0);
  });

  it('refuses bad respondent attributes', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    for (const respondent of [{ ageBand: '200+' }, { language: 'klingon' }, { group: 'nobody' }, { regionCode: '999999' }]) {
      const res = await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'yes' }, respondent });
      expect(problem(res).code).toBe('SURVEY_INVALID_RESPONDENT');
    }
    const targeted = await publishedSurvey(call, cityAdmin, { targetRegions: ['440104'] });
    const outside = await call(null, 'POST', `/v1/public/surveys/${targeted.slug}/responses`, { answers: { attends: 'yes' }, respondent: { regionCode: '440103' } });
    expect(problem(outside).code).toBe('SURVEY_OUTSIDE_TARGET');
    expect(await responsesOf(s.id)).toHaveLength(0);
  });
});

describe('invitations', () => {
  it('lets each invitation answer once, and keeps no link between invitation and response', async () => {
    const s = await publishedSurvey(call, cityAdmin, { invitationOnly: true });
    const { tokens } = expectStatus(await call(cityAdmin, 'POST', `/v1/surveys/${s.id}/invitations`, { count: 3 }), 201, 'invite');
    expect(tokens).toHaveLength(3);
    const url = `/v1/public/surveys/${s.slug}/responses`;
    expect(problem(await call(null, 'POST', url, { answers: { attends: 'yes' } })).code).toBe('SURVEY_INVITATION_REQUIRED');
    expect(problem(await call(null, 'POST', url, { answers: { attends: 'yes' }, invitation: 'x'.repeat(24) })).code).toBe('SURVEY_INVITATION_INVALID');
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'yes' }, invitation: tokens[0] }), 201, 'first');
    expect(problem(await call(null, 'POST', url, { answers: { attends: 'no' }, invitation: tokens[0] })).code).toBe('SURVEY_INVITATION_INVALID');
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'no' }, invitation: tokens[2] }), 201, 'third');
    expect(expectStatus(await call(cityAdmin, 'GET', `/v1/surveys/${s.id}/invitations`), 200, 'counts')).toEqual({ minted: 3, used: 2 });

    // Anonymity: the invitation table holds a keyed hash and a flag, no time and no response;
    // the response holds no invitation; the API answers a submission with nothing to link by.
    const invitationColumns = await rows(`select column_name from information_schema.columns where table_schema = 'survey' and table_name = 'invitations' order by 1`);
    expect(invitationColumns.map((c) => c.column_name)).toEqual(['questionnaire_id', 'token_hash', 'used']);
    const stored = await responsesOf(s.id);
    const text = JSON.stringify(stored);
    for (const t of tokens) expect(text).not.toContain(t);
    const hashes = await rows(`select token_hash from survey.invitations where questionnaire_id = '${s.id}'`);
    for (const h of hashes) expect(text).not.toContain(h.token_hash as string);
    // No route reveals a response id or its invitation: the survey read, the audit log and the demand records.
    const everything = JSON.stringify([
      (await call(cityAdmin, 'GET', `/v1/surveys/${s.id}`)).body,
      (await call(cityAdmin, 'GET', `/v1/audit-log?entityId=${s.id}`)).body,
      (await call(cityAdmin, 'GET', '/v1/demand-records?limit=200')).body,
    ]);
    for (const r of stored) expect(everything).not.toContain(r.id as string);
    for (const t of tokens) expect(everything).not.toContain(t);
    // Invitations are for invitation-only questionnaires.
    const open = await publishedSurvey(call, cityAdmin);
    expect(problem(await call(cityAdmin, 'POST', `/v1/surveys/${open.id}/invitations`, { count: 1 })).code).toBe('SURVEY_NOT_INVITATION_ONLY');
  });
});

describe('quotas', () => {
  it('counts only completed responses per cell and closes the cell when full', async () => {
    const s = await publishedSurvey(call, cityAdmin, { quotas: [{ regionCode: '440103', group: 'elderly', ageBand: '60-74', limit: 2 }] });
    const url = `/v1/public/surveys/${s.slug}/responses`;
    const respondent = { regionCode: '440103001', group: 'elderly', ageBand: '60-74' };
    // A partial response does not count.
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'yes' }, respondent, complete: false }), 201, 'partial');
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'yes' }, respondent }), 201, 'one');
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'no' }, respondent }), 201, 'two');
    const full = await call(null, 'POST', url, { answers: { attends: 'no' }, respondent });
    expect(problem(full)).toEqual({ status: 409, code: 'SURVEY_QUOTA_FULL', problem: true });
    // Other cells are still open.
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'no' }, respondent: { ...respondent, ageBand: '18-34' } }), 201, 'other cell');
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'no' }, respondent: { regionCode: '440104', group: 'elderly', ageBand: '60-74' } }), 201, 'other region');
    const pub = expectStatus(await call(null, 'GET', `/v1/public/surveys/${s.slug}`), 200, 'public');
    expect(pub.fullCells).toEqual([{ regionCode: '440103', group: 'elderly', ageBand: '60-74' }]);
    expect(expectStatus(await call(cityAdmin, 'GET', `/v1/surveys/${s.id}`), 200, 'get').quotas).toEqual([{ regionCode: '440103', group: 'elderly', ageBand: '60-74', limit: 2, completed: 2 }]);
    expect((await responsesOf(s.id)).filter((r) => r.status === 'completed')).toHaveLength(4);
  });

  it('lets exactly N of many concurrent completions into a quota of N', async () => {
    const N = 3;
    const s = await publishedSurvey(call, cityAdmin, { quotas: [{ group: 'youth', limit: N }] });
    const url = `/v1/public/surveys/${s.slug}/responses`;
    const results = await Promise.all(Array.from({ length: 12 }, () => call(null, 'POST', url, { answers: { attends: 'yes' }, respondent: { group: 'youth' } })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(N);
    expect(statuses.filter((x) => x === 409)).toHaveLength(12 - N);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'SURVEY_QUOTA_FULL')).toBe(true);
    expect(await responsesOf(s.id)).toHaveLength(N);
  });
});

describe('partial responses', () => {
  it('saves, resumes with the token, continues and completes; the token then stops working', async () => {
    const s = await publishedSurvey(call, cityAdmin, { invitationOnly: true });
    const { tokens } = expectStatus(await call(cityAdmin, 'POST', `/v1/surveys/${s.id}/invitations`, { count: 1 }), 201, 'invite');
    const saved = expectStatus(await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'no' }, respondent: { ageBand: '35-59' }, complete: false }), 201, 'save');
    expect(saved).toMatchObject({ status: 'partial', definitionVersion: 1 });
    const token = saved.resumeToken as string;
    const read = expectStatus(await call(null, 'GET', `/v1/public/survey-responses/${token}`), 200, 'resume');
    expect(read).toEqual({ status: 'partial', definitionVersion: 1, answers: { attends: 'no' }, respondent: { ageBand: '35-59' } });
    // The token is stored only hashed.
    expect(JSON.stringify(await responsesOf(s.id))).not.toContain(token);
    // A bad continuation stores nothing.
    const refused = await call(null, 'POST', `/v1/public/survey-responses/${token}`, { answers: { why_not: 'x'.repeat(500) } });
    expect(problem(refused).code).toBe('SURVEY_INVALID_ANSWER');
    expect(expectStatus(await call(null, 'GET', `/v1/public/survey-responses/${token}`), 200, 'unchanged').answers).toEqual({ attends: 'no' });
    // Save more, then complete (the invitation is needed to complete).
    expectStatus(await call(null, 'POST', `/v1/public/survey-responses/${token}`, { answers: { why_not: '太远' }, complete: false }), 200, 'save again');
    expect(problem(await call(null, 'POST', `/v1/public/survey-responses/${token}`, { answers: {} })).code).toBe('SURVEY_INVITATION_REQUIRED');
    // Changing an answer that hid another clears nothing silently: the hidden answer must be cleared (null).
    expect(problem(await call(null, 'POST', `/v1/public/survey-responses/${token}`, { answers: { attends: 'yes' }, invitation: tokens[0] })).code).toBe('SURVEY_HIDDEN_QUESTION_ANSWERED');
    const done = expectStatus(await call(null, 'POST', `/v1/public/survey-responses/${token}`, { answers: { attends: 'yes', why_not: null, wants: ['craft'] }, invitation: tokens[0] }), 200, 'complete');
    expect(done).toEqual({ status: 'completed', resumeToken: null, definitionVersion: 1 });
    const [stored] = await responsesOf(s.id);
    expect(stored).toMatchObject({ status: 'completed', resume_token_hash: null, answers: { attends: 'yes', wants: ['craft'] } });
    expect(problem(await call(null, 'GET', `/v1/public/survey-responses/${token}`)).code).toBe('SURVEY_RESUME_TOKEN_NOT_FOUND');
  });

  it('keeps the version a partial response started on', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const saved = expectStatus(await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'yes' }, complete: false }), 201, 'save');
    const current = expectStatus(await call(cityAdmin, 'GET', `/v1/surveys/${s.id}`), 200, 'get');
    const def = { ...current.definition, title: { 'zh-cn': '第二版', en: 'Second' } };
    expectStatus(await call(cityAdmin, 'PATCH', `/v1/surveys/${s.id}`, { definition: def }, ifMatch(current)), 200, 'v2');
    const done = expectStatus(await call(null, 'POST', `/v1/public/survey-responses/${saved.resumeToken}`, { answers: {} }), 200, 'complete');
    expect(done.definitionVersion).toBe(1);
  });
});

describe('Idempotency-Keys of anonymous respondents', () => {
  it('keeps each respondent’s key apart: the same key from another respondent is not answered with the first one’s response', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const url = `/v1/public/surveys/${s.slug}/responses`;
    const send = (remoteAddress: string, answers: Record<string, unknown>) =>
      app.inject({ method: 'POST', url, remoteAddress, headers: { 'idempotency-key': 'submit-1' }, payload: { answers, complete: false } });
    const first = await send('10.0.0.1', { attends: 'no' });
    const second = await send('10.0.0.2', { attends: 'yes' });
    expect(first.statusCode, first.body).toBe(201);
    expect(second.statusCode, second.body).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.json().resumeToken).not.toBe(first.json().resumeToken);
    // The same respondent retrying gets its own answer again, and nothing is stored twice.
    const retry = await send('10.0.0.1', { attends: 'no' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await responsesOf(s.id)).toHaveLength(2);
    // Each resume token is its owner's, with its own answers.
    expect(expectStatus(await call(null, 'GET', `/v1/public/survey-responses/${second.json().resumeToken}`), 200, 'second').answers).toEqual({ attends: 'yes' });
  });
});

describe('rate limits', () => {
  it('limits public submissions per client and minute', async () => {
    const limited = await createTestServer({ plugins: [survey({ submissionsPerMinute: 2 })] });
    try {
      await seedRegions(limited);
      const c = client(limited);
      const s = await publishedSurvey(c, cityAdmin);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await c(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'yes' } })).status);
      expect(statuses).toEqual([201, 201, 429]);
      const stored = await queryRows<{ n: number }>(limited.diandan.database.db, sql`select count(*)::int as n from survey.responses`);
      expect(stored[0]!.n).toBe(2);
      // The kernel's store keeps only hashed keys: no IP address.
      const keys = await queryRows<{ key: string }>(limited.diandan.database.db, sql`select key from kernel.rate_limits`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => !k.key.includes('127.0.0.1'))).toBe(true);
    } finally {
      await limited.close();
    }
  });
});

describe('services', () => {
  it('exposes the collection to other packages', async () => {
    const { responses } = surveyOf(app);
    const s = await publishedSurvey(call, cityAdmin);
    await responses.submit({ slug: s.slug, answers: { attends: 'yes' } });
    expect(await responses.countCompleted([s.id])).toBe(1);
  });
});
