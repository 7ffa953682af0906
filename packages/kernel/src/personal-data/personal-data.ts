import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** The deployment's personal-data keys (`deployment.personalData`). */
export interface PersonalDataConfig {
  /** The current key: at least 32 bytes as base64/base64url, or 64 hex characters. New values are sealed and hashed with it. */
  key: string;
  /** Keys used before `key`: values sealed with them still open (rotation). */
  previousKeys?: string[];
}

/** Why a sealed value could not be opened; its message never contains the value. */
export class PersonalDataError extends Error {
  override readonly name = 'PersonalDataError';
  readonly code = 'PERSONAL_DATA_UNREADABLE';
}

/** The version tag of sealed values: `pd1.<keyId>.<iv>.<ciphertext>.<tag>`, all base64url. */
export const SEALED_PREFIX = 'pd1';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]+={0,2}$/;
const MIN_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key's bytes, or `undefined` when the text is not a usable key. */
export function parsePersonalDataKey(text: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (HEX_KEY.test(t)) return Buffer.from(t, 'hex');
  // Only hex digits but not 64 of them: a hex key with a digit too many or too few, not base64.
  if (/^[0-9a-fA-F]+$/.test(t) || !BASE64_KEY.test(t)) return undefined;
  const unpadded = t.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const bytes = Buffer.from(unpadded, 'base64url');
  // Node decodes leniently; a key must be canonical base64 of its bytes, so no character is silently dropped.
  if (bytes.toString('base64url') !== unpadded) return undefined;
  return bytes.length >= MIN_KEY_BYTES ? bytes : undefined;
}

/** What a bad key is told; it never repeats the key. */
export const KEY_RULE = 'must be at least 32 bytes as base64 or base64url, or 64 hex characters (e.g. `openssl rand -base64 32`)';

interface Key {
  readonly id: string;
  readonly hashRoot: Buffer;
  readonly sealKey: Buffer;
}

const derive = (key: Buffer, info: string): Buffer => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `diandan/personal-data/${info}`, 32));

function keyOf(bytes: Buffer): Key {
  // The id says which key sealed a value without saying anything about the key.
  const id = createHash('sha256').update(derive(bytes, 'key-id')).digest('base64url').slice(0, 8);
  return { id, hashRoot: derive(bytes, 'hash'), sealKey: derive(bytes, 'seal') };
}

/**
 * Keyed hashes and encryption of personal data (个人信息), with the deployment's key
 * (`ctx.deps.kernel.personalData`). Store `hash(...)` to find a value again ("is this
 * identity number registered already?") and `encrypt(...)` to show it again later;
 * never the value itself.
 */
export class PersonalData {
  /** The current key's short id, as it appears in sealed values. */
  readonly keyId: string;
  readonly #current: Key;
  readonly #keys: ReadonlyMap<string, Key>;
  readonly #hashKeys = new Map<string, Buffer[]>();

  constructor(config: PersonalDataConfig) {
    const all = [config.key, ...(config.previousKeys ?? [])].map((text, i) => {
      const bytes = parsePersonalDataKey(text);
      if (!bytes) throw new TypeError(`personalData.${i === 0 ? 'key' : `previousKeys[${i - 1}]`} ${KEY_RULE}`);
      return keyOf(bytes);
    });
    this.#current = all[0]!;
    this.keyId = this.#current.id;
    const keys = new Map<string, Key>();
    for (const k of all) if (!keys.has(k.id)) keys.set(k.id, k);
    this.#keys = keys;
  }

  /**
   * A keyed hash (HMAC-SHA256, 64 hex characters) of `value` for `purpose`: the same
   * value and purpose always give the same hash, different purposes or keys different
   * ones. Normalise the value first (trim, upper-case the X of an identity number, …).
   */
  hash(purpose: string, value: string): string {
    return createHmac('sha256', this.#purposeKeys(purpose)[0]!).update(value, 'utf8').digest('hex');
  }

  /**
   * The hashes of `value` under the current key and every previous one, current first:
   * look a value up with all of them while rows hashed with an older key remain.
   */
  hashes(purpose: string, value: string): string[] {
    return this.#purposeKeys(purpose).map((k) => createHmac('sha256', k).update(value, 'utf8').digest('hex'));
  }

  /**
   * Seals `plaintext` (AES-256-GCM, a random IV): `pd1.<keyId>.<iv>.<ciphertext>.<tag>`.
   * `context` (e.g. `supplier:<id>:phone`) is bound to the value: opening it needs the same context,
   * so a sealed value copied to another record does not open there.
   */
  encrypt(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.sealKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.#current.id, context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [SEALED_PREFIX, this.#current.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Opens what `encrypt` sealed, with the key it names; throws `PersonalDataError` when it was altered, or the context or key differs. */
  decrypt(sealed: string, context = ''): string {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    if (parts.length !== 5 || parts[0] !== SEALED_PREFIX) throw new PersonalDataError('not a sealed personal-data value');
    const [, id, iv, body, tag] = parts as [string, string, string, string, string];
    const key = this.#keys.get(id);
    if (!key) throw new PersonalDataError(`sealed with an unknown key "${id}" (is it missing from personalData.previousKeys?)`);
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new PersonalDataError('a sealed value is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.sealKey, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(id, context));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new PersonalDataError('a sealed value did not open: altered, or sealed for another context');
    }
  }

  /** True when `sealed` was sealed with a previous key (re-encrypt it to finish a rotation). */
  needsRotation(sealed: string): boolean {
    const id = typeof sealed === 'string' ? sealed.split('.')[1] : undefined;
    return id !== this.#current.id;
  }

  /** Whether `value` looks like something `encrypt` made. */
  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(`${SEALED_PREFIX}.`) && value.split('.').length === 5;
  }

  #purposeKeys(purpose: string): Buffer[] {
    if (typeof purpose !== 'string' || purpose === '') throw new TypeError('personalData.hash: purpose must be a non-empty string');
    let keys = this.#hashKeys.get(purpose);
    if (!keys) {
      const ordered = [this.#current, ...[...this.#keys.values()].filter((k) => k !== this.#current)];
      keys = ordered.map((k) => derive(k.hashRoot, `hash/${purpose}`));
      this.#hashKeys.set(purpose, keys);
    }
    return keys;
  }
}

const aad = (keyId: string, context: string) => Buffer.from(`${SEALED_PREFIX}.${keyId}\u0000${context}`, 'utf8');

