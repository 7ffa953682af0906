/**
 * Start-up errors carry a stable code (like Fastify's `FST_ERR_*`) so a deployer can
 * search for it, and the plugin and config path that caused them.
 */
export const StartupErrorCodes = {
  PLUGIN_MISSING_DEPENDENCY: 'DIANDAN_ERR_PLUGIN_MISSING_DEPENDENCY',
  PLUGIN_CYCLE: 'DIANDAN_ERR_PLUGIN_CYCLE',
  PLUGIN_KERNEL_RANGE: 'DIANDAN_ERR_PLUGIN_KERNEL_RANGE',
  PLUGIN_DUPLICATE: 'DIANDAN_ERR_PLUGIN_DUPLICATE',
  PLUGIN_INVALID: 'DIANDAN_ERR_PLUGIN_INVALID',
  PLUGIN_CONFIG_INVALID: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
  PLUGIN_CONFIG_UNKNOWN_KEY: 'DIANDAN_ERR_PLUGIN_CONFIG_UNKNOWN_KEY',
  PLUGIN_INIT_FAILED: 'DIANDAN_ERR_PLUGIN_INIT_FAILED',
  DEPLOYMENT_INVALID: 'DIANDAN_ERR_DEPLOYMENT_INVALID',
  DATABASE_UNREACHABLE: 'DIANDAN_ERR_DATABASE_UNREACHABLE',
  MIGRATION_FAILED: 'DIANDAN_ERR_MIGRATION_FAILED',
  PERSONAL_DATA_KEY_MISSING: 'DIANDAN_ERR_PERSONAL_DATA_KEY_MISSING',
} as const;

export type StartupErrorCode = (typeof StartupErrorCodes)[keyof typeof StartupErrorCodes];

/** An error that stops the kernel from starting; `code` is stable, `plugin` names the culprit. */
export class DiandanStartupError extends Error {
  override readonly name = 'DiandanStartupError';
  readonly code: StartupErrorCode;
  readonly plugin: string | undefined;
  readonly path: string | undefined;

  constructor(
    code: StartupErrorCode,
    message: string,
    options: { plugin?: string; path?: string; cause?: unknown } = {},
  ) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.plugin = options.plugin;
    this.path = options.path;
  }
}

/**
 * What went wrong in domain logic, without HTTP: the HTTP layer maps each kind to a
 * status (`bad_request` → 400, `not_found` → 404, `conflict` → 409, `invalid` → 422, `forbidden` → 403, `unauthenticated` → 401,
 * `precondition_failed` → 412, `precondition_required` → 428, `too_large` → 413, `unsupported_media_type` → 415).
 */
export type DomainErrorKind =
  | 'bad_request'
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthenticated'
  | 'precondition_failed'
  | 'precondition_required'
  | 'too_large'
  | 'unsupported_media_type';

/** A failure a client can act on; `code` is stable and documented (e.g. `REGION_NOT_FOUND`). */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * The problem codes the kernel answers with, by name, so that a code used in several
 * places is one constant. Integrators find each explained in docs/integrators.md.
 */
export const ProblemCodes = {
  // Requests
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_BODY: 'MALFORMED_BODY',
  MALFORMED_URL: 'MALFORMED_URL',
  INVALID_CURSOR: 'INVALID_CURSOR',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  // Who is calling
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  INVALID_TOKEN: 'INVALID_TOKEN',
  FORBIDDEN: 'FORBIDDEN',
  // Safe writes
  PRECONDITION_REQUIRED: 'PRECONDITION_REQUIRED',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  INVALID_IDEMPOTENCY_KEY: 'INVALID_IDEMPOTENCY_KEY',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  REASON_REQUIRED: 'REASON_REQUIRED',
  // Records
  REGION_NOT_FOUND: 'REGION_NOT_FOUND',
  REGION_INVALID: 'REGION_INVALID',
  UNIT_NOT_FOUND: 'UNIT_NOT_FOUND',
  UNIT_INVALID: 'UNIT_INVALID',
  VENUE_NOT_FOUND: 'VENUE_NOT_FOUND',
  VENUE_INVALID: 'VENUE_INVALID',
  SUPPLIER_NOT_FOUND: 'SUPPLIER_NOT_FOUND',
  SUPPLIER_INVALID: 'SUPPLIER_INVALID',
  SUPPLIER_SUSPENDED: 'SUPPLIER_SUSPENDED',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  PRODUCT_INVALID: 'PRODUCT_INVALID',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  BUDGET_NOT_FOUND: 'BUDGET_NOT_FOUND',
  BUDGET_NOT_ALLOCATED: 'BUDGET_NOT_ALLOCATED',
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  // Files
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  FILE_TYPE_NOT_ALLOWED: 'FILE_TYPE_NOT_ALLOWED',
  FILE_MISSING: 'FILE_MISSING',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
} as const;

/** Shorthand for the commonest domain error. */
export function notFound(code: string, message: string): DomainError {
  return new DomainError('not_found', code, message);
}

/** The actor may see the record but not do this to it. */
export function forbidden(message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError('forbidden', ProblemCodes.FORBIDDEN, message, details);
}
