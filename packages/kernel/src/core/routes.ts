import Type from 'typebox';
import type { DiandanApp, PluginContext } from '../plugin/define.js';
import { Page, PageQuery, pageRequest } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { model, ref } from '../http/schemas.js';
import { categoryList } from './hooks.js';
import type { KernelServices } from './plugin.js';
import { REGION_CODE } from './regions.js';

export const RegionSchema = model(
  'Region',
  Type.Object(
  {
    code: Type.String({ description: 'Administrative code (GB/T 2260) or the deployment’s own code' }),
    parentCode: Type.Union([Type.String(), Type.Null()]),
    level: Type.String({ description: 'One of the deployment’s level names, e.g. `street`' }),
    name: Type.String(),
    population: Type.Union([Type.Integer(), Type.Null()]),
    centroid: Type.Union([Type.Object({ lat: Type.Number(), lng: Type.Number() }), Type.Null()]),
    synthetic: Type.Boolean({ description: 'True for invented demo regions' }),
  },
  ),
);

export const RegionDetailSchema = model(
  'RegionDetail',
  Type.Object(
  {
    ...RegionSchema.properties,
    geometry: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: 'GeoJSON Polygon or MultiPolygon',
    }),
  },
  ),
);

export const ReferenceEntrySchema = model(
  'ReferenceEntry',
  Type.Object(
  {
    key: Type.String(),
    name: Type.String({ description: 'Chinese name' }),
    nameEn: Type.String({ description: 'English name' }),
    description: Type.Optional(Type.String()),
  },
  ),
);

const ListEntrySchema = Type.Object({
  key: Type.String(),
  name: Type.String({ description: 'Chinese name' }),
  nameEn: Type.String({ description: 'English name' }),
  description: Type.Optional(Type.String()),
  source: Type.String({ description: '`kernel`, `deployment` or `plugin <name>`: who defined it' }),
});

export const DeploymentSchema = model(
  'Deployment',
  Type.Object({
    city: Type.String(),
    levels: Type.Array(Type.String()),
    kernelVersion: Type.String(),
    plugins: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })),
    roles: Type.Array(
      Type.Object({
        ...ListEntrySchema.properties,
        level: Type.Union([Type.String(), Type.Null()], { description: 'The region level tokens with this role must be signed at; null: any' }),
      }),
      { description: 'Roles tokens may carry; unknown roles in a token are ignored' },
    ),
    unitKinds: Type.Array(ListEntrySchema),
    venueKinds: Type.Array(ListEntrySchema),
    supplierKinds: Type.Array(ListEntrySchema),
  }),
);

const CodeParams = Type.Object({ code: Type.String({ pattern: REGION_CODE.source, description: 'Region code' }) });

/** Shared models of the kernel's routes, registered once on the root instance. */
export const kernelSchemas = [RegionSchema, RegionDetailSchema, ReferenceEntrySchema, DeploymentSchema];

/** HTTP routes of the kernel's reference data: thin wrappers over the services. */
export function kernelRoutes(
  app: DiandanApp,
  ctx: Pick<PluginContext<unknown, unknown>, 'deployment' | 'hooks'>,
  services: Pick<KernelServices, 'regions' | 'populationGroups' | 'categories' | 'deployment'>,
): void {
  const regionPage = Page(ref(RegionSchema), 'RegionPage');
  const entryPage = Page(ref(ReferenceEntrySchema), 'ReferenceEntryPage');

  app.get(
    '/v1/deployment',
    {
      schema: {
        tags: ['system'],
        operationId: 'getDeployment',
        security: [],
        summary: 'Describe this deployment: city, region levels and plugins',
        response: { 200: ref(DeploymentSchema), ...problemResponses() },
      },
    },
    async () => services.deployment(),
  );

  app.get(
    '/v1/regions',
    {
      schema: {
        tags: ['regions'],
        operationId: 'listRegions',
        security: [],
        summary: 'List regions, optionally of one level',
        querystring: Type.Object({ ...PageQuery.properties, level: Type.Optional(Type.String({ enum: [...ctx.deployment.levels] })) }),
        response: { 200: regionPage, ...problemResponses() },
      },
    },
    async (req) => services.regions.list({ level: req.query.level, page: pageRequest(req.query) }),
  );

  app.get(
    '/v1/regions/:code',
    {
      schema: {
        tags: ['regions'],
        operationId: 'getRegion',
        security: [],
        summary: 'Get one region with its boundary',
        params: CodeParams,
        response: { 200: ref(RegionDetailSchema), ...problemResponses(404) },
      },
    },
    async (req) => services.regions.get(req.params.code),
  );

  app.get(
    '/v1/regions/:code/children',
    {
      schema: {
        tags: ['regions'],
        operationId: 'listRegionChildren',
        security: [],
        summary: 'List the direct children of a region',
        params: CodeParams,
        querystring: PageQuery,
        response: { 200: regionPage, ...problemResponses(404) },
      },
    },
    async (req) => services.regions.children({ code: req.params.code, page: pageRequest(req.query) }),
  );

  app.get(
    '/v1/regions/:code/ancestors',
    {
      schema: {
        tags: ['regions'],
        operationId: 'listRegionAncestors',
        security: [],
        summary: 'List the ancestors of a region, root first',
        description: 'Bounded by the number of region levels, so never paginated.',
        params: CodeParams,
        response: { 200: Type.Object({ items: Type.Array(ref(RegionSchema)) }, { title: 'RegionAncestors' }), ...problemResponses(404) },
      },
    },
    async (req) => ({ items: await services.regions.ancestors(req.params.code) }),
  );

  app.get(
    '/v1/regions/:code/subtree',
    {
      schema: {
        tags: ['regions'],
        operationId: 'listRegionSubtree',
        security: [],
        summary: 'List a region and everything below it, depth-first',
        params: CodeParams,
        querystring: Type.Object({
          ...PageQuery.properties,
          depth: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, description: 'Levels below the region to include' })),
        }),
        response: { 200: regionPage, ...problemResponses(404) },
      },
    },
    async (req) => services.regions.subtree({ code: req.params.code, depth: req.query.depth, page: pageRequest(req.query) }),
  );

  app.get(
    '/v1/population-groups',
    {
      schema: {
        tags: ['reference-data'],
        operationId: 'listPopulationGroups',
        security: [],
        summary: 'List population groups (children, elderly, disabled, …)',
        querystring: PageQuery,
        response: { 200: entryPage, ...problemResponses() },
      },
    },
    async (req) => services.populationGroups.list({ page: pageRequest(req.query) }),
  );

  app.get(
    '/v1/categories',
    {
      schema: {
        tags: ['reference-data'],
        operationId: 'listCategories',
        security: [],
        summary: 'List product categories (performance, exhibition, lecture, …)',
        querystring: PageQuery,
        response: { 200: entryPage, ...problemResponses() },
      },
    },
    async (req) => {
      const result = await services.categories.list({ page: pageRequest(req.query) });
      return { ...result, items: await ctx.hooks.apply(categoryList, result.items, { cursor: req.query.cursor }) };
    },
  );
}

