/**
 * Questionnaires over HTTP: create, strict validation (refused misconfigurations name the
 * element), versions on edit after publication, the publish window, targets, region
 * scope, the state machine, QR codes.
 */
import { actors, client, createTestServer, expectStatus, ifMatch, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDefinition, survey } from '../src/index.js';
import { demandSurvey, publishedSurvey } from './support.js';

let app: FastifyInstance;
let call: Call;
const { cityAdmin, districtAdmin, otherDistrictAdmin, streetOperator } = testActors;

beforeAll(async () => {
  app = await createTestServer({ plugins: [survey({ publicBaseUrl: 'https://survey.example.invalid/s' })] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

const l = (zh: string, en: string) => ({ 'zh-cn': zh, en });
const page = (elements: unknown[]) => ({ title: l('测试', 'Test'), pages: [{ name: 'p1', elements }] });
const radio = (name: string, extra: Record<string, unknown> = {}) => ({ type: 'radiogroup', name, title: l('题', 'Q'), choices: [{ value: 'a', text: l('甲', 'A') }, { value: 'b', text: l('乙', 'B') }], ...extra });

describe('definitions', () => {
  it('accepts the documented subset with every question type', () => {
    const checked = checkDefinition(demandSurvey());
    expect(checked.questions.map((q) => q.type)).toEqual(['radiogroup', 'comment', 'checkbox', 'text', 'text', 'text', 'rating', 'ranking', 'dropdown', 'dropdown', 'matrix', 'text']);
    expect(checked.questions.find((q) => q.name === 'short')!.conditions[0]).toMatchObject({ join: 'and', clauses: [{ question: 'attends', op: 'notempty' }, { question: 'visits', op: 'empty' }] });
  });

  const refused: [string, unknown, string][] = [
    ['an unknown type', page([{ type: 'signaturepad', name: 'sig', title: l('签名', 'Sign') }]), 'sig'],
    ['an unknown property', page([radio('q1', { colCount: 3 })]), 'q1'],
    ['a missing English label', page([radio('q1', { title: { 'zh-cn': '题' } })]), 'q1'],
    ['duplicate names', page([radio('q1'), radio('q1')]), 'q1'],
    ['duplicate choice values', page([radio('q1', { choices: [{ value: 'a', text: l('甲', 'A') }, { value: 'a', text: l('乙', 'B') }] })]), 'q1'],
    ['min over max choices', page([{ ...radio('q1'), type: 'checkbox', minSelectedChoices: 2, maxSelectedChoices: 1 }]), 'q1'],
    ['max choices over the choices', page([{ ...radio('q1'), type: 'checkbox', maxSelectedChoices: 5 }]), 'q1'],
    ['a condition on a later question', page([radio('q1', { visibleIf: "{q2} = 'a'" }), radio('q2')]), 'q1'],
    ['a condition on an unknown choice', page([radio('q1'), radio('q2', { visibleIf: "{q1} = 'zzz'" })]), 'q2'],
    ['mixed and/or', page([radio('q1'), radio('q2'), radio('q3', { visibleIf: "{q1} = 'a' and {q2} = 'a' or {q1} empty" })]), 'q3'],
    ['contains on a single choice', page([radio('q1'), radio('q2', { visibleIf: "{q1} contains 'a'" })]), 'q2'],
    ['an expression outside the subset', page([radio('q1'), radio('q2', { visibleIf: "age({q1}) > 3" })]), 'q2'],
    ['a rating without steps', page([{ type: 'rating', name: 'r', title: l('评', 'Rate'), rateMin: 3, rateMax: 3 }]), 'r'],
    ['a dropdown with no choices', page([{ type: 'dropdown', name: 'd', title: l('选', 'Pick') }]), 'd'],
    ['maxLength on a number', page([{ type: 'text', inputType: 'number', name: 'n', title: l('数', 'N'), maxLength: 3 }]), 'n'],
    ['a bad demand mapping', page([radio('q1', { choices: [{ value: 'a', text: l('甲', 'A'), demand: { tags: ['x'] } }] })]), 'q1'],
  ];
  it.each(refused)('refuses %s with a problem naming the element, and stores nothing', async (_what, definition, name) => {
    const res = await call(cityAdmin, 'POST', '/v1/surveys', { regionCode: '440100', definition });
    expect(problem(res)).toEqual({ status: 422, code: 'SURVEY_INVALID_DEFINITION', problem: true });
    expect(res.body.details.question).toBe(name);
    expect(res.body.detail).toContain(name);
  });

  it('refuses a definition that is not a questionnaire', async () => {
    for (const definition of [{}, { title: l('a', 'b'), pages: [] }, { title: l('a', 'b'), pages: [{ name: 'p', elements: [] }] }]) {
      const res = await call(cityAdmin, 'POST', '/v1/surveys', { regionCode: '440100', definition });
      expect(problem(res).code).toBe('SURVEY_INVALID_DEFINITION');
    }
    const list = expectStatus(await call(cityAdmin, 'GET', '/v1/surveys'), 200, 'list');
    expect(list.items).toHaveLength(0);
  });
});

describe('lifecycle and versions', () => {
  it('creates a draft, publishes it, and a later edit is a new version the public link serves', async () => {
    const created = await call(districtAdmin, 'POST', '/v1/surveys', { regionCode: '440103', definition: demandSurvey(), targetRegions: ['440103001'], targetGroups: ['elderly'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'draft', currentVersion: 1, publishedVersion: null, regionCode: '440103', targetRegions: ['440103001'] });
    expect(created.etag).toBe('"v1"');
    const draft = created.body;
    // Not public before publication.
    expect(problem(await call(null, 'GET', `/v1/public/surveys/${draft.slug}`)).code).toBe('SURVEY_NOT_FOUND');

    // A draft is edited in place.
    const def2 = demandSurvey();
    (def2.title as Record<string, string>).en = 'Cultural needs survey (edited draft)';
    const edited = expectStatus(await call(districtAdmin, 'PATCH', `/v1/surveys/${draft.id}`, { definition: def2 }, ifMatch(draft)), 200, 'edit draft');
    expect(edited).toMatchObject({ currentVersion: 1, version: 2 });
    // A stale If-Match is refused, a missing one required.
    expect(problem(await call(districtAdmin, 'PATCH', `/v1/surveys/${draft.id}`, { definition: def2 }, ifMatch(draft))).status).toBe(412);
    expect(problem(await call(districtAdmin, 'PATCH', `/v1/surveys/${draft.id}`, { definition: def2 })).status).toBe(428);

    const published = expectStatus(await call(districtAdmin, 'POST', `/v1/surveys/${draft.id}/publish`, undefined, ifMatch(edited)), 200, 'publish');
    expect(published).toMatchObject({ status: 'published', publishedVersion: 1 });
    const pub = expectStatus(await call(null, 'GET', `/v1/public/surveys/${draft.slug}`), 200, 'public');
    expect(pub).toMatchObject({ definitionVersion: 1, invitationOnly: false });
    expect(pub.definition.title.en).toBe('Cultural needs survey (edited draft)');

    // A response to version 1 keeps it.
    expectStatus(await call(null, 'POST', `/v1/public/surveys/${draft.slug}/responses`, { answers: { attends: 'yes' } }), 201, 'respond v1');

    const def3 = demandSurvey();
    (def3.title as Record<string, string>).en = 'Version 2';
    const v2 = expectStatus(await call(districtAdmin, 'PATCH', `/v1/surveys/${draft.id}`, { definition: def3 }, ifMatch(published)), 200, 'edit published');
    expect(v2).toMatchObject({ currentVersion: 2, publishedVersion: 2, status: 'published' });
    const pub2 = expectStatus(await call(null, 'GET', `/v1/public/surveys/${draft.slug}`), 200, 'public v2');
    expect(pub2).toMatchObject({ definitionVersion: 2, definition: { title: { en: 'Version 2' } } });
    const answered = expectStatus(await call(null, 'POST', `/v1/public/surveys/${draft.slug}/responses`, { answers: { attends: 'no' } }), 201, 'respond v2');
    expect(answered.definitionVersion).toBe(2);

    // A misconfigured edit of a published questionnaire is refused and changes nothing.
    const bad = await call(districtAdmin, 'PATCH', `/v1/surveys/${draft.id}`, { definition: page([radio('x', { visibleIf: '{nope} empty' })]) }, ifMatch(v2));
    expect(problem(bad).code).toBe('SURVEY_INVALID_DEFINITION');
    expect(expectStatus(await call(districtAdmin, 'GET', `/v1/surveys/${draft.id}`), 200, 'get')).toMatchObject({ currentVersion: 2, version: v2.version });

    // Close, then responses are refused; reopen.
    const closed = expectStatus(await call(districtAdmin, 'POST', `/v1/surveys/${draft.id}/close`, undefined, ifMatch(v2)), 200, 'close');
    expect(problem(await call(null, 'POST', `/v1/public/surveys/${draft.slug}/responses`, { answers: { attends: 'no' } })).code).toBe('SURVEY_CLOSED');
    expect(problem(await call(districtAdmin, 'POST', `/v1/surveys/${draft.id}/close`, undefined, ifMatch(closed))).code).toBe('INVALID_TRANSITION');
    expectStatus(await call(districtAdmin, 'POST', `/v1/surveys/${draft.id}/reopen`, undefined, ifMatch(closed)), 200, 'reopen');
  });

  it('keeps to the publish window', async () => {
    const future = await publishedSurvey(call, cityAdmin, { opensAt: '2099-01-01T00:00:00Z' });
    const res = await call(null, 'POST', `/v1/public/surveys/${future.slug}/responses`, { answers: { attends: 'yes' } });
    expect(problem(res)).toEqual({ status: 409, code: 'SURVEY_CLOSED', problem: true });
    expect(res.body.detail).toContain('opens');
    const past = await publishedSurvey(call, cityAdmin, { closesAt: '2020-01-01T00:00:00Z' });
    expect(problem(await call(null, 'GET', `/v1/public/surveys/${past.slug}`)).code).toBe('SURVEY_CLOSED');
    const backwards = await call(cityAdmin, 'POST', '/v1/surveys', { regionCode: '440100', definition: demandSurvey(), opensAt: '2027-02-01T00:00:00Z', closesAt: '2027-01-01T00:00:00Z' });
    expect(problem(backwards).code).toBe('SURVEY_INVALID_WINDOW');
  });

  it('refuses targets outside the questionnaire region and unknown groups', async () => {
    const outside = await call(districtAdmin, 'POST', '/v1/surveys', { regionCode: '440103', definition: demandSurvey(), targetRegions: ['440104'] });
    expect(problem(outside).code).toBe('SURVEY_INVALID_TARGET');
    const group = await call(districtAdmin, 'POST', '/v1/surveys', { regionCode: '440103', definition: demandSurvey(), targetGroups: ['no-such-group'] });
    expect(problem(group).code).toBe('SURVEY_INVALID_TARGET');
  });
});

describe('authorisation by role and region', () => {
  it('lets staff act only within their subtree', async () => {
    const liwan = expectStatus(await call(districtAdmin, 'POST', '/v1/surveys', { regionCode: '440103', definition: demandSurvey() }), 201, 'create');
    // Another district: as if it did not exist; cannot create there either.
    expect(problem(await call(otherDistrictAdmin, 'GET', `/v1/surveys/${liwan.id}`)).status).toBe(404);
    expect(problem(await call(otherDistrictAdmin, 'POST', `/v1/surveys/${liwan.id}/publish`, undefined, ifMatch(liwan))).status).toBe(404);
    expect(problem(await call(districtAdmin, 'POST', '/v1/surveys', { regionCode: '440104', definition: demandSurvey() })).code).toBe('REGION_NOT_FOUND');
    // A street operator sees the district's questionnaire? No: it lies above the street.
    expect(problem(await call(streetOperator, 'GET', `/v1/surveys/${liwan.id}`)).status).toBe(404);
    const list = expectStatus(await call(otherDistrictAdmin, 'GET', '/v1/surveys'), 200, 'list');
    expect(list.items.map((s: { id: string }) => s.id)).not.toContain(liwan.id);
    // The city sees it.
    expectStatus(await call(cityAdmin, 'GET', `/v1/surveys/${liwan.id}`), 200, 'city reads');
    // Roles that are not region staff are refused.
    expect(problem(await call(actors.reviewer(), 'GET', '/v1/surveys')).status).toBe(403);
    expect(problem(await call(actors.supplier('00000000-0000-4000-8000-000000000001'), 'POST', '/v1/surveys', { regionCode: '440100', definition: demandSurvey() })).status).toBe(403);
    expect(problem(await call(null, 'GET', '/v1/surveys')).status).toBe(401);
  });

  it('audits every change', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const audit = expectStatus(await call(cityAdmin, 'GET', `/v1/audit-log?entityType=survey&entityId=${s.id}`), 200, 'audit');
    expect(audit.items.map((a: { action: string }) => a.action).sort()).toEqual(['survey.create', 'survey.publish']);
  });
});

describe('QR codes', () => {
  it('draws the public link of a region as SVG and PNG', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const res = await call(cityAdmin, 'GET', `/v1/surveys/${s.id}/qr?region=440103&format=svg`);
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('image/svg+xml');
    expect(String(res.body)).toContain('<svg');
    const png = await call(cityAdmin, 'GET', `/v1/surveys/${s.id}/qr?region=440103&format=png`);
    expect(png.status).toBe(200);
    expect(png.contentType).toBe('image/png');
    // An unknown region, or one outside the caller's subtree: 404.
    expect(problem(await call(cityAdmin, 'GET', `/v1/surveys/${s.id}/qr?region=999999`)).code).toBe('REGION_NOT_FOUND');
  });
});
