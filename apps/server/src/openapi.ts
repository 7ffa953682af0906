/**
 * Writes the deployment's OpenAPI document to a file (default dist/openapi.json)
 * without serving: the server boots on an in-memory database and is closed again.
 * Used by `pnpm lint:openapi`; integrators can use it to generate clients.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, openApiDocument } from '@diandan/kernel';
import deployment from '../diandan.config.js';

const out = process.argv[2] ?? 'dist/openapi.json';
const app = await createServer({ ...deployment, database: { dataDir: 'memory://' }, logger: false });
try {
  await writeFile(out, JSON.stringify(openApiDocument(app), null, 2));
  console.log(`OpenAPI document written to ${out}`);
} finally {
  await app.close();
}
