/** @diandan/procurement — government procurement of public cultural services (政府购买公共文化服务), sealed bids, OCDS 1.1. */
export { procurement, procurementPlugin, SEALING_KEY_ENV, type Services } from './plugin.js';
export { tenderPublished, tenderAwarded, contractSigned, bidSubmitted, projectCancelled, type ProjectEvent } from './hooks.js';
export { ProcurementClock } from './clock.js';
export { tenderLifecycle, TENDER_STATES, TENDER_ACTIONS, METHODS, METHOD_KEYS, type TenderState, type TenderAction, type ProcurementMethod } from './lifecycle.js';
export { ProjectService, type ProjectInput, type ProjectUpdate, type Enquiry, type Amendment } from './projects.js';
export { BidService, type Bid, type BidStatus } from './bids.js';
export { BidSealer, commitmentOf, DEVELOPMENT_SEALING_KEY, type BidContent, type BidBinding } from './sealing.js';
export { EvaluationService, type Award, type Declaration, type LotRanking, type RankedBid } from './evaluation.js';
export { ContractService, type Contract, type CallOff, type ContractInput } from './contracts.js';
export { OcdsService, compile as compileOcdsRelease, OCDS_VERSION, OCDS_SCHEMA, OCDS_EXTENSIONS, type OcdsConfig, type ReleaseTag } from './ocds.js';
export { DocumentFileService, type DocumentFileOptions } from './documents.js';
export { IndicatorService, type BuyerIndicators } from './indicators.js';
export { seedProcurementDemo, type DemoOptions } from './demo.js';
export type { Project } from './support.js';
export * from './routes/models.js';
