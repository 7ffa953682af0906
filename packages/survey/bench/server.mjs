// The server side of the submission benchmark: a deployment with the survey plugin on
// DATABASE_URL, served on PORT. Once listening it seeds, through the kernel's and the
// package's services, the testing ordering loop (regions, units, listed products:
// `seedOrderingLoop`) and one published questionnaire (the demo's definition); the
// benchmark waits until that questionnaire is listed. Nothing is written to kernel
// tables directly. SIGTERM shuts it down (exit 0).
//
//   node bench/server.mjs
import { survey, demoDefinition } from '@diandan/survey';
import { seedOrderingLoop } from '@diandan/testing';
import { serveBench } from '../../../apps/server/bench/serve.mjs';

// The public limit stays on (it is counted in the database, part of a submission's cost), set above what the run sends.
const app = await serveBench([survey({ submissionsPerMinute: 100_000 })]);
await seedOrderingLoop(app);
const plugin = app.diandan.plugins.find((p) => p.definition.name === 'survey');
const city = await plugin.context.systemActor({ roles: ['city-admin'], region: '440100' });
const draft = await plugin.services.questionnaires.create({ regionCode: '440100', definition: demoDefinition() }, { actor: city });
await plugin.services.questionnaires.act({ id: draft.id, action: 'publish', expectedVersion: draft.version }, { actor: city });
app.log.warn('bench data seeded');
