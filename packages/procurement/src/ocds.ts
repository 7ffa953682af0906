import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { kernelTables, type Database, type Executor } from '@diandan/kernel';
import type { ProcurementClock } from './clock.js';
import { METHODS, type ProcurementMethod } from './lifecycle.js';
import { amendments, awards, bids, callOffs, contracts, enquiries, projects, releases } from './schema.js';
import { projectNotFound, type ProjectRow } from './support.js';

/** OCDS 1.1, pinned to the 1.1.5 schema. */
export const OCDS_VERSION = '1.1';
export const OCDS_SCHEMA = {
  releasePackage: 'https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json',
  recordPackage: 'https://standard.open-contracting.org/schema/1__1__5/record-package-schema.json',
  release: 'https://standard.open-contracting.org/schema/1__1__5/release-schema.json',
};
/** The extensions whose fields the export uses (lots, bid statistics, framework agreements). */
export const OCDS_EXTENSIONS = [
  'https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json',
  'https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json',
  'https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/master/extension.json',
];

/** Release tags this package emits (OCDS releaseTag codelist). */
export type ReleaseTag = 'planning' | 'tender' | 'tenderAmendment' | 'tenderUpdate' | 'tenderCancellation' | 'award' | 'awardUpdate' | 'contract' | 'implementation';

export interface OcdsConfig {
  /** The registered ocid prefix: `ocds-` and 6 characters. */
  ocidPrefix: string;
  publisher: { name: string; uri?: string | undefined };
  /** Where the API is served, for the packages' `uri`s. */
  publicUrl: string;
  license?: string | undefined;
  publicationPolicy?: string | undefined;
}

type Json = Record<string, unknown>;

const CURRENCY = 'CNY';
const money = (amount: number) => ({ amount, currency: CURRENCY });
const unitParty = (id: string) => `DIANDAN-UNIT-${id}`;
const supplierParty = (id: string) => `DIANDAN-SUPPLIER-${id}`;

const TENDER_STATUS: Record<string, string> = {
  draft: 'planning',
  published: 'active',
  tendering: 'active',
  evaluation: 'active',
  awarded: 'complete',
  complete: 'complete',
  cancelled: 'cancelled',
  unsuccessful: 'unsuccessful',
};

/**
 * The OCDS export. A release is frozen when its stage happens (OCDS releases are
 * immutable): `record` builds the project's picture as of that moment inside the
 * transition's transaction and stores it; the packages are read from what was stored.
 */
export class OcdsService {
  constructor(
    private readonly db: Database,
    private readonly config: OcdsConfig,
    private readonly clock: ProcurementClock,
  ) {}

  ocid(projectId: string): string {
    return `${this.config.ocidPrefix}-${projectId}`;
  }

  /** Builds and stores the release of a stage; called inside the stage's transaction. */
  async record(tx: Executor, projectId: string, tag: ReleaseTag, extra: { amendmentId?: number } = {}): Promise<void> {
    const [last] = await tx.select({ seq: releases.seq, id: sql<string>`${releases.body}->>'id'`, tag: releases.tag }).from(releases).where(eq(releases.projectId, projectId)).orderBy(desc(releases.seq)).limit(1);
    const seq = (last?.seq ?? 0) + 1;
    const id = `${this.ocid(projectId)}-${String(seq).padStart(3, '0')}-${tag}`;
    if (extra.amendmentId !== undefined) {
      const [previous] = await tx
        .select({ id: sql<string>`${releases.body}->>'id'` })
        .from(releases)
        .where(and(eq(releases.projectId, projectId), inArray(releases.tag, ['tender', 'tenderAmendment'])))
        .orderBy(desc(releases.seq))
        .limit(1);
      await tx.update(amendments).set({ amendsReleaseId: previous?.id ?? null, releaseId: id }).where(eq(amendments.id, extra.amendmentId));
    }
    const date = (await this.clock.now(tx)).toISOString();
    const body = await this.build(tx, projectId, { id, date, tag });
    await tx.insert(releases).values({ projectId, seq, tag, date: new Date(date), body });
  }

