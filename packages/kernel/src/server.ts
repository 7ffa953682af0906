import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deployment } from './deployment.js';
import { registerApiReference, registerOpenApi, KERNEL_TAGS } from './http/openapi.js';
import { DATABASE_RETRY_AFTER_SECONDS, problemResponses, registerProblemHandlers, sendProblem } from './http/problem.js';
import { closeObjects } from './http/schemas.js';
import { lazyAjvCompile } from './http/lazy-compile.js';
import { responseSerializers } from './http/serializers.js';
import { safeLoggerOptions } from './http/logging.js';
import { HTTP_DEFAULTS, registerLoadShedding, timeoutOptions } from './http/limits.js';
import { registerAuthentication } from './auth/http.js';
import { createTokenVerifier } from './auth/tokens.js';
import { startKernel, type Kernel } from './kernel.js';
import { prepareUploadRoute, registerUploads } from './files/http.js';
import { KERNEL_VERSION } from './version.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The running kernel behind this server (database, hooks, plugins), for tooling and tests. */
    readonly diandan: Kernel;
  }
}

/** Options for `createServer` that are about the process, not the city. */
export interface ServerOptions {
  /** Overrides `deployment.logger`. */
  logger?: Deployment['logger'];
  /** Runs after every route is registered and before the server is ready: add hooks or routes of your own. */
  beforeReady?: (app: FastifyInstance) => void | Promise<void>;
  /**
   * Leave the job workers stopped until `app.diandan.startWorkers()` (default false:
   * they start once the server is ready). `serve` starts them once it listens, so that
   * jobs already due do not hold PGlite's one thread before the first request is served.
   */
  deferWorkers?: boolean;
}

/**
 * Builds the HTTP server of a deployment and returns it ready (not listening).
 * Swagger is registered before any route, then the kernel's system routes, then each
 * plugin's routes in its own encapsulated context. Closing the server closes every
 * plugin (in reverse order) and the database.
 */
