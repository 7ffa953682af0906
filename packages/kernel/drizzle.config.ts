import { defineConfig } from 'drizzle-kit';

// `pnpm db:generate` writes a new migration into ./drizzle from every src/**/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/**/schema.ts',
  out: './drizzle',
  schemaFilter: ['kernel'],
});
