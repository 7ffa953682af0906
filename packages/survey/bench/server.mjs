// The server side of the submission benchmark: a deployment with the survey plugin on
// DATABASE_URL, served on PORT. Once listening it seeds, through the kernel's and the
// package's services, the testing ordering loop (regions, units, listed products:
// `seedOrderingLoop`) and one published questionnaire (the demo's definition); the
// benchmark waits until that questionnaire is listed. Nothing is written to kernel
// tables directly. SIGTERM shuts it down (exit 0).
//
//   node bench/server.mjs
import { serve } from '@diandan/kernel';
import { survey, demoDefinition } from '@diandan/survey';
import { TEST_AUTH_SECRET, TEST_PERSONAL_DATA_KEY, seedOrderingLoop } from '@diandan/testing';

const app = await serve(
  {
    city: 'Bench City',
    levels: ['city', 'district', 'street', 'community'],
    database: { url: process.env.DATABASE_URL, maxConnections: 20 },
    auth: { secret: TEST_AUTH_SECRET },
    personalData: { key: TEST_PERSONAL_DATA_KEY },
    // The public limit stays on (it is counted in the database, part of a submission's cost), set above what the run sends.
    plugins: [survey({ submissionsPerMinute: 100_000 })],
    logger: { level: process.env.LOG_LEVEL ?? 'warn' },
  },
  { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' },
);
await seedOrderingLoop(app);
const plugin = app.diandan.plugins.find((p) => p.definition.name === 'survey');
const city = await plugin.context.systemActor({ roles: ['city-admin'], region: '440100' });
const draft = await plugin.services.questionnaires.create({ regionCode: '440100', definition: demoDefinition() }, { actor: city });
await plugin.services.questionnaires.act({ id: draft.id, action: 'publish', expectedVersion: draft.version }, { actor: city });
app.log.warn('bench data seeded');
