import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from './problem.js';
import { documentUploadRoute } from '../files/http.js';

/** Tags used by the kernel's own routes; plugins add theirs through `definePlugin({ tags })`. */
export const KERNEL_TAGS = [
  { name: 'system', description: 'Process health, readiness and deployment facts' },
  { name: 'regions', description: 'The region tree (city → district → street → community, as the deployment names its levels)' },
  { name: 'reference-data', description: 'Population groups and product categories' },
];

export interface OpenApiOptions {
  title: string;
  version: string;
  description: string;
  tags: readonly { name: string; description: string }[];
}

/**
 * Registers @fastify/swagger. It must come before any route: routes added earlier
 * are missing from the document. Shared models are added once with an `$id` and
 * appear under `components.schemas` by that name.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  app.addSchema(ProblemSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.title,
        version: options.version,
        description: options.description,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'This deployment' }],
      tags: [...options.tags],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A JWT with `sub`, `roles` (e.g. `district-admin`) and `region` (home region code)',
          },
        },
      },
    },
    // Upload routes' bodies are documented as multipart/form-data.
    transform: (route) => documentUploadRoute(route as never),
    refResolver: {
      // Name components after their `$id` (e.g. `Problem`) instead of `def-0`.
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });
}

/** Serves the document at `/openapi.json` and an interactive reference at `/docs`. */
export async function registerApiReference(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', { schema: { hide: true } }, async () => openApiDocument(app));
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
}

/** The OpenAPI document of a ready server, as served at `/openapi.json`. */
export function openApiDocument(app: FastifyInstance): Record<string, unknown> {
  return app.swagger() as unknown as Record<string, unknown>;
}
