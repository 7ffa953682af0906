import type { FastifyServerOptions } from 'fastify';
import type { Static } from 'typebox';
import type { DatabaseConfig } from './db/database.js';
import { DiandanStartupError, StartupErrorCodes } from './errors.js';
import type { KernelConfigSchema } from './core/plugin.js';
import type { PluginInstance } from './plugin/define.js';
import type { AuthConfig } from './auth/tokens.js';
import { checkPersonalDataConfig } from './personal-data/config.js';
import type { PersonalDataConfig } from './personal-data/personal-data.js';
import type { FilesConfig } from './files/config.js';

/** One city's deployment: what `diandan.config.ts` exports. */
export interface Deployment {
  /** The city or district served, e.g. `广州市` or `长宁区`. */
  readonly city: string;
  /** Region level names from the top down; Guangzhou: `['city','district','street','community']`. */
  readonly levels: readonly string[];
  /** Where the data lives; PGlite in memory when omitted. */
  readonly database?: DatabaseConfig;
  /** The kernel's own config: extra population groups and categories. */
  readonly kernel?: Partial<Static<typeof KernelConfigSchema>>;
  /** Plugin instances, made by each package's factory; their order does not matter. */
  readonly plugins?: readonly PluginInstance[];
  /**
   * How bearer tokens are verified: `{ secret }` (HS256, development) or
   * `{ jwksUrl }` (an identity provider's keys, production); optional issuer/audience.
   * Without it, every route that needs a token answers 401.
   */
  readonly auth?: AuthConfig;
  /**
   * The key personal data is hashed and encrypted with (`ctx.deps.kernel.personalData`):
   * at least 32 bytes as base64/base64url, or 64 hex characters; `previousKeys` still
   * open values sealed before a rotation. Required when `NODE_ENV=production`; elsewhere
   * a public development key stands in, with a warning.
   */
  readonly personalData?: PersonalDataConfig;
  /**
   * Uploaded files (`ctx.deps.kernel.files`): `store` (an object store; default a local
   * folder, `dir`, else `<database.dataDir>/files`) and `maxBytes` (default 10 MiB).
   */
  readonly files?: FilesConfig;
  /** HTTP settings passed on to Fastify. */
  readonly http?: {
    /** Largest accepted request body in bytes (default 1 MiB). */
    readonly bodyLimit?: number;
    /** Trust `X-Forwarded-*` from a proxy in front (default false). */
    readonly trustProxy?: boolean;
    /** How long a client may take to send a whole request, in ms (default 30000); then 408. */
    readonly requestTimeoutMs?: number;
    /** How long a connection may stay silent (no bytes either way), in ms, before it is closed (default 60000). */
    readonly connectionTimeoutMs?: number;
    /**
     * Load shedding with `@fastify/under-pressure`: while the process is overloaded,
     * requests get `503 SERVER_OVERLOADED` with `Retry-After` (`/health` never does).
     * `false` turns it off. Defaults: mean event-loop delay over 5 s above 1000 ms (not on PGlite), heap
     * above 90 % of V8's limit; RSS and event-loop utilisation not checked; `Retry-After: 5`.
     * Not checked in the first two sample intervals after start-up.
     */
    readonly underPressure?: false | UnderPressureLimits;
  };
  /** Fastify/pino logger options, or false to log nothing. */
  readonly logger?: FastifyServerOptions['logger'];
}

/** Limits of `http.underPressure`; a limit of 0 is not checked. */
export interface UnderPressureLimits {
  /** Mean event-loop delay over a sample interval, in ms (default 1000; on PGlite 0, since its queries run on the event loop). */
  readonly maxEventLoopDelayMs?: number;
  /** V8 heap in use, in bytes (default 90 % of the heap limit). */
  readonly maxHeapUsedBytes?: number;
  /** Resident set size, in bytes (default 0: not checked; PGlite's memory counts here). */
  readonly maxRssBytes?: number;
  /** Event-loop utilisation, 0–1 (default 0: not checked). */
  readonly maxEventLoopUtilization?: number;
  /** `Retry-After` of its 503s, in seconds (default 5). */
  readonly retryAfterSeconds?: number;
  /** The measurements are means over this interval, in ms (default 5000); a longer one forgives short stalls. */
  readonly sampleIntervalMs?: number;
}

const LEVEL = /^[a-z][a-z0-9-]*$/;

/** Types a deployment for editors and checks its shape at start-up. */
export function defineDeployment<D extends Deployment>(deployment: D): D {
  return deployment;
}

