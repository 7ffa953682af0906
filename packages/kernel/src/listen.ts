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
 * then exit. A second signal, or the timeout, exits at once. An uncaught exception or
 * unhandled rejection is logged as one `fatal` line before the process exits with 1.
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
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    const timeoutMs = options.shutdownTimeout ?? 10_000;
    app.log.info({ signal, timeoutMs }, 'shutting down: no new connections, finishing requests in flight');
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs }, 'shutdown timed out: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    app.close().then(
      () => {
        app.log.info({ shutdownMs: Date.now() - started }, 'shut down');
        process.exit(0);
      },
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A crash leaves one structured line (scrubbed like every other) rather than a bare
  // stack trace on stderr; then the process exits, as Node would, for a supervisor to restart.
  const fatal = (what: string) => (error: unknown) => {
    try {
      app.log.fatal({ err: error }, `${what}: exiting`);
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
  return app;
}
