import { eq } from 'drizzle-orm';
import {
  ADMIN_ROLES,
  DomainError,
  hasRole,
  inScope,
  notFound,
  type Actor,
  type Executor,
  type KernelServices,
} from '@diandan/kernel';
import { METHODS, type ProcurementMethod, type TenderState } from './lifecycle.js';
import { projects, type DocumentData, type ItemData, type LotData } from './schema.js';

export type ProjectRow = typeof projects.$inferSelect;

/** The kernel services this package uses. */
export type Kernel = Pick<KernelServices, 'regions' | 'units' | 'suppliers' | 'products' | 'orders' | 'audit' | 'categories' | 'files'>;

/** A procurement project (采购项目) as the API shows it. */
export interface Project {
  id: string;
  buyerUnitId: string;
  regionCode: string;
  title: string;
  description: string;
  category: string;
  method: ProcurementMethod;
  /** OCDS `procurementMethod`. */
  procurementMethod: 'open' | 'selective' | 'limited' | 'direct';
  procurementMethodDetails: string;
  rationale: string | null;
  framework: boolean;
  estimate: number;
  lots: LotData[];
  items: ItemData[];
  documents: DocumentData[];
  /** Only shown to the buyer's administrators. */
  invitedSupplierIds?: string[];
  /** Only shown to the buyer's administrators. */
  panel?: string[];
  priceWeight: number;
  qualityWeight: number;
  standstillDays: number;
  enquiryPeriod: { startDate: string | null; endDate: string };
  tenderPeriod: { startDate: string | null; endDate: string };
  status: TenderState;
  statusReason: string | null;
  publishedAt: string | null;
  openedAt: string | null;
  createdAt: string;
  version: number;
}

/** An administrator (city or district) whose subtree holds the project's buyer. */
export function isBuyerAdmin(actor: Actor | null | undefined, row: Pick<ProjectRow, 'regionPath'>): boolean {
  return !!actor && hasRole(actor, ADMIN_ROLES) && inScope(actor, row.regionPath);
}

export function projectNotFound(id: string): DomainError {
  return notFound('PROCUREMENT_PROJECT_NOT_FOUND', `Procurement project ${id} does not exist`);
}

/** Loads a project for an update, locked; drafts are invisible outside the buyer's administrators. */
export async function lockProject(tx: Executor, id: string, actor: Actor | null): Promise<ProjectRow> {
  const [row] = await tx.select().from(projects).where(eq(projects.id, id)).for('update');
  if (!row || !canSee(actor, row)) throw projectNotFound(id);
  return row;
}

/** Loads a project for a read. */
export async function readProject(db: Executor, id: string, actor: Actor | null): Promise<ProjectRow> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  if (!row || !canSee(actor, row)) throw projectNotFound(id);
  return row;
}

/** Published projects are public notices; drafts (and drafts cancelled unpublished) only for the buyer's administrators. */
export function canSee(actor: Actor | null, row: ProjectRow): boolean {
  return row.publishedAt !== null || isBuyerAdmin(actor, row);
}

export function requireBuyerAdmin(actor: Actor, row: ProjectRow): void {
  if (!isBuyerAdmin(actor, row)) {
    throw new DomainError('forbidden', 'PROCUREMENT_NOT_BUYER_ADMIN', 'Only city or district administrators over the buyer may do this');
  }
}

export function toProject(r: ProjectRow, actor: Actor | null): Project {
  const method = r.method as ProcurementMethod;
  const admin = isBuyerAdmin(actor, r);
  return {
    id: r.id,
    buyerUnitId: r.buyerUnitId,
    regionCode: r.regionCode,
    title: r.title,
    description: r.description,
    category: r.category,
    method,
    procurementMethod: METHODS[method].ocds,
    procurementMethodDetails: METHODS[method].name,
    rationale: r.rationale,
    framework: r.framework,
    estimate: r.estimate,
    lots: r.lots,
    items: r.items,
    documents: r.documents,
    ...(admin ? { invitedSupplierIds: r.invitedSupplierIds, panel: r.panel } : {}),
    priceWeight: r.priceWeight,
    qualityWeight: r.qualityWeight,
    standstillDays: r.standstillDays,
    enquiryPeriod: { startDate: r.enquiryStart?.toISOString() ?? null, endDate: r.enquiryEnd.toISOString() },
    tenderPeriod: { startDate: r.enquiryStart?.toISOString() ?? null, endDate: r.tenderEnd.toISOString() },
    status: r.status as TenderState,
    statusReason: r.statusReason,
    publishedAt: r.publishedAt?.toISOString() ?? null,
    openedAt: r.openedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    version: r.version,
  };
}

/** What audit records and events say about a project. */
export function auditRegion(r: ProjectRow): { code: string; path: string } {
  return { code: r.regionCode, path: r.regionPath };
}

/** The supplier an actor acts for, when it is a supplier user. */
export function supplierOf(actor: Actor | null | undefined): string | undefined {
  return actor && hasRole(actor, ['supplier']) && actor.supplierId ? actor.supplierId : undefined;
}

/** May this supplier take part (enquire, bid)? Open tenders: any active supplier; others: the invited ones. */
export async function requireEligibleSupplier(kernel: Kernel, tx: Executor, row: ProjectRow, actor: Actor): Promise<string> {
  const supplierId = supplierOf(actor);
  if (!supplierId) throw new DomainError('forbidden', 'PROCUREMENT_SUPPLIERS_ONLY', 'Only supplier users take part in a tender');
  let status: string;
  try {
    status = (await kernel.suppliers.get(supplierId, { tx })).status;
  } catch {
    throw new DomainError('forbidden', 'PROCUREMENT_SUPPLIER_NOT_ACTIVE', 'Your supplier is not in the directory');
  }
  if (status !== 'active') {
    throw new DomainError('forbidden', 'PROCUREMENT_SUPPLIER_NOT_ACTIVE', 'Only active (approved) suppliers take part in a tender');
  }
  if (METHODS[row.method as ProcurementMethod].restricted && !row.invitedSupplierIds.includes(supplierId)) {
    throw new DomainError('forbidden', 'PROCUREMENT_NOT_INVITED', 'This procurement is restricted to invited suppliers');
  }
  return supplierId;
}
