/**
 * A JSON Schema (draft-04) of every OCDS 1.1 field this package emits, written from the
 * OCDS 1.1.5 documentation (release, release package and record package reference,
 * closed codelists) and from the lots, bids and techniques extensions' documentation.
 * Closed: an emitted field missing here fails the test, so the schema stays complete.
 */
const str = { type: 'string', minLength: 1 };
const dateTime = { type: 'string', format: 'date-time' };
const uri = { type: 'string', format: 'uri' };
// Draft-04 wants `required` non-empty when present.
const closed = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false });
const arrayOf = (items: unknown, extra: Record<string, unknown> = {}) => ({ type: 'array', items, ...extra });

const definitions = {
  OrganizationReference: closed({ id: str, name: str }, ['id', 'name']),
  Organization: closed(
    { id: str, name: str, roles: arrayOf({ enum: ['buyer', 'procuringEntity', 'supplier', 'tenderer', 'funder', 'enquirer', 'payer', 'payee', 'reviewBody', 'interestedParty'] }, { minItems: 1, uniqueItems: true }) },
    ['id', 'name', 'roles'],
  ),
  // Currency: ISO 4217; the export uses yuan.
  Value: closed({ amount: { type: 'number', minimum: 0 }, currency: { enum: ['CNY'] } }, ['amount', 'currency']),
  Period: closed({ startDate: dateTime, endDate: dateTime }),
  Document: closed({ id: str, documentType: str, title: str, url: uri, datePublished: dateTime, language: str }, ['id', 'documentType', 'title']),
  Item: closed(
    {
      id: str,
      description: str,
      classification: closed({ scheme: str, id: str }, ['scheme', 'id']),
      quantity: { type: 'number', minimum: 0 },
      unit: closed({ name: str }, ['name']),
      relatedLot: str,
    },
    ['id', 'description', 'quantity', 'unit'],
  ),
  Amendment: closed({ id: str, date: dateTime, rationale: str, description: str, amendsReleaseID: str, releaseID: str }, ['id', 'date', 'rationale']),
  Lot: closed(
    { id: str, title: str, description: str, value: { $ref: '#/definitions/Value' }, status: { enum: ['planning', 'planned', 'active', 'cancelled', 'unsuccessful', 'complete', 'withdrawn'] } },
    ['id', 'title', 'status'],
  ),
  BidStatistic: closed({ id: str, measure: str, value: { type: 'number', minimum: 0 }, relatedLot: str }, ['id', 'measure', 'value']),
  Milestone: closed(
    { id: str, title: str, type: { enum: ['preProcurement', 'approval', 'engagement', 'assessment', 'delivery', 'reporting', 'financing', 'payment'] }, dueDate: dateTime, dateMet: dateTime, status: { enum: ['scheduled', 'met', 'notMet', 'partiallyMet'] } },
    ['id', 'title', 'status'],
  ),
  Transaction: closed(
    { id: str, date: dateTime, value: { $ref: '#/definitions/Value' }, payer: { $ref: '#/definitions/OrganizationReference' }, payee: { $ref: '#/definitions/OrganizationReference' } },
    ['id', 'date', 'value', 'payer', 'payee'],
  ),
  Tender: closed(
    {
      id: str,
      title: str,
      description: str,
      status: { enum: ['planning', 'planned', 'active', 'cancelled', 'unsuccessful', 'complete', 'withdrawn'] },
      items: arrayOf({ $ref: '#/definitions/Item' }, { uniqueItems: true }),
      value: { $ref: '#/definitions/Value' },
      procurementMethod: { enum: ['open', 'selective', 'limited', 'direct'] },
      procurementMethodDetails: str,
      procurementMethodRationale: str,
      mainProcurementCategory: { enum: ['goods', 'works', 'services'] },
      awardCriteria: { enum: ['priceOnly', 'ratedCriteria'] },
      awardCriteriaDetails: str,
      submissionMethod: arrayOf({ enum: ['electronicSubmission', 'electronicAuction', 'written', 'inPerson'] }),
      tenderPeriod: { $ref: '#/definitions/Period' },
      enquiryPeriod: { $ref: '#/definitions/Period' },
      hasEnquiries: { type: 'boolean' },
      numberOfTenderers: { type: 'integer', minimum: 0 },
      tenderers: arrayOf({ $ref: '#/definitions/OrganizationReference' }, { uniqueItems: true }),
      documents: arrayOf({ $ref: '#/definitions/Document' }),
      amendments: arrayOf({ $ref: '#/definitions/Amendment' }),
      // Lots extension.
      lots: arrayOf({ $ref: '#/definitions/Lot' }, { minItems: 1 }),
      // Techniques extension.
      techniques: closed({ hasFrameworkAgreement: { type: 'boolean' } }, ['hasFrameworkAgreement']),
    },
    ['id', 'title', 'status', 'procurementMethod', 'procurementMethodDetails', 'tenderPeriod', 'enquiryPeriod', 'value', 'items', 'lots'],
  ),
  Award: closed(
    {
      id: str,
      title: str,
      description: str,
      status: { enum: ['pending', 'active', 'cancelled', 'unsuccessful'] },
      date: dateTime,
      value: { $ref: '#/definitions/Value' },
      suppliers: arrayOf({ $ref: '#/definitions/OrganizationReference' }, { uniqueItems: true }),
      // Lots extension (a call-off's award relates to no lot of its own process).
      relatedLots: arrayOf(str, { minItems: 1 }),
    },
    ['id', 'status', 'date'],
  ),
  Contract: closed(
    {
      id: str,
      awardID: str,
      title: str,
      description: str,
      status: { enum: ['pending', 'active', 'cancelled', 'terminated'] },
      period: { $ref: '#/definitions/Period' },
      value: { $ref: '#/definitions/Value' },
      dateSigned: dateTime,
      milestones: arrayOf({ $ref: '#/definitions/Milestone' }),
      implementation: closed({ transactions: arrayOf({ $ref: '#/definitions/Transaction' }) }, ['transactions']),
    },
    ['id', 'awardID', 'status', 'value', 'dateSigned'],
  ),
  // A framework call-off's tender: its own contracting process, without competition.
  CallOffTender: closed(
    {
      id: str,
      title: str,
      status: { enum: ['complete'] },
      items: arrayOf({ $ref: '#/definitions/Item' }, { minItems: 1, uniqueItems: true }),
      value: { $ref: '#/definitions/Value' },
      procurementMethod: { enum: ['direct'] },
      procurementMethodDetails: str,
      procurementMethodRationale: str,
      mainProcurementCategory: { enum: ['goods', 'works', 'services'] },
    },
    ['id', 'title', 'status', 'items', 'value', 'procurementMethod', 'procurementMethodRationale'],
  ),
  // relatedProcess codelist (closed): a call-off points at its framework agreement.
  RelatedProcess: closed(
    {
      id: str,
      relationship: arrayOf({ enum: ['framework', 'planning', 'parent', 'prior', 'unsuccessfulProcess', 'subContract', 'replacementProcess', 'renewalProcess'] }, { minItems: 1 }),
      title: str,
      scheme: { enum: ['ocid', 'ocds-procurement-id'] },
      identifier: { type: 'string', pattern: '^ocds-[a-z0-9]{6}-' },
      uri,
    },
    ['id', 'relationship', 'scheme', 'identifier'],
  ),
  Release: closed(
    {
      ocid: { type: 'string', pattern: '^ocds-[a-z0-9]{6}-' },
      id: { type: 'string', minLength: 1, pattern: '^[^#]+$' },
      date: dateTime,
      tag: arrayOf(
        { enum: ['planning', 'planningUpdate', 'tender', 'tenderAmendment', 'tenderUpdate', 'tenderCancellation', 'award', 'awardUpdate', 'awardCancellation', 'contract', 'contractUpdate', 'contractAmendment', 'implementation', 'implementationUpdate', 'contractTermination', 'compiled'] },
        { minItems: 1 },
      ),
      initiationType: { enum: ['tender'] },
      language: str,
      parties: arrayOf({ $ref: '#/definitions/Organization' }, { uniqueItems: true }),
      buyer: { $ref: '#/definitions/OrganizationReference' },
      planning: closed({ budget: closed({ description: str, amount: { $ref: '#/definitions/Value' } }, ['amount']) }),
      tender: { anyOf: [{ $ref: '#/definitions/Tender' }, { $ref: '#/definitions/CallOffTender' }] },
      relatedProcesses: arrayOf({ $ref: '#/definitions/RelatedProcess' }, { minItems: 1, uniqueItems: true }),
      // Bids extension.
      bids: closed({ statistics: arrayOf({ $ref: '#/definitions/BidStatistic' }) }, ['statistics']),
      awards: arrayOf({ $ref: '#/definitions/Award' }, { uniqueItems: true }),
      contracts: arrayOf({ $ref: '#/definitions/Contract' }, { uniqueItems: true }),
    },
    ['ocid', 'id', 'date', 'tag', 'initiationType'],
  ),
};