  /** The project's release package (public once the tender is published). */
  async releasePackage(projectId: string): Promise<Json> {
    const stored = [...(await this.stored(projectId)), ...(await this.callOffReleases(projectId))];
    return {
      uri: this.uri(projectId, 'releases'),
      version: OCDS_VERSION,
      extensions: OCDS_EXTENSIONS,
      publishedDate: latestDate(stored),
      publisher: this.publisher(),
      ...(this.config.license ? { license: this.config.license } : {}),
      ...(this.config.publicationPolicy ? { publicationPolicy: this.config.publicationPolicy } : {}),
      releases: stored,
    };
  }

  /** The project's record package: linked releases and the compiled release (OCDS merge). */
  async recordPackage(projectId: string): Promise<Json> {
    const stored = await this.stored(projectId);
    const calls = await this.callOffReleases(projectId);
    const packageUri = this.uri(projectId, 'releases');
    const compiled = compile(stored);
    return {
      uri: this.uri(projectId, 'record'),
      version: OCDS_VERSION,
      extensions: OCDS_EXTENSIONS,
      publishedDate: latestDate([...stored, ...calls]),
      publisher: this.publisher(),
      ...(this.config.license ? { license: this.config.license } : {}),
      ...(this.config.publicationPolicy ? { publicationPolicy: this.config.publicationPolicy } : {}),
      packages: [packageUri],
      records: [
        {
          ocid: this.ocid(projectId),
          releases: stored.map((r) => ({ url: `${packageUri}#${String(r.id)}`, date: r.date, tag: r.tag })),
          compiledRelease: compiled,
        },
        // Each call-off is a contracting process of its own (OCDS 1.1 framework guidance).
        ...calls.map((r) => ({
          ocid: String(r.ocid),
          releases: [{ url: `${packageUri}#${String(r.id)}`, date: r.date, tag: r.tag }],
          compiledRelease: compile([r]),
        })),
      ],
    };
  }

  /** The ocid of a call-off's own contracting process. */
  callOffOcid(callOffId: string): string {
    return `${this.config.ocidPrefix}-${callOffId}`;
  }

  /**
   * The release of a framework call-off (框架协议下单), frozen when it is placed. OCDS 1.1
   * models each call-off as a separate contracting process: its own ocid, the ordering
   * unit as buyer, an award and a contract to the framework supplier, no competition
   * (`direct`), and `relatedProcesses` with relationship `framework` to the framework
   * agreement's ocid. Later order states live in the kernel's order routes.
   */
  callOffRelease(input: {
    callOffId: string;
    orderId: string;
    framework: { projectId: string; title: string; contractId: string };
    unit: { id: string; name: string };
    supplier: { id: string; name: string };
    product: { id: string; title: string };
    cost: number;
    window: { start: string; end: string };
    date: Date;
  }): Json {
    const ocid = this.callOffOcid(input.callOffId);
    const buyer = { id: unitParty(input.unit.id), name: input.unit.name };
    const supplier = { id: supplierParty(input.supplier.id), name: input.supplier.name };
    const date = input.date.toISOString();
    const awardId = `${input.callOffId}-award`;
    return {
      ocid,
      id: `${ocid}-001-callOff`,
      date,
      tag: ['award', 'contract'],
      initiationType: 'tender',
      language: 'zh',
      parties: [
        { ...buyer, roles: ['buyer', 'procuringEntity'] },
        { ...supplier, roles: ['supplier'] },
      ],
      buyer,
      tender: {
        id: input.callOffId,
        title: `${input.framework.title}：框架协议下单`,
        status: 'complete',
        items: [{ id: input.product.id, description: input.product.title, quantity: 1, unit: { name: '场' } }],
        value: money(input.cost),
        procurementMethod: 'direct',
        procurementMethodDetails: '框架协议下单（不再竞争）',
        procurementMethodRationale: `Call-off under the framework agreement ${this.ocid(input.framework.projectId)} (contract ${input.framework.contractId})`,
        mainProcurementCategory: 'services',
      },
      awards: [{ id: awardId, title: input.product.title, status: 'active', date, value: money(input.cost), suppliers: [supplier] }],
      contracts: [
        {
          id: input.callOffId,
          awardID: awardId,
          title: input.product.title,
          description: `Diandan order ${input.orderId}`,
          status: 'active',
          period: { startDate: new Date(input.window.start).toISOString(), endDate: new Date(input.window.end).toISOString() },
          value: money(input.cost),
          dateSigned: date,
        },
      ],
      relatedProcesses: [
        {
          id: '1',
          relationship: ['framework'],
          title: input.framework.title,
          scheme: 'ocid',
          identifier: this.ocid(input.framework.projectId),
          uri: this.uri(input.framework.projectId, 'record'),
        },
      ],
    };
  }

