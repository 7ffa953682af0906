import { randomBytes } from 'node:crypto';
import {
  DiandanStartupError,
  lastFour,
  maskEmail,
  maskIdNumber,
  maskName,
  maskPhone,
  PersonalData,
  PersonalDataError,
  StartupErrorCodes,
  type Deployment,
} from '@diandan/kernel';
import { createTestServer, TEST_PERSONAL_DATA_KEY } from '@diandan/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startupFailure } from './support.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64url');
const KEY_HEX = randomBytes(32).toString('hex');

describe('keyed hashes', () => {
  const pd = new PersonalData({ key: KEY_A });

  it('gives the same hash for the same purpose and value', () => {
    const a = pd.hash('identity-number', '44010619900101123X');
    expect(a).toBe(pd.hash('identity-number', '44010619900101123X'));
    expect(a).toBe(new PersonalData({ key: KEY_A }).hash('identity-number', '44010619900101123X'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs across values, purposes and keys', () => {
    const a = pd.hash('identity-number', '44010619900101123X');
    expect(pd.hash('identity-number', '44010619900101124X')).not.toBe(a);
    expect(pd.hash('phone', '44010619900101123X')).not.toBe(a);
    expect(new PersonalData({ key: KEY_B }).hash('identity-number', '44010619900101123X')).not.toBe(a);
  });

  it('is not the plain SHA-256 of the value, nor contains it', () => {
    const h = pd.hash('phone', '13812345678');
    expect(h).not.toContain('13812345678');
    expect(fc.sample(fc.string({ minLength: 1 }), 50).every((v) => pd.hash('phone', v) !== pd.hash('phone ', v))).toBe(true);
  });

  it('lists the hashes under every key during a rotation, current first', () => {
    const rotated = new PersonalData({ key: KEY_B, previousKeys: [KEY_A] });
    expect(rotated.hashes('phone', '13812345678')).toEqual([
      new PersonalData({ key: KEY_B }).hash('phone', '13812345678'),
      pd.hash('phone', '13812345678'),
    ]);
  });

  it('refuses an empty purpose', () => {
    expect(() => pd.hash('', 'x')).toThrow(TypeError);
  });
});

describe('encryption', () => {
  const pd = new PersonalData({ key: KEY_A });

  it('round-trips, with a random IV and a self-describing format', () => {
    for (const text of ['13812345678', '张三丰', '', 'a'.repeat(5000), '😀 emoji']) {
      const sealed = pd.encrypt(text, 'supplier:1:phone');
      expect(sealed).toMatch(/^pd1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/);
      expect(sealed.split('.')[1]).toBe(pd.keyId);
      expect(pd.decrypt(sealed, 'supplier:1:phone')).toBe(text);
      expect(PersonalData.isSealed(sealed)).toBe(true);
    }
    expect(pd.encrypt('13812345678')).not.toBe(pd.encrypt('13812345678'));
    expect(pd.encrypt('13812345678')).not.toContain('13812345678');
  });

  it('round-trips any string (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (text, context) => pd.decrypt(pd.encrypt(text, context), context) === text), { numRuns: 200 });
  });

  it('refuses a value that was tampered with', () => {
    const sealed = pd.encrypt('44010619900101123X', 'ctx');
    const parts = sealed.split('.');
    const flip = (s: string) => {
      const bytes = Buffer.from(s, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString('base64url');
    };
    for (const i of [2, 3, 4]) {
      const altered = parts.map((p, j) => (j === i ? flip(p) : p)).join('.');
      expect(() => pd.decrypt(altered, 'ctx'), `part ${i}`).toThrow(PersonalDataError);
    }
    expect(() => pd.decrypt('not sealed', 'ctx')).toThrow(PersonalDataError);
    expect(() => pd.decrypt(`${sealed}.x`, 'ctx')).toThrow(PersonalDataError);
  });

  it('refuses a wrong context and a wrong key, without showing the value', () => {
    const sealed = pd.encrypt('44010619900101123X', 'supplier:1:id-number');
    let error: unknown;
    try {
      pd.decrypt(sealed, 'supplier:2:id-number');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PersonalDataError);
    expect((error as Error).message).not.toContain('44010619900101123X');
    expect(() => pd.decrypt(sealed)).toThrow(PersonalDataError);
    expect(() => new PersonalData({ key: KEY_B }).decrypt(sealed, 'supplier:1:id-number')).toThrow(/unknown key/);
    // Same key id but another key (an id forged to match) still fails authentication.
    const other = new PersonalData({ key: KEY_B });
    const forged = other.encrypt('x', 'c').replace(`.${other.keyId}.`, `.${pd.keyId}.`);
    expect(() => pd.decrypt(forged, 'c')).toThrow(PersonalDataError);
  });

  it('opens values sealed with a previous key after a rotation, and seals with the new one', () => {
    const old = pd.encrypt('13812345678', 'phone');
    const rotated = new PersonalData({ key: KEY_B, previousKeys: [KEY_A] });
    expect(rotated.keyId).not.toBe(pd.keyId);
    expect(rotated.decrypt(old, 'phone')).toBe('13812345678');
    expect(rotated.needsRotation(old)).toBe(true);
    const fresh = rotated.encrypt('13812345678', 'phone');
    expect(fresh.split('.')[1]).toBe(rotated.keyId);
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(() => pd.decrypt(fresh, 'phone')).toThrow(PersonalDataError);
  });

  it('accepts hex, base64 and base64url keys', () => {
    for (const key of [KEY_HEX, KEY_A, KEY_B, randomBytes(48).toString('base64')]) {
      const pd2 = new PersonalData({ key });
      expect(pd2.decrypt(pd2.encrypt('x'))).toBe('x');
    }
    expect(() => new PersonalData({ key: 'short' })).toThrow(TypeError);
  });
});

describe('start-up', () => {
  const nodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });

  /** Fails before the database is opened, so the URL is never used. */
  const boot = (personalData: Deployment['personalData']) =>
    createTestServer({ database: { url: 'postgres://postgres@127.0.0.1:1/never-opened' }, personalData });

  it.each<[string, NonNullable<Deployment['personalData']>, string]>([
    ['a short key', { key: randomBytes(16).toString('base64') }, 'personalData.key'],
    ['63 hex characters', { key: KEY_HEX.slice(1) }, 'personalData.key'],
    ['not base64', { key: `${'k'.repeat(40)}!` }, 'personalData.key'],
    ['base64 with stray characters', { key: `${KEY_A.replace(/=+$/, '')}AB` }, 'personalData.key'],
    ['a bad previous key', { key: KEY_A, previousKeys: [KEY_B, 'nope'] }, 'personalData.previousKeys[1]'],
    ['an unknown setting', { key: KEY_A, keys: [] } as never, 'personalData.keys'],
  ])('refuses %s, naming the key and never showing it', async (_what, personalData, path) => {
    const error = await startupFailure(boot(personalData));
    expect(error).toBeInstanceOf(DiandanStartupError);
    expect(error).toMatchObject({ code: StartupErrorCodes.DEPLOYMENT_INVALID, path });
    expect(error.message).toContain(`deployment.${path}`);
    for (const key of [personalData.key, ...(personalData.previousKeys ?? [])]) expect(error.message).not.toContain(key);
  });

  it('refuses to start in production without a key', async () => {
    process.env.NODE_ENV = 'production';
    const error = await startupFailure(boot(undefined));
    expect(error).toBeInstanceOf(DiandanStartupError);
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_PERSONAL_DATA_KEY_MISSING', path: 'personalData.key' });
    expect(error.message).toContain('personalData.key');
  });

  it('uses the development key outside production, with one warning', async () => {
    const lines: string[] = [];
    const app = await createTestServer({
      personalData: undefined,
      logger: { level: 'warn', stream: { write: (line: string) => void lines.push(line) } },
    });
    try {
      const warnings = lines.filter((l) => l.includes('personalData.key'));
      expect(warnings).toHaveLength(1);
      const pd = app.diandan.services.personalData;
      expect(pd.decrypt(pd.encrypt('x', 'c'), 'c')).toBe('x');
      expect(pd.keyId).not.toBe(new PersonalData({ key: TEST_PERSONAL_DATA_KEY }).keyId);
    } finally {
      await app.close();
    }
  });

  it('gives plugins the deployment’s key through ctx.deps.kernel.personalData', async () => {
    const app = await createTestServer();
    try {
      const pd = app.diandan.services.personalData;
      expect(pd.hash('phone', '13812345678')).toBe(new PersonalData({ key: TEST_PERSONAL_DATA_KEY }).hash('phone', '13812345678'));
    } finally {
      await app.close();
    }
  });
});