const packageMeta = {
  uri,
  version: { enum: ['1.1'] },
  extensions: arrayOf(uri),
  publishedDate: dateTime,
  publisher: closed({ name: str, uri }, ['name']),
  license: uri,
  publicationPolicy: uri,
};

export const releasePackageSchema = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  id: 'urn:diandan:procurement:test:release-package',
  definitions,
  ...closed({ ...packageMeta, releases: arrayOf({ $ref: '#/definitions/Release' }, { minItems: 1, uniqueItems: true }) }, ['uri', 'version', 'publishedDate', 'publisher', 'releases']),
};

export const recordPackageSchema = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  id: 'urn:diandan:procurement:test:record-package',
  definitions,
  ...closed(
    {
      ...packageMeta,
      packages: arrayOf(uri, { minItems: 1, uniqueItems: true }),
      records: arrayOf(
        closed(
          {
            ocid: str,
            releases: arrayOf(closed({ url: uri, date: dateTime, tag: arrayOf(str, { minItems: 1 }) }, ['url', 'date', 'tag']), { minItems: 1 }),
            compiledRelease: { $ref: '#/definitions/Release' },
          },
          ['ocid', 'releases', 'compiledRelease'],
        ),
        { minItems: 1 },
      ),
    },
    ['uri', 'version', 'publishedDate', 'publisher', 'records'],
  ),
};
