import type { FastifyServerOptions } from 'fastify';
import type { Static } from 'typebox';
import type { DatabaseConfig } from './db/database.js';
import { DiandanStartupError, StartupErrorCodes } from './errors.js';
import type { KernelConfigSchema } from './core/plugin.js';
import type { PluginInstance } from './plugin/define.js';
import type { AuthConfig } from './auth/tokens.js';

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
  /** HTTP settings passed on to Fastify. */
  readonly http?: {
    /** Largest accepted request body in bytes (default 1 MiB). */
    readonly bodyLimit?: number;
    /** Trust `X-Forwarded-*` from a proxy in front (default false). */
    readonly trustProxy?: boolean;
  };
  /** Fastify/pino logger options, or false to log nothing. */
  readonly logger?: FastifyServerOptions['logger'];
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
  if (d.database?.url !== undefined && d.database.url !== '' && !/^postgres(ql)?:\/\//.test(d.database.url)) {
    fail('database.url', 'must be a postgres:// connection string');
  }
}
