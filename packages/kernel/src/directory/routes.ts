import Type, { type TProperties } from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import { REGION_STAFF } from '../auth/roles.js';
import type { Database } from '../db/database.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import type { DiandanApp } from '../plugin/define.js';
import type { OpenList } from '../plugin/lists.js';
import { expectedVersion, IfMatchHeader, sendVersion } from '../safe-writes/etag.js';
import { IdempotencyKeyHeader, idempotentWrite } from '../safe-writes/idempotency.js';
import type { RegionalDirectory, RegionalRecord } from './regional-directory.js';

/** A string that must be one of a deployment list's keys (unit kinds, venue kinds, …). */
export function listKey(list: OpenList, description?: string) {
  return Type.Enum(list.keys(), { description: description ?? `One of this deployment’s ${list.name}s (see GET /v1/deployment)` });
}

/** `model` with `kind` restricted to the deployment's kinds (a copy). */
export function withKinds<T extends { $id: string; properties: object }>(model: T, kinds: OpenList): T {
  return { ...model, properties: { ...model.properties, kind: listKey(kinds) } };
}

/** The `extensions` a write's body brought (see `ExtensionRegistry.extendInput`), and the rest of it. */
export function splitExtensions<B extends object>(body: B): { fields: B; extensions: ExtensionData | undefined } {
  const { extensions, ...fields } = body as B & { extensions?: ExtensionData };
  return { fields: fields as B, extensions };
}

/** What makes one regional directory's routes (units, venues) differ from another's. */
export interface DirectoryRoutes<R extends RegionalRecord> {
  readonly record: 'unit' | 'venue';
  /** Path segment and OpenAPI tag: `units`, `venues`. */
  readonly plural: string;
  /** Name of the shared model (`Unit`), registered by the kernel. */
  readonly model: { readonly $id: string };
  readonly title: string;
  /** Body fields of a create; an update accepts any non-empty subset. */
  readonly fields: TProperties;
  /** List filters besides `region` and `kind`. */
  readonly filters?: TProperties;
  readonly service: RegionalDirectory<R, any, any>;
  readonly kinds: OpenList;
  readonly extensions: ExtensionRegistry;
  /** Completes a create body (defaults the schema leaves out). */
  readonly complete?: (fields: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * The routes of a regional directory: create (Idempotency-Key), list and get within
 * the caller's subtree, and a partial update with If-Match — one shape for units and
 * venues, so an integrator learns it once.
 */
export function directoryRoutes<R extends RegionalRecord>(app: DiandanApp, d: DirectoryRoutes<R>, db: Database): void {
  const { plural, record, service, extensions } = d;
  // The records' own types are the services'; the schema is the deployment's model.
  const Model = Type.Unsafe<any>(Type.Ref(d.model.$id));
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
  const operation = (verb: string, suffix = '') => `${verb}${d.title}${suffix}`;

  app.post(
    `/v1/${plural}`,
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: [plural],
        operationId: operation('create'),
        summary: `Register a ${record} in a region of your subtree`,
        security: BEARER,
        headers: IdempotencyKeyHeader,
        body: extensions.extendInput(record, Type.Object(d.fields)),
        response: { 201: Model, ...problemResponses(401, 403, 404, 422) },
      },
    },
    async (req, reply) => {
      const { fields, extensions: data } = splitExtensions(req.body as Record<string, unknown>);
      const created = await idempotentWrite(db, req, reply, async (tx) => ({
        status: 201,
        body: await service.create({ ...(d.complete ? d.complete(fields) : fields), extensions: data }, { actor: requireActor(req), tx, requestId: req.id }),
      }));
      sendVersion(reply, created.version);
      return created;
    },
  );

  app.get(
    `/v1/${plural}`,
    {
      preValidation: authorize(),
      schema: {
        tags: [plural],
        operationId: operation('list', 's'),
        summary: `List the ${plural} in your region subtree`,
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          region: Type.Optional(Type.String({ maxLength: 32, description: `Only ${plural} in this region’s subtree` })),
          kind: Type.Optional(listKey(d.kinds)),
          ...d.filters,
        }),
        response: { 200: Page(Model, `${d.title}Page`), ...problemResponses(401) },
      },
    },
    async (req) => {
      const { limit, cursor, ...filter } = req.query as Record<string, unknown> & { limit?: number; cursor?: string };
      return service.list({ ...filter, page: pageRequest({ limit, cursor }) }, { actor: requireActor(req) });
    },
  );

  app.get(
    `/v1/${plural}/:id`,
    {
      preValidation: authorize(),
      schema: {
        tags: [plural],
        operationId: operation('get'),
        summary: `Get one ${record}`,
        security: BEARER,
        params: IdParams,
        response: { 200: Model, ...problemResponses(401, 404) },
      },
    },
    async (req, reply) => {
      const found = await service.get(req.params.id, { actor: requireActor(req) });
      sendVersion(reply, found.version);
      return found;
    },
  );

  app.patch(
    `/v1/${plural}/:id`,
    {
      preValidation: authorize(...REGION_STAFF),
      schema: {
        tags: [plural],
        operationId: operation('update'),
        summary: `Change a ${record} of your subtree (needs If-Match)`,
        description: `Only the fields sent change. Moving the ${record} needs the new region in your subtree too.`,
        security: BEARER,
        params: IdParams,
        headers: IfMatchHeader,
        body: extensions.extendInput(record, Type.Partial(Type.Object(d.fields), { minProperties: 1 })),
        response: { 200: Model, ...problemResponses(401, 403, 404, 412, 422, 428) },
      },
    },
    async (req, reply) => {
      const { fields, extensions: data } = splitExtensions(req.body as Record<string, unknown>);
      const changed = await service.update(
        { id: req.params.id, expectedVersion: expectedVersion(req), changes: fields, extensions: data },
        { actor: requireActor(req), requestId: req.id },
      );
      sendVersion(reply, changed.version);
      return changed;
    },
  );
}