export async function createServer(deployment: Deployment, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Serializers, formatter and line hook that keep personal data and SQL parameters out (http/logging.ts).
    logger: safeLoggerOptions(options.logger ?? deployment.logger ?? { level: 'info' }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: deployment.http?.bodyLimit ?? HTTP_DEFAULTS.bodyLimit,
    trustProxy: deployment.http?.trustProxy ?? false,
    ...timeoutOptions(deployment.http),
    // A Diandan plugin's registration includes database work (migrations, seeds, and on
    // PGlite every query of a job running meanwhile holds the main thread): Fastify's
    // 10 s would fail a slow first start on a busy machine with "Plugin did not start in
    // time". Two minutes still turns a plugin that truly hangs into a start-up error.
    pluginTimeout: 120_000,
    // Validators are compiled on first use (http/lazy-compile.ts), as are serializers.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
      plugins: [lazyAjvCompile as never],
    },
    schemaController: { compilersFactory: { buildSerializer: responseSerializers() as never } },
    // Errors Fastify raises before routing (an undecodable URL) are problems too.
    frameworkErrors: (error, _request, reply) => {
      void sendProblem(reply, 400, 'MALFORMED_URL', error.message);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // A request body with a property the schema does not name is refused (400), not
  // silently accepted: a typo in a field name must not look like success. Schemas
  // that want open objects say `additionalProperties: true` explicitly.
  app.addHook('onRoute', (route) => {
    // An upload's multipart body is read by `readUpload`, not validated as JSON (files/http.ts).
    prepareUploadRoute(route);
    if (route.schema?.body) route.schema = { ...route.schema, body: closeObjects(route.schema.body) };
    // What any route can answer, whatever its own schema says: a bad token is a 401 on
    // every route, and a body the server cannot take is a 413 or 415 on every write.
    if (route.schema?.response && !route.schema.hide) {
      const takesBody = [route.method].flat().some((m) => ['POST', 'PUT', 'PATCH'].includes(m));
      const always = problemResponses(401, ...(takesBody ? [413, 415] : []));
      route.schema = { ...route.schema, response: { ...always, ...(route.schema.response as object) } };
    }
  });

  let kernel: Kernel;
  try {
    kernel = await startKernel(deployment, app.log, { deferWorkers: true });
  } catch (error) {
    await app.close();
    throw error;
  }
  app.decorate('diandan', kernel);
  app.addHook('onClose', () => kernel.close());
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  try {
    registerProblemHandlers(app);
    await registerLoadShedding(app, deployment.http?.underPressure, kernel.database.driver);
    await registerUploads(app, kernel.services.files.maxBytes);
    app.addHook('preValidation', refuseNulCharacters);
    const plugins = kernel.plugins.map((p) => p.definition);
    await registerOpenApi(app, {
      title: `Diandan API — ${deployment.city}`,
      version: KERNEL_VERSION,
      description:
        'Public cultural services ordered by the public and delivered by the government (群众点单、政府配送). ' +
        'Errors are RFC 9457 problem details with a stable `code`; lists are paginated with `limit` and an opaque `cursor`.',
      tags: [...KERNEL_TAGS, ...plugins.flatMap((p) => p.tags ?? [])],
    });
    // Shared models, once for the whole server; those of extended records show the extension data.
    for (const p of kernel.plugins) {
      const schemas = p.definition.schemas;
      for (const schema of (typeof schemas === 'function' ? schemas(p.context, p.services) : schemas) ?? []) {
        app.addSchema(kernel.extensions.extendModel(schema));
      }
    }
    if (!deployment.auth?.secret && !deployment.auth?.jwksUrl) {
      app.log.warn('no `auth` in the deployment: every route that needs a bearer token will answer 401');
    }
    registerAuthentication(app, createTokenVerifier(deployment.auth ?? {}), kernel.services.access);
    registerSystemRoutes(app, kernel);
    await registerApiReference(app);
    for (const p of kernel.plugins) {
      const routes = p.definition.routes;
      if (routes) await app.register(async (scope) => routes(scope as never, p.context, p.services), { name: p.definition.name } as never);
    }
    await options.beforeReady?.(app);
    await app.ready();
    // Jobs are worked once the server is ready, not while its routes compile (see startKernel).
    if (!options.deferWorkers) await kernel.startWorkers();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** How long `/ready` waits for the database's answer before it says 503. */
const READY_TIMEOUT_MS = 800;

const HealthSchema = Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }, { title: 'Health' });
const ReadySchema = Type.Object({ status: Type.Literal('ready'), database: Type.String() }, { title: 'Readiness' });

function registerSystemRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/health',
    {
      config: { underPressure: false },
      schema: {
        tags: ['system'],
        operationId: 'getHealth',
        security: [],
        summary: 'Is the process up (liveness)',
        response: { 200: HealthSchema, ...problemResponses() },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  );
  typed.get(
    '/ready',
    {
      schema: {
        tags: ['system'],
        operationId: 'getReadiness',
        security: [],
        summary: 'Can the server take traffic: is the database reachable (readiness)',
        response: { 200: ReadySchema, ...problemResponses(503) },
      },
    },
    async (request, reply) => {
      // Answers within a second whatever the database does: at once while it is known
      // to be down, else after one `select 1` bounded by the timeout.
      try {
        await kernel.database.ping({ timeoutMs: READY_TIMEOUT_MS });
        return { status: 'ready' as const, database: kernel.database.driver };
      } catch (err) {
        request.log.warn({ err }, 'database not reachable');
        reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
        return sendProblem(reply, 503, 'DATABASE_UNAVAILABLE', 'The database does not answer');
      }
    },
  );
}

/**
 * PostgreSQL text cannot hold U+0000, so a string carrying it would fail in the
 * database (a 500). Refuse it up front as the validation error it is, naming the field.
 */
async function refuseNulCharacters(request: FastifyRequest): Promise<void> {
  for (const [context, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
    const paths = nulPaths(value, '');
    if (paths.length) {
      throw Object.assign(new Error(`${context} contains a NUL character`), {
        statusCode: 400,
        validationContext: context,
        validation: paths.map((instancePath) => ({ instancePath, params: {}, message: 'must not contain NUL characters', keyword: 'nul', schemaPath: '' })),
      });
    }
  }
}

function nulPaths(value: unknown, at: string): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [at] : [];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [...(k.includes('\u0000') ? [`${at}/${k}`] : []), ...nulPaths(v, `${at}/${k}`)]);
}
