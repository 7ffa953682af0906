/**
 * Units' contact phone and name are personal data: stored sealed, answered and audited
 * masked, and legacy plain-text rows are sealed when the kernel starts.
 */
import { kernelTables, PersonalData, systemActor, type Unit } from '@diandan/kernel';
import { client, createTestDatabase, createTestServer, ifMatch, seedRegions, testActors, TEST_PERSONAL_DATA_KEY, type Call } from '@diandan/testing';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MOBILE = '13800138000';
const LANDLINE = '020-12345678';
const LEGACY = '13912345678';
const { cityAdmin } = testActors;
const { units, auditLog } = kernelTables;
const pd = new PersonalData({ key: TEST_PERSONAL_DATA_KEY });
const contextOf = (id: string) => `kernel.unit:${id}:contact-phone`;
const nameContextOf = (id: string) => `kernel.unit:${id}:contact-name`;
const NAME = '欧阳文华';

/** Every text a row holds, to search for a plain value in any column. */
const textOf = (row: unknown) => JSON.stringify(row);

describe('a unit’s contact phone', () => {
  let app: FastifyInstance;
  let call: Call;

  beforeAll(async () => {
    app = await createTestServer();
    call = client(app);
    await seedRegions(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  const rowOf = async (id: string) => (await app.diandan.database.db.select().from(units).where(eq(units.id, id)))[0]!;
  const auditOf = async (id: string) => app.diandan.database.db.select().from(auditLog).where(eq(auditLog.entityId, id));

  it('is stored sealed, never in plain text, and answered masked on create, read and list', async () => {
    const created = await call(cityAdmin, 'POST', '/v1/units', { regionCode: '440103', name: '号码站', kind: 'school', contactPhone: MOBILE });
    expect(created.status).toBe(201);
    const unit = created.body as Unit;
    expect(unit.contactPhone).toBe('138****8000');

    const row = await rowOf(unit.id);
    expect(row.legacyContactPhone).toBeNull();
    expect(PersonalData.isSealed(row.contactPhoneSealed)).toBe(true);
    expect(pd.decrypt(row.contactPhoneSealed!, contextOf(unit.id))).toBe(MOBILE);
    expect(row.contactPhoneMasked).toBe('138****8000');
    expect(textOf(row)).not.toContain(MOBILE);
    // Bound to its unit: the sealed value does not open as another unit's.
    expect(() => pd.decrypt(row.contactPhoneSealed!, contextOf('00000000-0000-4000-8000-000000000000'))).toThrow();

    expect((await call(cityAdmin, 'GET', `/v1/units/${unit.id}`)).body).toEqual(unit);
    const list = await call(cityAdmin, 'GET', '/v1/units?limit=200');
    expect(list.body.items.find((u: Unit) => u.id === unit.id)).toEqual(unit);
    expect(textOf(list.body)).not.toContain(MOBILE);
  });

  it('is changed by PATCH, sealed again, masked in the answer, and never in the audit log', async () => {
    const unit = (await call(cityAdmin, 'POST', '/v1/units', { regionCode: '440103', name: '改号站', kind: 'school', contactPhone: MOBILE })).body as Unit;
    const changed = await call(cityAdmin, 'PATCH', `/v1/units/${unit.id}`, { contactPhone: LANDLINE }, ifMatch(unit));
    expect(changed.status).toBe(200);
    expect(changed.body.contactPhone).toBe('020-****5678');
    const row = await rowOf(unit.id);
    expect(pd.decrypt(row.contactPhoneSealed!, contextOf(unit.id))).toBe(LANDLINE);
    expect(textOf(row)).not.toContain('12345678');

    // A change of another field keeps the phone.
    const renamed = await call(cityAdmin, 'PATCH', `/v1/units/${unit.id}`, { name: '改名站' }, ifMatch(changed.body));
    expect(renamed.body.contactPhone).toBe('020-****5678');

    const audit = await auditOf(unit.id);
    expect(audit.map((a) => a.action)).toEqual(['unit.create', 'unit.update', 'unit.update']);
    expect(audit[1]!.before).toMatchObject({ contactPhone: '138****8000' });
    expect(audit[1]!.after).toMatchObject({ contactPhone: '020-****5678' });
    for (const plain of [MOBILE, LANDLINE, '12345678', '0138000']) expect(textOf(audit)).not.toContain(plain);
    const served = await call(cityAdmin, 'GET', `/v1/audit-log?entityType=unit&entityId=${unit.id}`);
    expect(served.status).toBe(200);
    expect(textOf(served.body)).not.toContain(MOBILE);

    // null removes it entirely.
    const cleared = await call(cityAdmin, 'PATCH', `/v1/units/${unit.id}`, { contactPhone: null }, ifMatch(renamed.body));
    expect(cleared.body.contactPhone).toBeNull();
    expect(await rowOf(unit.id)).toMatchObject({ legacyContactPhone: null, contactPhoneSealed: null, contactPhoneMasked: null });
  });

  it('is masked by the audit log itself when a writer passes a plain phone or identity number', async () => {
    const { audit } = app.diandan.services;
    const actor = systemActor('kernel', { roles: ['city-admin'] });
    const entityId = `redaction-${Date.now()}`;
    await app.diandan.database.db.transaction(async (tx) => {
      await audit.record(
        {
          actor,
          entityType: 'test',
          entityId,
          action: 'test.redact',
          before: { contactPhone: MOBILE, contacts: [{ phone: LANDLINE, name: '陈' }], idNumber: '11010519491231002X', note: 'keeps 2024' },
          after: { phone: '138****8000', count: 3 },
        },
        { tx },
      );
    });
    const [record] = await auditOf(entityId);
    expect(record!.before).toEqual({ contactPhone: '138****8000', contacts: [{ phone: '020-****5678', name: '陈' }], idNumber: '**************002X', note: 'keeps 2024' });
    expect(record!.after).toEqual({ phone: '138****8000', count: 3 });
  });

  it('is described as masked in the OpenAPI document, as is the name', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.components.schemas.Unit.properties.contactPhone.description).toMatch(/masked/);
    expect(doc.components.schemas.Unit.properties.contactName.description).toMatch(/masked/);
  });

  it('keeps the contact’s name the same way: sealed, answered and audited masked, removable', async () => {
    const created = await call(cityAdmin, 'POST', '/v1/units', { regionCode: '440103', name: '姓名站', kind: 'school', contactName: NAME });
    expect(created.status).toBe(201);
    const unit = created.body as Unit;
    expect(unit.contactName).toBe('欧***');
    const row = await rowOf(unit.id);
    expect(row.legacyContactName).toBeNull();
    expect(pd.decrypt(row.contactNameSealed!, nameContextOf(unit.id))).toBe(NAME);
    expect(row.contactNameMasked).toBe('欧***');
    expect(textOf(row)).not.toContain(NAME);
    // Bound to its field too: the sealed name does not open as the unit's phone.
    expect(() => pd.decrypt(row.contactNameSealed!, contextOf(unit.id))).toThrow();

    const changed = await call(cityAdmin, 'PATCH', `/v1/units/${unit.id}`, { contactName: '李老师' }, ifMatch(unit));
    expect(changed.body.contactName).toBe('李**');
    const list = await call(cityAdmin, 'GET', '/v1/units?limit=200');
    expect(list.body.items.find((u: Unit) => u.id === unit.id).contactName).toBe('李**');
    const audit = await auditOf(unit.id);
    expect(audit[1]!.before).toMatchObject({ contactName: '欧***' });
    for (const plain of [NAME, '李老师']) {
      expect(textOf(audit)).not.toContain(plain);
      expect(textOf(list.body)).not.toContain(plain);
    }
    const cleared = await call(cityAdmin, 'PATCH', `/v1/units/${unit.id}`, { contactName: null }, ifMatch(changed.body));
    expect(cleared.body.contactName).toBeNull();
    expect(await rowOf(unit.id)).toMatchObject({ legacyContactName: null, contactNameSealed: null, contactNameMasked: null });
  });
});

describe('units stored before contacts were sealed', () => {
  it('are sealed and emptied at start, in batches, once, by several processes at once', async () => {
    const database = await createTestDatabase({ persistent: true });
    try {
      let app = await createTestServer({ database: database.config });
      await seedRegions(app);
      // What an older kernel left: plain phones (more than one batch), one empty string, one without.
      await app.diandan.database.db.execute(sql`
        insert into kernel.units (region_code, name, kind, contact_phone, contact_name)
        select '440103', 'legacy ' || n, 'school', ${LEGACY.slice(0, 7)} || lpad(n::text, 4, '0'), case when n % 2 = 0 then '联系人' || n end
        from generate_series(1, 450) as n`);
      await app.diandan.database.db.execute(sql`insert into kernel.units (region_code, name, kind, contact_phone) values ('440103', 'legacy empty', 'school', ''), ('440103', 'legacy none', 'school', null)`);
      await app.close();

      // Start again: on PostgreSQL two processes at once, sharing the work.
      const starts = database.driver === 'postgres' ? [createTestServer({ database: database.config }), createTestServer({ database: database.config })] : [createTestServer({ database: database.config })];
      const apps = await Promise.all(starts);
      for (const other of apps.slice(1)) await other.close();
      app = apps[0]!;
      try {
        const rows = await app.diandan.database.db.select().from(units).orderBy(units.name);
        expect(rows).toHaveLength(452);
        expect(rows.filter((r) => r.legacyContactPhone !== null || r.legacyContactName !== null)).toEqual([]);
        for (const row of rows.filter((r) => r.name.startsWith('legacy ') && /\d$/.test(r.name))) {
          const n = Number(row.name.slice('legacy '.length));
          const phone = `${LEGACY.slice(0, 7)}${String(n).padStart(4, '0')}`;
          expect(pd.decrypt(row.contactPhoneSealed!, contextOf(row.id))).toBe(phone);
          expect(row.contactPhoneMasked).toBe(`139****${String(n).padStart(4, '0')}`);
          if (n % 2 === 0) {
            expect(pd.decrypt(row.contactNameSealed!, nameContextOf(row.id))).toBe(`联系人${n}`);
            expect(row.contactNameMasked).toBe(`联${'*'.repeat(`系人${n}`.length)}`);
          } else expect(row.contactNameSealed).toBeNull();
          expect(row.version).toBe(1);
        }
        expect(rows.find((r) => r.name === 'legacy empty')).toMatchObject({ contactPhoneSealed: null, contactPhoneMasked: null });
        expect(rows.find((r) => r.name === 'legacy none')).toMatchObject({ contactPhoneSealed: null, contactPhoneMasked: null });

        const one = rows.find((r) => r.name === 'legacy 1')!;
        const got = await client(app)(cityAdmin, 'GET', `/v1/units/${one.id}`);
        expect(got.body.contactPhone).toBe('139****0001');
        const two = rows.find((r) => r.name === 'legacy 2')!;
        expect((await client(app)(cityAdmin, 'GET', `/v1/units/${two.id}`)).body.contactName).toBe('联***');
        // Nothing is left to do: sealing again finds nothing.
        expect(await app.diandan.services.units.sealLegacyContacts()).toBe(0);
      } finally {
        await app.close();
      }
    } finally {
      await database.drop();
    }
  });
});
