/**
 * Bad input never yields a 5xx on the notice board's routes, and writes nothing:
 * `fuzzRoutes` takes the routes from the OpenAPI document and runs the same checks
 * as every Diandan package's bad-input suite.
 */
import { actors, client, createTestServer, seedRegions } from '@diandan/testing';
import { fuzzRoutes } from '@diandan/testing/fuzz';
import { noticeBoard } from '../src/index.js';
import { notices } from '../src/schema.js';

const author = actors.districtAdmin('440103');

fuzzRoutes({
  async setup() {
    const app = await createTestServer({ plugins: [noticeBoard()] });
    await seedRegions(app);
    // Two notices, so that the list has a second page and its cursor is real.
    const call = client(app);
    for (const body of ['周六粤剧进社区', '周日书法讲座']) await call(author, 'POST', '/v1/notices', { regionCode: '440103', body });
    return { app };
  },
  operations: (op) => op.path.startsWith('/v1/notices'),
  callers: { 'the district admin': () => author, 'a resident (anonymous)': () => null },
  // Valid, but for a region that does not exist: refused after validation, so nothing is written.
  validBodies: { createNotice: { regionCode: '999999', body: '不会发布的通知' } },
  query: { listNotices: 'regionCode=440103' },
  tables: { notices },
  minOperations: 2,
  minLists: 1,
});
