import Type from 'typebox';
import { authorize, BEARER, requireActor } from '../auth/http.js';
import { ADMIN_ROLES } from '../auth/roles.js';
import type { AuditLog } from './audit-log.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';

const Json = Type.Unknown({ description: 'The record as it was (before) or became (after)' });

export const AuditRecordSchema = model(
  'AuditRecord',
  Type.Object({
    id: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    actorId: Type.String({ description: 'User id from the token; `anonymous` for citizens, `system` for the platform' }),
    actorRoles: Type.Array(Type.String()),
    actorRegion: Type.Union([Type.String(), Type.Null()]),
    entityType: Type.String(),
    entityId: Type.String(),
    action: Type.String({ description: 'e.g. `unit.create`, `order.approve`' }),
    regionCode: Type.Union([Type.String(), Type.Null()]),
    before: Json,
    after: Json,
    requestId: Type.Union([Type.String(), Type.Null()]),
  }),
);

/** The audit log (审计日志), for administrators, within their region subtree. */
export function auditRoutes(app: DiandanApp, services: { audit: AuditLog }): void {
  app.get(
    '/v1/audit-log',
    {
      preValidation: authorize(...ADMIN_ROLES),
      schema: {
        tags: ['audit'],
        operationId: 'listAuditRecords',
        summary: 'Read the audit log of your region subtree, newest first',
        security: BEARER,
        querystring: Type.Object({
          ...PageQuery.properties,
          entityType: Type.Optional(Type.String({ maxLength: 50 })),
          entityId: Type.Optional(Type.String({ maxLength: 100 })),
          actorId: Type.Optional(Type.String({ maxLength: 200, description: 'Only what this user (or `system:<plugin>`) did' })),
        }),
        response: { 200: Page(ref(AuditRecordSchema), 'AuditRecordPage'), ...problemResponses(401, 403) },
      },
    },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return services.audit.list({ ...filter, page: pageRequest({ limit, cursor }) }, { actor: requireActor(req) });
    },
  );
}
