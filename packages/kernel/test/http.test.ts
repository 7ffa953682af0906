import { createTestServer, seedRegions } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeBoard } from './fixtures/notice-board/plugin.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestServer({ plugins: [noticeBoard()] });
  await seedRegions(app);
});
afterAll(() => app?.close());

const problemType = 'application/problem+json';

describe('problem+json errors', () => {
  it('names each invalid field of a schema-validation error', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/regions?limit=0&level=planet' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain(problemType);
    const body = res.json();
    expect(body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', type: 'urn:diandan:problem:validation-failed' });
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['querystring.level', 'querystring.limit']);
  });

  it('names a missing body property and rejects unknown ones, though the schema did not close the object', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/notices', payload: { body: 'x', colour: 'red' } });
    expect(res.statusCode).toBe(400);
    const fields = res.json().errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['body.colour', 'body.regionCode']);
  });

  it('answers an undecodable URL with a 400 problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/regions/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain(problemType);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_URL', status: 400 });
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notices',
      headers: { 'content-type': 'application/json' },
      payload: '{"regionCode": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_BODY', status: 400 });
  });

  it('answers an oversize body with 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notices',
      payload: { regionCode: '440103', body: 'x'.repeat(2 * 1024 * 1024) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers an unsupported media type with 415', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/notices', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing-here?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain(problemType);
    expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', instance: '/v1/nothing-here' });
  });

  it('answers unknown records with a domain 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/regions/999999' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'REGION_NOT_FOUND' });
  });

  it('hides unexpected errors behind a request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/notices-crash', headers: { 'x-request-id': 'req-abc-1' } });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body).toMatchObject({ code: 'INTERNAL_ERROR', requestId: 'req-abc-1' });
    expect(res.headers['x-request-id']).toBe('req-abc-1');
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('stack');
  });
});

describe('health and readiness', () => {
  it('reports the process alive', async () => {
    const res = await app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ok');
  });

  it('reports ready while the database answers', async () => {
    const res = await app.inject('/ready');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', database: process.env.DATABASE_URL ? 'postgres' : 'pglite' });
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and documents every route with tag, operationId, summary and responses', async () => {
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(10);
    const ids = new Set<string>();
    const tags = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toBeTruthy();
      expect(ids.has(op.operationId), `${where} repeats ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      expect(op.summary, where).toBeTruthy();
      expect(op.security, `${where} says who may call it`).toBeDefined();
      expect(op.tags?.length, where).toBeGreaterThan(0);
      for (const t of op.tags) expect(tags.has(t), `${where} tag ${t} is declared`).toBe(true);
      expect(Object.keys(op.responses), where).toContain('400');
      expect(op.responses['500'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
    }
    expect(doc.paths['/docs']).toBeUndefined();
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });

  it('registers shared models once and references them', async () => {
    const doc = (await app.inject('/openapi.json')).json();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Problem', 'Region', 'RegionDetail', 'Notice']));
    const children = doc.paths['/v1/regions/{code}/children'].get.responses['200'].content['application/json'].schema;
    expect(children.properties.items.items.$ref).toBe('#/components/schemas/Region');
  });

  it('serves the interactive reference at /docs', async () => {
    const res = await app.inject('/docs/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger-ui');
  });
});