  private async callOffReleases(projectId: string): Promise<Json[]> {
    const rows = await this.db
      .select({ release: callOffs.release })
      .from(callOffs)
      .innerJoin(contracts, eq(contracts.id, callOffs.contractId))
      .where(eq(contracts.projectId, projectId))
      .orderBy(asc(callOffs.createdAt), asc(callOffs.id));
    return rows.flatMap((r) => (r.release ? [r.release] : []));
  }

  private async stored(projectId: string): Promise<Json[]> {
    const [p] = await this.db.select({ publishedAt: projects.publishedAt }).from(projects).where(eq(projects.id, projectId));
    if (!p?.publishedAt) throw projectNotFound(projectId);
    const rows = await this.db.select({ body: releases.body }).from(releases).where(eq(releases.projectId, projectId)).orderBy(asc(releases.seq));
    return rows.map((r) => r.body);
  }

  private uri(projectId: string, kind: 'releases' | 'record'): string {
    return `${this.config.publicUrl.replace(/\/$/, '')}/v1/procurement/projects/${projectId}/ocds/${kind}`;
  }

  private publisher(): Json {
    return { name: this.config.publisher.name, ...(this.config.publisher.uri ? { uri: this.config.publisher.uri } : {}) };
  }

  /** The project's picture now, as an OCDS release. */
  private async build(tx: Executor, projectId: string, head: { id: string; date: string; tag: ReleaseTag }): Promise<Json> {
    const [row] = (await tx.select().from(projects).where(eq(projects.id, projectId))) as [ProjectRow];
    const [buyer] = await tx.select({ id: kernelTables.units.id, name: kernelTables.units.name }).from(kernelTables.units).where(eq(kernelTables.units.id, row.buyerUnitId));
    // Only what the release shows: not the (sealed or opened) contents.
    const bidRows = await tx.select({ supplierId: bids.supplierId, lotId: bids.lotId, status: bids.status }).from(bids).where(eq(bids.projectId, projectId));
    const opened = row.openedAt !== null;
    const openedBids = opened ? bidRows.filter((b) => b.status === 'valid' || b.status === 'disqualified') : [];
    const awardRows = await tx.select().from(awards).where(eq(awards.projectId, projectId)).orderBy(asc(awards.date), asc(awards.id));
    const contractRows = await tx.select().from(contracts).where(eq(contracts.projectId, projectId)).orderBy(asc(contracts.signedAt));
    const amendmentRows = await tx.select().from(amendments).where(eq(amendments.projectId, projectId)).orderBy(asc(amendments.id));
    const [{ n: enquiryCount }] = (await tx.select({ n: sql<number>`count(*)::int` }).from(enquiries).where(eq(enquiries.projectId, projectId))) as [{ n: number }];
    const supplierIds = [...new Set([...openedBids.map((b) => b.supplierId), ...awardRows.flatMap((a) => (a.supplierId ? [a.supplierId] : []))])];
    const names = new Map(
      supplierIds.length
        ? (await tx.select({ id: kernelTables.suppliers.id, name: kernelTables.suppliers.name }).from(kernelTables.suppliers).where(inArray(kernelTables.suppliers.id, supplierIds))).map((s) => [s.id, s.name])
        : [],
    );
    const buyerRef = { id: unitParty(row.buyerUnitId), name: buyer?.name ?? row.buyerUnitId };
    const supplierRef = (id: string) => ({ id: supplierParty(id), name: names.get(id) ?? id });
    const tendererSet = new Set(openedBids.map((b) => b.supplierId));
    const tenderers = [...tendererSet];
    const awarded = new Set(awardRows.filter((a) => a.supplierId && a.status !== 'unsuccessful').map((a) => a.supplierId!));
    const parties = [
      { ...buyerRef, roles: ['buyer', 'procuringEntity'] },
      ...[...new Set([...tenderers, ...awarded])].map((id) => ({
        ...supplierRef(id),
        roles: [...(tendererSet.has(id) ? ['tenderer'] : []), ...(awarded.has(id) ? ['supplier'] : [])],
      })),
    ];
    const method = METHODS[row.method as ProcurementMethod];
    const tenderStatus = TENDER_STATUS[row.status] ?? 'active';
    const lotStatus = (lotId: string) => {
      if (row.status === 'cancelled') return 'cancelled';
      const lotAwards = awardRows.filter((a) => a.lotId === lotId);
      if (lotAwards.length === 0) return tenderStatus === 'complete' ? 'active' : tenderStatus;
      return lotAwards.some((a) => a.status === 'pending' || a.status === 'active') ? 'complete' : 'unsuccessful';
    };
    const tender: Json = {
      id: row.id,
      title: row.title,
      description: row.description,
      status: tenderStatus,
      items: row.items.map((i) => ({
        id: i.id,
        description: i.description,
        ...(i.category ? { classification: { scheme: 'X-DIANDAN-CATEGORY', id: i.category } } : {}),
        quantity: i.quantity,
        unit: { name: i.unit },
        relatedLot: i.relatedLot,
      })),
      value: money(row.estimate),
      procurementMethod: method.ocds,
      procurementMethodDetails: method.name,
      ...(method.ocds === 'direct' && row.rationale ? { procurementMethodRationale: row.rationale } : {}),
      mainProcurementCategory: 'services',
      awardCriteria: row.qualityWeight === 0 ? 'priceOnly' : 'ratedCriteria',
      awardCriteriaDetails: `价格分 = 最低有效报价 / 投标报价 × ${row.priceWeight}；质量分 = 评审委员平均分 / 100 × ${row.qualityWeight}`,
      submissionMethod: ['electronicSubmission'],
      tenderPeriod: { ...(row.publishedAt ? { startDate: row.publishedAt.toISOString() } : {}), endDate: row.tenderEnd.toISOString() },
      enquiryPeriod: { ...(row.publishedAt ? { startDate: row.publishedAt.toISOString() } : {}), endDate: row.enquiryEnd.toISOString() },
      hasEnquiries: enquiryCount > 0,
      ...(opened ? { numberOfTenderers: tenderers.length, tenderers: tenderers.map(supplierRef) } : {}),
      documents: row.documents.map((d) => ({
        id: d.id,
        documentType: d.documentType,
        title: d.title,
        ...(d.url ? { url: d.url } : d.fileId ? { url: `${this.config.publicUrl.replace(/\/$/, '')}/v1/procurement/projects/${row.id}/files/${d.fileId}` } : {}),
        ...(d.datePublished ? { datePublished: new Date(d.datePublished).toISOString() } : {}),
        language: 'zh',
      })),
      amendments: amendmentRows.map((a) => ({
        id: String(a.id),
        date: a.date.toISOString(),
        rationale: a.rationale,
        description: `变更：${a.changes.map((c) => c.field).join('、')}`,
        ...(a.amendsReleaseId ? { amendsReleaseID: a.amendsReleaseId } : {}),
        ...(a.releaseId ? { releaseID: a.releaseId } : {}),
      })),
      lots: row.lots.map((l) => ({ id: l.id, title: l.title, ...(l.description ? { description: l.description } : {}), value: money(l.value), status: lotStatus(l.id) })),
      ...(row.framework ? { techniques: { hasFrameworkAgreement: true } } : {}),
    };
    if (amendmentRows.length === 0) delete tender.amendments;
    const statistics = opened
      ? row.lots.flatMap((l) => {
          const lotBids = openedBids.filter((b) => b.lotId === l.id);
          return [
            { id: `${l.id}-bids`, measure: 'bids', value: lotBids.length, relatedLot: l.id },
            { id: `${l.id}-validBids`, measure: 'validBids', value: lotBids.filter((b) => b.status === 'valid').length, relatedLot: l.id },
            { id: `${l.id}-disqualifiedBids`, measure: 'disqualifiedBids', value: lotBids.filter((b) => b.status === 'disqualified').length, relatedLot: l.id },
          ];
        })
      : [];
    const awardList = awardRows.map((a) => ({
      id: a.id,
      title: `${row.title}（${row.lots.find((l) => l.id === a.lotId)?.title ?? a.lotId}）`,
      status: a.status,
      date: a.date.toISOString(),
      ...(a.value !== null ? { value: money(a.value) } : {}),
      ...(a.supplierId ? { suppliers: [supplierRef(a.supplierId)] } : {}),
      relatedLots: [a.lotId],
      ...(a.statusReason ? { description: a.statusReason } : {}),
    }));
    const contractList = contractRows.map((c) => ({
      id: c.id,
      awardID: c.awardId,
      title: c.title,
      status: c.status,
      period: { startDate: c.periodStart.toISOString(), endDate: c.periodEnd.toISOString() },
      value: money(c.value),
      dateSigned: c.signedAt.toISOString(),
      milestones: c.milestones.map((m) => ({
        id: m.id,
        title: m.title,
        type: 'delivery',
        dueDate: new Date(m.dueDate).toISOString(),
        status: m.status,
        ...(m.dateMet ? { dateMet: m.dateMet } : {}),
      })),
      implementation: {
        transactions: c.milestones
          .filter((m) => m.status === 'met')
          .map((m) => ({ id: `${c.id}-${m.id}`, date: m.dateMet!, value: money(m.value), payer: buyerRef, payee: supplierRef(c.supplierId) })),
      },
    }));
    return {
      ocid: this.ocid(row.id),
      id: head.id,
      date: head.date,
      tag: [head.tag],
      initiationType: 'tender',
      language: 'zh',
      parties,
      buyer: buyerRef,
      planning: { budget: { description: row.title, amount: money(row.estimate) } },
      tender,
      ...(statistics.length ? { bids: { statistics } } : {}),
      ...(awardList.length ? { awards: awardList } : {}),
      ...(contractList.length ? { contracts: contractList } : {}),
    };
  }
}