/** Throws `DIANDAN_ERR_DEPLOYMENT_INVALID` naming the offending key. */
export function checkDeployment(d: Deployment): void {
  const fail = (path: string, message: string) => {
    throw new DiandanStartupError(StartupErrorCodes.DEPLOYMENT_INVALID, `deployment.${path}: ${message}`, { path });
  };
  if (typeof d?.city !== 'string' || d.city.trim() === '') fail('city', 'must be a non-empty string');
  if (!Array.isArray(d.levels) || d.levels.length === 0) fail('levels', 'must list at least one region level');
  d.levels.forEach((level, i) => {
    if (typeof level !== 'string' || !LEVEL.test(level)) fail(`levels[${i}]`, `"${String(level)}" must be kebab-case`);
    if (d.levels.indexOf(level) !== i) fail(`levels[${i}]`, `"${level}" is listed twice`);
  });
  if (d.plugins !== undefined && !Array.isArray(d.plugins)) fail('plugins', 'must be an array of plugin instances');
  if (d.auth?.secret !== undefined && d.auth.secret.length < 32) fail('auth.secret', 'must be at least 32 characters');
  if (d.auth?.jwksUrl !== undefined && !/^https?:\/\//.test(d.auth.jwksUrl)) fail('auth.jwksUrl', 'must be an http(s) URL');
  checkPersonalDataConfig(d.personalData);
  if (d.database?.url !== undefined && d.database.url !== '' && !/^postgres(ql)?:\/\//.test(d.database.url)) {
    fail('database.url', 'must be a postgres:// connection string');
  }
  const integer = (path: string, value: unknown, min: number, max: number) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(path, `must be an integer from ${min} to ${max}`);
  };
  integer('auth.tokenCacheSeconds', d.auth?.tokenCacheSeconds, 0, 3600);
  integer('database.maxConnections', d.database?.maxConnections, 1, 1000);
  integer('database.statementTimeoutMs', d.database?.statementTimeoutMs, 0, 86_400_000);
  integer('database.connectTimeoutMs', d.database?.connectTimeoutMs, 100, 60_000);
  integer('http.bodyLimit', d.http?.bodyLimit, 1, 1024 ** 3);
  integer('files.maxBytes', d.files?.maxBytes, 1, 1024 ** 4);
  if (d.files?.dir !== undefined && (typeof d.files.dir !== 'string' || d.files.dir.trim() === '')) fail('files.dir', 'must be a folder path');
  const store = d.files?.store as unknown as Record<string, unknown> | undefined;
  if (store !== undefined) {
    for (const method of ['put', 'get', 'delete']) {
      if (typeof store?.[method] !== 'function') fail('files.store', `must implement FileStore (no ${method}() method)`);
    }
  }
  integer('http.requestTimeoutMs', d.http?.requestTimeoutMs, 0, 3_600_000);
  integer('http.connectionTimeoutMs', d.http?.connectionTimeoutMs, 0, 3_600_000);
  const pressure = d.http?.underPressure;
  if (pressure !== undefined && pressure !== false) {
    if (!pressure || typeof pressure !== 'object') fail('http.underPressure', 'must be false or an object of limits');
    const known = ['maxEventLoopDelayMs', 'maxHeapUsedBytes', 'maxRssBytes', 'maxEventLoopUtilization', 'retryAfterSeconds', 'sampleIntervalMs'];
    for (const key of Object.keys(pressure)) if (!known.includes(key)) fail(`http.underPressure.${key}`, 'is not a known limit');
    integer('http.underPressure.maxEventLoopDelayMs', pressure.maxEventLoopDelayMs, 0, 60_000);
    integer('http.underPressure.maxHeapUsedBytes', pressure.maxHeapUsedBytes, 0, Number.MAX_SAFE_INTEGER);
    integer('http.underPressure.maxRssBytes', pressure.maxRssBytes, 0, Number.MAX_SAFE_INTEGER);
    integer('http.underPressure.retryAfterSeconds', pressure.retryAfterSeconds, 1, 3600);
    integer('http.underPressure.sampleIntervalMs', pressure.sampleIntervalMs, 10, 60_000);
    const elu = pressure.maxEventLoopUtilization;
    if (elu !== undefined && (typeof elu !== 'number' || !(elu >= 0 && elu <= 1))) fail('http.underPressure.maxEventLoopUtilization', 'must be a number from 0 to 1');
  }
}
