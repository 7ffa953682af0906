/**
 * @diandan/kernel — the domain core, plugin contract, typed hooks, database layer and
 * HTTP conventions of Diandan (点单).
 */
export { KERNEL_VERSION } from './version.js';
export { DiandanStartupError, StartupErrorCodes, DomainError, ProblemCodes, notFound, forbidden } from './errors.js';
export type { StartupErrorCode, DomainErrorKind } from './errors.js';

export { definePlugin } from './plugin/define.js';
export type {
  ConfigOf,
  ContextOf,
  DepServices,
  DeploymentInfo,
  DiandanApp,
  Model,
  PluginContext,
  PluginContributions,
  PluginDefinition,
  PluginDeps,
  NoDeps,
  PluginInstance,
  PluginOptions,
  DeepPartial,
  PluginSpec,
  ServicesOf,
} from './plugin/define.js';
export { OpenList } from './plugin/lists.js';
export type { ListEntry, ListSource } from './plugin/lists.js';
export { BUILTIN_UNIT_KINDS, BUILTIN_VENUE_KINDS, BUILTIN_SUPPLIER_KINDS } from './plugin/deployment-lists.js';
export type { CallContext, ReadOptions } from './call.js';
export { resolvePlugins, KERNEL_PLUGIN_NAME } from './plugin/resolve.js';
export type { ResolvedPlugin } from './plugin/resolve.js';

export { createHook, createFilter, createGuard, on, filter, guard, guardBatch, frozenCopy, HookBus, HookHandlerError } from './hooks.js';
export type {
  EventHook,
  FilterHook,
  GuardHook,
  EventHandler,
  FilterHandler,
  GuardHandler,
  BatchGuardHandler,
  GuardItem,
  GuardContext,
  HookFailure,
  HookMeta,
  HookRegistration,
  EventMode,
  SubscriptionOptions,
  DurableSubscription,
} from './hooks.js';
export { extension, ExtensionRegistry, EXTENDABLE_RECORDS } from './extensions/extensions.js';
export type { ExtendableRecord, ExtensionData, ExtensionRegistration, ExtensionSpec, ExtensionWrite } from './extensions/extensions.js';
export type {
  Jobs,
  JobDefinition,
  JobRun,
  JobOptions,
  WorkerJobOptions,
  WorkerJobContext,
  SendOptions,
  ScheduleOptions,
  JobState,
  JobStatus,
  JobsConfig,
} from './jobs/jobs.js';
export { JobSchema } from './jobs/routes.js';

export {
  openDatabase,
  transaction,
  withTransaction,
  afterCommit,
  afterRollback,
  queryRows,
  prepareRows,
  transactionBatch,
  pgErrorCode,
  redact,
  OuterHandleInTransactionError,
  POSTGRES_DEFAULTS,
} from './db/database.js';
export { isDatabaseUnavailable, DatabaseUnavailableError, databaseErrorCode } from './db/availability.js';
export type { BoundStatement, Database, DatabaseConfig, DatabaseConnection, Executor, PreparedRows, Transaction } from './db/database.js';
export { migrate, MIGRATIONS_SCHEMA } from './db/migrate.js';
export type { MigrationReport, MigrationSource } from './db/migrate.js';