function latestDate(releases: Json[]): string {
  return releases.reduce((max, r) => (String(r.date) > max ? String(r.date) : max), String(releases[0]?.date ?? new Date(0).toISOString()));
}

/**
 * The compiled release (OCDS 1.1 merging): releases in date order; objects merge field
 * by field, arrays of objects that all have an `id` merge by identifier, other arrays
 * and values are replaced, `null` removes a field. The result is tagged `compiled`.
 */
export function compile(list: Json[]): Json {
  const sorted = [...list].sort((a, b) => String(a.date).localeCompare(String(b.date)));
  let merged: Json = {};
  for (const r of sorted) {
    // omitWhenMerged: the release's id, date and tag.
    const { id: _id, date: _date, tag: _tag, ...rest } = r;
    merged = mergeObject(merged, rest);
  }
  const last = sorted[sorted.length - 1];
  return { ...merged, id: `${String(last?.ocid)}-${String(last?.date)}`, date: last?.date, tag: ['compiled'] };
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeObject(base: Json, next: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(next)) {
    if (v === null) delete out[k];
    else if (isObject(v)) out[k] = mergeObject(isObject(out[k]) ? out[k] : {}, v);
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => isObject(x) && 'id' in x)) out[k] = mergeById(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v as Json[]);
    else out[k] = v;
  }
  return out;
}

/**
 * Merges arrays of objects by `id`, in linear time: an index from id to position, so a
 * release with a thousand tenderers costs a thousand lookups, not a million comparisons.
 * Base order is kept; new identifiers are appended in their order.
 */
export function mergeById(base: Json[], next: Json[]): Json[] {
  const out = base.filter((x) => isObject(x) && 'id' in x).map((x) => ({ ...x }));
  const at = new Map<string, number>();
  out.forEach((x, i) => {
    const key = String(x.id);
    if (!at.has(key)) at.set(key, i);
  });
  for (const item of next) {
    const key = String(item.id);
    const i = at.get(key);
    if (i !== undefined) out[i] = mergeObject(out[i]!, item);
    else {
      at.set(key, out.length);
      out.push(mergeObject({}, item));
    }
  }
  return out;
}
