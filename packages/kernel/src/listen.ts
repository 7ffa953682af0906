import { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Deployment } from './deployment.js';
import { sendProblem } from './http/problem.js';
import { createServer } from './server.js';

/** Where and how long to serve. */
export interface ListenOptions {
  port?: number;
  host?: string;
  /** How long to wait for in-flight requests and plugin shutdown before exiting anyway (ms, default 10000). */
  shutdownTimeout?: number;
  /**
   * On a signal, idle keep-alive connections are closed once no request has arrived for
   * this long (ms, default 1000); until then they may still bring one (served with
   * `Connection: close`). Closing one at once would reset a request a client had just sent.
   */
  drainTimeout?: number;
}

/**
 * Creates the server, listens, and shuts down gracefully on SIGTERM/SIGINT: stop
 * accepting connections, finish in-flight requests, close plugins and the database,
 * then exit. A second signal, or the timeout, exits at once. An uncaught exception or
 * unhandled rejection is logged as one `fatal` line before the process exits with 1.
 */
export async function serve(deployment: Deployment, options: ListenOptions = {}): Promise<FastifyInstance> {
  let draining = false;
  const activity = { lastRequestAt: 0 };
  const app = await createServer(deployment, {
    deferWorkers: true,
    beforeReady: (instance) => {
      // While draining: every response ends its connection, and /ready tells the load
      // balancer to send nothing more here.
      instance.addHook('onRequest', async (request, reply) => {
        if (!draining) return;
        activity.lastRequestAt = Date.now();
        if (request.url === '/ready') return sendProblem(reply, 503, 'SHUTTING_DOWN', 'This process is shutting down');
      });
      instance.addHook('onSend', async (_request, reply) => {
        if (draining) reply.header('connection', 'close');
      });
    },
  });
  try {
    await app.listen({ port: options.port ?? 3000, host: options.host ?? '0.0.0.0' });
  } catch (error) {
    await app.close(); // plugins and the database, too
    throw error;
  }
  // Listening first: on PGlite a job already due would otherwise hold the one thread
  // the first requests are served on. A failure here is a failure to start, as before.
  try {
    await app.diandan.startWorkers();
  } catch (error) {
    await app.close();
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
    draining = true;
    activity.lastRequestAt = Date.now();
    drain(app, activity, options.drainTimeout ?? 1000)
      .then(() => app.close())
      .then(
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

/**
 * Stops accepting connections and resolves once every open one has ended: requests in
 * flight finish (their responses close their connections), and idle keep-alive
 * connections are closed once no request has arrived for `quietMs` — a request a
 * client had already sent on one is served first. (`http.Server#close` would close
 * idle connections at once, resetting such a request.)
 */
function drain(app: FastifyInstance, activity: { lastRequestAt: number }, quietMs: number): Promise<void> {
  const server = app.server;
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() - activity.lastRequestAt >= quietMs) server.closeIdleConnections();
    }, Math.max(10, Math.min(100, quietMs / 4)));
    timer.unref();
    Server.prototype.close.call(server, () => {
      clearInterval(timer);
      resolve();
    });
  });
}
