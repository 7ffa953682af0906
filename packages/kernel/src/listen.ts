import type { FastifyInstance } from 'fastify';
import type { Deployment } from './deployment.js';
import { createServer } from './server.js';

/** Where and how long to serve. */
export interface ListenOptions {
  port?: number;
  host?: string;
  /** How long to wait for in-flight requests and plugin shutdown before exiting anyway (ms). */
  shutdownTimeout?: number;
}

/**
 * Creates the server, listens, and shuts down gracefully on SIGTERM/SIGINT: stop
 * accepting connections, finish in-flight requests, close plugins and the database,
 * then exit. A second signal, or the timeout, exits at once.
 */
export async function serve(deployment: Deployment, options: ListenOptions = {}): Promise<FastifyInstance> {
  const app = await createServer(deployment);
  try {
    await app.listen({ port: options.port ?? 3000, host: options.host ?? '0.0.0.0' });
  } catch (error) {
    await app.close(); // plugins and the database, too
    throw error;
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out');
      process.exit(1);
    }, options.shutdownTimeout ?? 10_000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return app;
}
