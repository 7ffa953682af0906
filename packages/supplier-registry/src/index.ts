/** @diandan/supplier-registry — cultural supplier onboarding, review, qualifications, ratings, quality tier and directory (文化供应商库). */
export { supplierRegistry, supplierRegistryPlugin } from './plugin.js';
export {
  supplierApplied,
  supplierApproved,
  supplierSuspended,
  supplierReinstated,
  supplierBlacklisted,
  qualificationExpiring,
  type SupplierRegistryEvent,
  type QualificationExpiringEvent,
} from './hooks.js';
export { applicationLifecycle, APPLICATION_STATES, APPLICATION_ACTIONS, APPLICATION_ACTORS, SUSPENSION_CODES, type ApplicationState, type ApplicationAction } from './lifecycle.js';
export {
  SupplierRegistry,
  RegistryProblems,
  REVIEWER_ROLES,
  type Application,
  type ApplicationInput,
  type ApplicationUpdate,
  type ApplicationActionInput,
  type Contact,
  type ContactInput,
  type Qualification,
  type QualificationInput,
} from './registry.js';
export { SupplierQualityService, type Rating, type ScoreConfig, type SupplierQuality, type DirectoryEntry } from './ratings.js';
export { isValidUscc, usccProblem, usccCheckCharacter, isValidIdNumber, idNumberProblem, idNumberCheckCharacter, USCC_CHARSET } from './codes.js';
export { ApplicationSchema, QualificationSchema } from './routes/applications.js';
export { RatingSchema, DirectoryEntrySchema, SupplierQualitySchema } from './routes/quality.js';
export { ProductMediaLibrary, MediaProblems, type ProductMediaFile, type ProductMediaSummary, type MediaKind } from './product-media.js';
export { ProductMediaSchema } from './routes/media.js';
