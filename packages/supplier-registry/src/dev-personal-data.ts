// TEMPORARY until the kernel's personal-data facility is merged.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { PersonalDataKeys } from './personal-data.js';

const key = Buffer.alloc(32, 7);
export const devPersonalData: PersonalDataKeys = {
  hash: (purpose, value) => createHmac('sha256', key).update(`${purpose}\u0000${value}`).digest('base64url'),
  encrypt: (plaintext, context = '') => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from(context));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `dev.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url')}`;
  },
  decrypt: (sealed, context = '') => {
    const raw = Buffer.from(sealed.slice(4), 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  },
};