export { openApiDocument } from './http/openapi.js';
export { ProblemSchema, problemResponses, sendProblem, PROBLEM_CONTENT_TYPE, sendDatabaseUnavailable, DATABASE_RETRY_AFTER_SECONDS } from './http/problem.js';
export { scrubText, serializeError, safeLoggerOptions, LOG_LINE_LIMIT } from './http/logging.js';
export { postgresRateLimitStore } from './http/rate-limit-store.js';
export { HTTP_DEFAULTS } from './http/limits.js';
export type { Problem } from './http/problem.js';
export { Page, PageQuery, pageRequest, encodeCursor, decodeCursor, toPage, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './http/pagination.js';
export type { CursorKeyKind, PageOf, PageRequest } from './http/pagination.js';
export { model, ref } from './http/schemas.js';

export { kernel, KernelConfigSchema } from './core/plugin.js';
export type { KernelServices, DeploymentDescription } from './core/plugin.js';
export { regionsImported, kernelReady, categoryList } from './core/hooks.js';
export { RegionService, REGION_CODE } from './core/regions.js';
export type { GeoJsonGeometry, Region, RegionDetail, RegionInput, RegionLocation } from './core/regions.js';
export { ReferenceData, BUILTIN_CATEGORIES, BUILTIN_POPULATION_GROUPS } from './core/reference-data.js';
export type { ReferenceEntry } from './core/reference-data.js';
export { RegionSchema, RegionDetailSchema, ReferenceEntrySchema } from './core/routes.js';
export * as kernelTables from './tables.js';

export { ROLES, BUILTIN_ROLES, ADMIN_ROLES, REGION_STAFF, isRole, RoleRegistry } from './auth/roles.js';
export type { Role, BuiltinRole, RoleEntry } from './auth/roles.js';
export { hasRole, systemActor } from './auth/actor.js';
export type { Actor, SystemGrant } from './auth/actor.js';
export { inScope, withinScope } from './auth/scope.js';
export { AccessService } from './auth/access.js';
export { createTokenVerifier, signDevelopmentToken } from './auth/tokens.js';
export type { AuthConfig, TokenClaims, TokenVerifier } from './auth/tokens.js';
export { authorize, requireActor, BEARER } from './auth/http.js';
export { AuditLog, ANONYMOUS } from './audit/audit-log.js';
export type { AuditActor, AuditEntry, AuditRecord } from './audit/audit-log.js';
export { idempotentWrite, readIdempotencyKey, IdempotencyKeyRetention, IdempotencyKeyHeader } from './safe-writes/idempotency.js';
export type { IdempotentWriteOptions } from './safe-writes/idempotency.js';
export type { WriteResult } from './safe-writes/idempotency.js';
export { etagOf, sendVersion, expectedVersion, stale, IfMatchHeader } from './safe-writes/etag.js';
export { RegionalDirectory } from './directory/regional-directory.js';
export type { DirectoryQuery, DirectoryUpdate, RegionalRecord } from './directory/regional-directory.js';
export { UnitService } from './units/units.js';
export type { Unit, UnitInput } from './units/units.js';
export { VenueService } from './venues/venues.js';
export type { Venue, VenueInput } from './venues/venues.js';
export { SupplierService } from './suppliers/suppliers.js';
export type { Supplier, SupplierInput, SupplierStatusInput } from './suppliers/suppliers.js';
export { SUPPLIER_STATUSES } from './suppliers/schema.js';
export type { SupplierStatus } from './suppliers/schema.js';
export { supplierStatusChanged, supplierStatusGuard, supplierUpdated } from './suppliers/hooks.js';
export type { SupplierStatusEvent, SupplierStatusChange, SupplierUpdatedEvent } from './suppliers/hooks.js';

export { ProductService } from './products/products.js';
export type { Product, ProductSummary, ProductContent, ProductFilter, MediaLink } from './products/products.js';
export { productLifecycle, PRODUCT_STATES, PRODUCT_ACTORS, EDITABLE_STATES } from './products/lifecycle.js';
export type { ProductState, ProductAction } from './products/lifecycle.js';
export { productSubmitted, productListed, productDelisted, productTransitionGuard } from './products/hooks.js';
export { LibraryCache, LIBRARY_CHANNEL } from './products/list-cache.js';
export type { ProductEvent, ProductTransition } from './products/hooks.js';
export { defineStateMachine, nextState } from './workflow/state-machine.js';
export { BudgetService } from './budgets/budgets.js';
export type { Budget, BudgetDraw } from './budgets/budgets.js';
export { budgetAllocationGuard } from './budgets/hooks.js';
export type { BudgetAllocation } from './budgets/hooks.js';
export { OrderService } from './orders/orders.js';
export type { Order, OrderInput, OrderActionInput, DeliveryReport, Placed } from './orders/orders.js';
export { orderLifecycle, ORDER_STATES, ORDER_ACTORS } from './orders/lifecycle.js';
export type { OrderState, OrderAction } from './orders/lifecycle.js';
export {
  orderSubmitted,
  orderApproved,
  orderRejected,
  orderScheduled,
  orderDelivered,
  orderCancelled,
  orderClosed,
  orderApprovalChain,
  orderPlacementGuard,
  orderTransitionGuard,
} from './orders/hooks.js';
export type { OrderEvent, OrderPlacement, OrderTransition } from './orders/hooks.js';
export { FeedbackService } from './feedback/feedback.js';
export type { FeedbackInput, FeedbackSummary } from './feedback/feedback.js';
export { feedbackReceived } from './feedback/hooks.js';
export type { FeedbackEvent } from './feedback/hooks.js';
export type { StateMachine } from './workflow/state-machine.js';

export { PersonalData, PersonalDataError } from './personal-data/personal-data.js';
export type { PersonalDataConfig } from './personal-data/personal-data.js';
export { maskPhone, maskIdNumber, maskEmail, maskName, lastFour } from './personal-data/masks.js';
export { FileService, StoredFileSchema, safeFileName } from './files/files.js';
export type { StoredFile, SaveFileInput, FileReadOptions } from './files/files.js';
export type { UploadOnceInput, OrphanSweepInput } from './files/upload.js';
export { LocalDiskFileStore, FileNotStoredError } from './files/store.js';
export type { FileStore } from './files/store.js';
export { DEFAULT_FILE_TYPES } from './files/sniff.js';
export { DEFAULT_MAX_FILE_BYTES } from './files/config.js';
export type { FilesConfig } from './files/config.js';
export { FileResponses, readUpload, sendFile, UploadBodySchema } from './files/http.js';
export type { SendFileOptions } from './files/http.js';
export { defineDeployment, checkDeployment } from './deployment.js';
export type { Deployment, UnderPressureLimits } from './deployment.js';
export { deploymentMigrations, startKernel } from './kernel.js';
export type { Kernel, StartedPlugin, StartKernelOptions } from './kernel.js';
export { createServer } from './server.js';
export type { ServerOptions } from './server.js';
export { serve } from './listen.js';
export type { ListenOptions } from './listen.js';

/** TypeBox, re-exported so that plugins build schemas with the kernel's own copy. */
export { default as Type } from 'typebox';
export type { Static, TSchema, TObject } from 'typebox';