const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const idNumber = fc.tuple(digits(17), fc.constantFrom(...'0123456789X')).map(([d, c]) => d + c);
const mobile = digits(10).map((d) => `1${d}`);

describe('masks', () => {
  it('shows only the last 4 characters of an identity number', () => {
    expect(maskIdNumber('44010619900101123X')).toBe('**************123X');
    expect(maskIdNumber('44010619900101123x')).toBe('**************123X');
    expect(maskIdNumber('440106900101123')).toBe('***********1123');
    expect(maskIdNumber('123')).toBe('****');
    expect(maskIdNumber('')).toBe('****');
  });

  it('never lets more than 4 characters of an identity number survive (property)', () => {
    fc.assert(
      fc.property(fc.oneof(idNumber, fc.string({ maxLength: 40 }).map((s) => s.replace(/\*/g, ''))), (v) => {
        const masked = maskIdNumber(v);
        const visible = masked.replace(/\*/g, '');
        expect(visible.length).toBeLessThanOrEqual(4);
        if (visible.length > 0) expect(v.replace(/\s/g, '').toUpperCase().endsWith(visible)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('masks mobiles, landlines and +86 numbers', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('138 1234 5678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('+86 138****5678');
    expect(maskPhone('008613812345678')).toBe('+86 138****5678');
    expect(maskPhone('020-12345678')).toBe('020-****5678');
    expect(maskPhone('(0755) 1234567')).toBe('0755-****567');
    expect(maskPhone('0755-12345678')).toBe('0755-****5678');
    expect(maskPhone('02012345678')).toBe('020-****5678');
    expect(maskPhone('+86 20 1234 5678')).toBe('+86 20-****5678');
    expect(maskPhone('12345')).toBe('*****');
    expect(maskPhone('')).toBe('****');
  });

  it('keeps only the first 3 and last 4 digits of a mobile (property)', () => {
    fc.assert(
      fc.property(mobile, fc.constantFrom('', '+86', '+86 ', '0086'), (m, prefix) => {
        const masked = maskPhone(prefix + m);
        expect(masked).toBe(`${prefix ? '+86 ' : ''}${m.slice(0, 3)}****${m.slice(-4)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('always hides at least 4 digits of any phone-like text, and all of a short one (property)', () => {
    const phoneLike = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789 -+()'), maxLength: 20 }),
      fc.tuple(fc.constantFrom('', '+86 ', '0086'), fc.constantFrom('010', '020', '0755', '0571', '20', '755'), digits(7), fc.boolean()).map(
        ([p, area, sub, eight]) => `${p}${area}-${sub}${eight ? '8' : ''}`,
      ),
    );
    fc.assert(
      fc.property(phoneLike, (v) => {
        const international = /^\s*(\+86|0086)/.test(v);
        const given = v.replace(/\D/g, '').replace(international ? /^(0086|86)/ : /^$/, '');
        const shown = maskPhone(v).replace(/^\+86 /, '').replace(/\D/g, '');
        expect(shown.length).toBeLessThanOrEqual(given.length < 8 ? 0 : given.length - 4);
      }),
      { numRuns: 1000 },
    );
  });

  it('masks names and e-mail addresses', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳')).toBe('欧*');
    expect(maskName('张')).toBe('*');
    expect(maskName('𠀋三')).toBe('𠀋*');
    expect(maskName('John Smith')).toBe('J*** *****');
    expect(maskEmail('zhangsan@example.com')).toBe('z***@example.com');
    expect(maskEmail('not-an-email')).toBe('****');
    expect(maskEmail('@example.com')).toBe('****');
  });

  it('gives the last four letters or digits', () => {
    expect(lastFour('44010619900101123x')).toBe('123X');
    expect(lastFour('138-1234-5678')).toBe('5678');
    expect(lastFour('12')).toBe('12');
  });
});
