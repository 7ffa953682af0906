import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deployment, UnderPressureLimits } from '../deployment.js';
import { PROBLEM_CONTENT_TYPE, problemBody } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: served even while the process is overloaded (liveness). */
    underPressure?: boolean;
  }
}

/** Defaults of the HTTP limits (see `Deployment['http']`). */
export const HTTP_DEFAULTS = Object.freeze({
  bodyLimit: 1024 * 1024,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 60_000,
  underPressure: Object.freeze({
    maxEventLoopDelayMs: 1000,
    maxHeapUsedFraction: 0.9,
    maxRssBytes: 0,
    maxEventLoopUtilization: 0,
    retryAfterSeconds: 5,
    sampleIntervalMs: 5000,
  }),
});

/** Fastify's server options for the deployment's request and connection timeouts. */
export function timeoutOptions(http: Deployment['http']): { requestTimeout: number; connectionTimeout: number } {
  return {
    requestTimeout: http?.requestTimeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs,
    connectionTimeout: http?.connectionTimeoutMs ?? HTTP_DEFAULTS.connectionTimeoutMs,
  };
}

/**
 * Sheds load while the process is overloaded (event-loop delay, heap, optionally RSS
 * and event-loop utilisation): `503 SERVER_OVERLOADED` with `Retry-After`. Routes that
 * set `config: { underPressure: false }` (`/health`) are always served.
 */
export async function registerLoadShedding(
  app: FastifyInstance,
  limits: false | UnderPressureLimits | undefined,
  driver: 'pglite' | 'postgres',
): Promise<void> {
  if (limits === false) return;
  const d = HTTP_DEFAULTS.underPressure;
  // PGlite runs its queries on this event loop: there the delay measures database work
  // (200 queued transactions are seconds of it), not overload. Not checked by default.
  const defaultDelay = driver === 'pglite' ? 0 : d.maxEventLoopDelayMs;
  const retryAfter = limits?.retryAfterSeconds ?? d.retryAfterSeconds;
  const sampleInterval = limits?.sampleIntervalMs ?? d.sampleIntervalMs;
  // Measurements are means over `sampleInterval`. Start-up (schema compilation, PGlite
  // opening its database) blocks the event loop for seconds, and the first samples
  // after it would say "overloaded" for a server that has not served anything yet:
  // pressure counts only from two sample intervals after the server is ready.
  let countsFrom = Infinity;
  app.addHook('onReady', async () => {
    countsFrom = Date.now() + 2 * sampleInterval;
  });
  await app.register(underPressure, {
    sampleInterval,
    maxEventLoopDelay: limits?.maxEventLoopDelayMs ?? defaultDelay,
    maxHeapUsedBytes: limits?.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * d.maxHeapUsedFraction),
    maxRssBytes: limits?.maxRssBytes ?? d.maxRssBytes,
    maxEventLoopUtilization: limits?.maxEventLoopUtilization ?? d.maxEventLoopUtilization,
    retryAfter,
    // A payload returned here is what the plugin sends (its types say void); undefined lets the request on.
    pressureHandler: ((request: FastifyRequest, reply: FastifyReply, type: string) => {
      if (request.routeOptions.config.underPressure === false || Date.now() < countsFrom) return undefined;
      request.log.warn({ pressure: type }, 'overloaded: request refused');
      reply.code(503).type(PROBLEM_CONTENT_TYPE).header('retry-after', String(retryAfter));
      return problemBody(request.url, 503, 'SERVER_OVERLOADED', `The server is overloaded (${type}). Retry after the Retry-After delay.`, {
        requestId: String(request.id),
      });
    }) as unknown as (request: FastifyRequest, reply: FastifyReply, type: string) => void,
  });
}
