/**
 * Bad input never yields a 5xx, on any of the registry's routes: the shared `fuzzRoutes`
 * suite (routes from the OpenAPI document; unknown and malformed ids, NUL characters,
 * malformed, empty, wrongly typed, foreign and oversize bodies, missing required fields,
 * forged cursors) as a city admin, a reviewer, a supplier applicant and a unit operator.
 * Afterwards nothing has been written. Below it, the one check the shared suite lacks.
 */
import { kernelTables } from '@diandan/kernel';
import { actors, client, createTestServer, expectStatus, seedRegions, testActors, type Who } from '@diandan/testing';
import { fuzzRoutes, openApiOperations } from '@diandan/testing/fuzz';
import { describe, expect, it } from 'vitest';
import { supplierRegistry } from '../src/index.js';
import * as tables from '../src/schema.js';
import { applicant, approve, orgApplication } from './support.js';

const { cityAdmin } = testActors;
const reviewer = actors.reviewer('440100', 'bad-input-reviewer');
const supplier: Who = applicant('bad-input-applicant');
const isRegistryRoute = (op: { path: string }) => op.path.startsWith('/v1/supplier-') || op.path.startsWith('/v1/products/{id}/media');

const suite = fuzzRoutes({
  async setup() {
    const app = await createTestServer({ plugins: [supplierRegistry()] });
    await seedRegions(app);
    const call = client(app);
    // Some real data, two of each list at least, so that lookups and cursors run over real rows.
    const first = expectStatus(await call(supplier, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'application');
    expectStatus(await call(supplier, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'application 2');
    await approve(call, reviewer, first);
    return { app, known: { code: '440100', id: first.id as string } };
  },
  operations: isRegistryRoute,
  callers: {
    'a city admin': () => cityAdmin,
    'a reviewer': () => reviewer,
    'a supplier applicant': () => supplier,
    'a unit operator': () => actors.unitOperator('7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4c', '440103001001', 'bad-input-unit'),
  },
  // Valid bodies whose references point at nothing: refused after validation, so nothing is written.
  validBodies: {
    createSupplierApplication: orgApplication({ regionCode: '999999' }),
    updateSupplierApplication: { description: '改过的简介' },
    rejectSupplierApplication: { reasons: ['理由'] },
    requestSupplierChanges: { reasons: ['理由'] },
    suspendRegisteredSupplier: { reason: '理由' },
    reinstateRegisteredSupplier: { reason: '理由' },
    blacklistSupplier: { reason: '理由', until: '2099-01-01' },
    liftSupplierBlacklist: { reason: '理由' },
    addSupplierQualification: { type: '营业执照', number: 'X-1', issuer: '测试局', validFrom: '2026-01-01', validUntil: '2030-01-01', mandatory: true },
    acceptSupplierQualification: { reason: '理由' },
    rejectSupplierQualification: { reason: '理由' },
    rateSupplier: { orderId: '7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4d', punctuality: 5, quality: 5, cooperation: 5 },
  },
  tables: {
    applications: tables.applications,
    contacts: tables.contacts,
    qualifications: tables.qualifications,
    ratings: tables.ratings,
    citizenFeedback: tables.citizenFeedback,
    scores: tables.scores,
    applicationFiles: tables.applicationFiles,
    productMedia: tables.productMedia,
    suppliers: kernelTables.suppliers,
    files: kernelTables.files,
  },
  minOperations: 25,
  minLists: 3,
});

describe('the registry’s routes', () => {
  // fuzzRoutes counts operations; that most take an id is what makes its id checks bite here.
  it('more than twelve of them take a path parameter, so the id checks run over most routes', async () => {
    const operations = (await openApiOperations(suite.call)).filter(isRegistryRoute);
    expect(operations.filter((op) => op.parameters.some((p) => p.in === 'path')).length).toBeGreaterThan(12);
  });
});
