import Type from 'typebox';
import type { Database } from '../db/database.js';
import { directoryRoutes, listKey, withKinds } from '../directory/routes.js';
import type { ExtensionRegistry } from '../extensions/extensions.js';
import { model } from '../http/schemas.js';
import type { DiandanApp } from '../plugin/define.js';
import type { OpenList } from '../plugin/lists.js';
import type { UnitService } from './units.js';

const UnitSchema = model(
  'Unit',
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    regionCode: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    contactName: Type.Union([Type.String(), Type.Null()], {
      description: 'The contact’s name, always masked (脱敏: `张**`); the name is stored encrypted and no route returns it in full',
    }),
    contactPhone: Type.Union([Type.String(), Type.Null()], {
      description: 'The contact’s phone, always masked (脱敏: `138****5678`, `020-****5678`); the number is stored encrypted and no route returns it in full',
    }),
    version: Type.Integer(),
  }),
);

/** The Unit model of a deployment: its own unit kinds. */
export const unitModel = (kinds: OpenList) => withKinds(UnitSchema, kinds);

/** Units (点单单位): create, read, list and change within the caller's region subtree. */
export function unitRoutes(app: DiandanApp, services: { units: UnitService; kinds: OpenList; extensions: ExtensionRegistry }, db: Database): void {
  directoryRoutes(
    app,
    {
      record: 'unit',
      plural: 'units',
      title: 'Unit',
      model: UnitSchema,
      fields: {
        regionCode: Type.String({ minLength: 1, maxLength: 32 }),
        name: Type.String({ minLength: 1, maxLength: 200 }),
        kind: listKey(services.kinds),
        contactName: Type.Optional(
          Type.Union([Type.String({ maxLength: 100 }), Type.Null()], {
            description: 'The full name (personal data): stored encrypted, answered and audited masked only; `null` removes it',
          }),
        ),
        contactPhone: Type.Optional(
          Type.Union([Type.String({ maxLength: 40 }), Type.Null()], {
            description: 'The full number (personal data): stored encrypted, answered and audited masked only; `null` removes it',
          }),
        ),
      },
      service: services.units,
      kinds: services.kinds,
      extensions: services.extensions,
    },
    db,
  );
}
