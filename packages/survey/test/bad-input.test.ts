/**
 * Bad input on every survey route (staff, public, demand, results): `fuzzRoutes` takes
 * the routes from the OpenAPI document, calls each with malformed, wrongly typed,
 * oversize and NUL-laden input as staff, a unit operator and anonymously, and checks
 * every answer is a listed 4xx problem with a stable code and that nothing was written.
 */
import { testActors, client, createTestServer, seedRegions, expectStatus, ifMatch } from '@diandan/testing';
import { UNKNOWN_UUID, fuzzRoutes } from '@diandan/testing/fuzz';
import { survey } from '../src/index.js';
import { demandRecords, demandRequests, imports, invitations, questionnaires, responses } from '../src/schema.js';
import { demandSurvey, surveyOf } from './support.js';

const { cityAdmin } = testActors;
const operator = { roles: ['unit-operator'], region: '440103001', unit: UNKNOWN_UUID, sub: 'fuzz-operator' } as const;
const SURVEY_PATHS = ['/v1/surveys', '/v1/public/surveys', '/v1/public/survey-responses', '/v1/demand-records', '/v1/demand-requests', '/v1/demand-gaps', '/v1/needs-map', '/v1/public/needs-map'];

fuzzRoutes({
  async setup() {
    const app = await createTestServer({ plugins: [survey({ submissionsPerMinute: 100_000 })] });
    await seedRegions(app);
    const call = client(app);
    // Two questionnaires (one published, with a response) and two demand records: every list has a second page.
    let id = '';
    for (let i = 0; i < 2; i++) {
      const created = expectStatus(await call(cityAdmin, 'POST', '/v1/surveys', { regionCode: '440100', definition: demandSurvey() }), 201, 'survey');
      const published = expectStatus(await call(cityAdmin, 'POST', `/v1/surveys/${created.id}/publish`, undefined, ifMatch(created)), 200, 'publish');
      expectStatus(await call(null, 'POST', `/v1/public/surveys/${published.slug}/responses`, { answers: { attends: 'yes', wants: ['opera'] } }), 201, 'response');
      id = created.id;
    }
    await surveyOf(app).demand.contribute('fuzz-1', { source: 'fuzz', signals: [{ regionCode: '440103', group: 'elderly', category: 'performance', period: '2027-03', weight: 1 }] });
    return { app, known: { id } };
  },
  operations: (op) => SURVEY_PATHS.some((p) => op.path.startsWith(p)),
  callers: { 'a city admin': () => cityAdmin, 'a unit operator': () => operator, 'a resident (anonymous)': () => null },
  // Valid bodies that name nothing (unknown ids, slugs, tokens) or are refused after validation.
  validBodies: {
    createSurvey: { regionCode: '999999', definition: { title: 'not a label' } },
    updateSurvey: { targetGroups: [] },
    mintSurveyInvitations: { count: 1 },
    importSurveyResponses: { csv: 'attends\nyes\n' },
    submitSurveyResponse: { answers: {} },
    continueSurveyResponse: { answers: {} },
    createDemandRequest: { unitId: UNKNOWN_UUID, title: '不会保存的需求', group: 'elderly', category: 'performance', period: '2099-01', expectedAudience: 10 },
  },
  query: { getDemandGaps: 'from=2027-03&to=2027-03' },
  tables: { questionnaires, responses, demandRecords, demandRequests, imports, invitations },
  minOperations: 25,
  minLists: 3,
});
