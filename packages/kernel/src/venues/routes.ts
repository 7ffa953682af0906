import Type from 'typebox';
import type { Database } from '../db/database.js';
import { directoryRoutes, listKey, withKinds } from '../directory/routes.js';
import type { ExtensionRegistry } from '../extensions/extensions.js';
import { model } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import type { OpenList } from '../plugin/lists.js';
import type { VenueService } from './venues.js';

const Location = Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lng: Type.Number({ minimum: -180, maximum: 180 }) });

const VenueSchema = model(
  'Venue',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    capacity: Type.Integer(),
    address: Type.String(),
    location: Type.Union([Location, Type.Null()]),
    version: Type.Integer(),
  }),
);

/** The Venue model of a deployment: its own venue kinds. */
export const venueModel = (kinds: OpenList) => withKinds(VenueSchema, kinds);

/** Venues (场馆): create, read, list and change within the caller's region subtree. */
export function venueRoutes(app: DiandanApp, services: { venues: VenueService; kinds: OpenList; extensions: ExtensionRegistry }, db: Database): void {
  directoryRoutes(
    app,
    {
      record: 'venue',
      plural: 'venues',
      title: 'Venue',
      model: VenueSchema,
      fields: {
        regionCode: Type.String({ minLength: 1, maxLength: 32 }),
        name: Type.String({ minLength: 1, maxLength: 200 }),
        kind: listKey(services.kinds),
        capacity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        address: Type.String({ minLength: 1, maxLength: 300 }),
        location: Type.Optional(Type.Union([Location, Type.Null()])),
      },
      filters: { minCapacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) },
      service: services.venues,
      kinds: services.kinds,
      extensions: services.extensions,
      complete: (fields) => ({ ...fields, location: fields.location ?? null }),
    },
    db,
  );
}
