import { createHook } from '@diandan/kernel';

/** What a project event carries: the project's public view. */
export interface ProjectEvent {
  readonly projectId: string;
  readonly buyerUnitId: string;
  readonly regionCode: string;
  readonly method: string;
  readonly status: string;
  readonly actorId: string;
}

/** A tender was published (招标公告). */
export const tenderPublished = createHook<ProjectEvent>('procurement.tender.published');
/** Awards were made (中标公示): the standstill period runs. */
export const tenderAwarded = createHook<ProjectEvent & { readonly awards: readonly { awardId: string; lotId: string; supplierId: string | null; status: string }[] }>(
  'procurement.tender.awarded',
);
/** A contract was signed (合同签订). */
export const contractSigned = createHook<{ readonly contractId: string; readonly projectId: string; readonly supplierId: string; readonly value: number; readonly actorId: string }>(
  'procurement.contract.signed',
);
/** A bid was submitted. Carries no content: the bid is sealed. */
export const bidSubmitted = createHook<{ readonly bidId: string; readonly projectId: string; readonly lotId: string; readonly supplierId: string; readonly commitment: string }>(
  'procurement.bid.submitted',
);
/** A project was cancelled. */
export const projectCancelled = createHook<ProjectEvent & { readonly reason: string }>('procurement.project.cancelled');
