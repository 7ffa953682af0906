import type { FastifyInstance } from 'fastify';

/**
 * The error `start` rejects with. If it resolves instead, the server it made is
 * closed and the test fails.
 */
export async function startupFailure(start: Promise<FastifyInstance>): Promise<Error & { code?: string; plugin?: string }> {
  let app: FastifyInstance;
  try {
    app = await start;
  } catch (error) {
    return error as Error;
  }
  await app.close();
  throw new Error('expected start-up to fail, but the server started');
}
