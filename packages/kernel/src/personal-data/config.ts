import type { FastifyBaseLogger } from 'fastify';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { KEY_RULE, parsePersonalDataKey, PersonalData, type PersonalDataConfig } from './personal-data.js';

/**
 * The key used when a deployment outside production sets none: public (it is in
 * this file), so only for development and demos. Values sealed with it are not secret.
 */
export const DEVELOPMENT_PERSONAL_DATA_KEY = '6469616e64616e2d646576656c6f706d656e742d6b65792d6e6f742d73656372';

/** Checks `deployment.personalData` (its shape and keys) and names the key at fault; never repeats a key. */
export function checkPersonalDataConfig(config: PersonalDataConfig | undefined): void {
  if (config === undefined) return;
  const fail = (path: string, message: string) => {
    throw new DiandanStartupError(StartupErrorCodes.DEPLOYMENT_INVALID, `deployment.${path}: ${message}`, { path });
  };
  if (!config || typeof config !== 'object') fail('personalData', 'must be an object `{ key, previousKeys? }`');
  for (const key of Object.keys(config)) if (key !== 'key' && key !== 'previousKeys') fail(`personalData.${key}`, 'is not a known setting');
  if (!parsePersonalDataKey(config.key)) fail('personalData.key', KEY_RULE);
  if (config.previousKeys !== undefined) {
    if (!Array.isArray(config.previousKeys)) fail('personalData.previousKeys', 'must be an array of keys');
    config.previousKeys.forEach((k, i) => {
      if (!parsePersonalDataKey(k)) fail(`personalData.previousKeys[${i}]`, KEY_RULE);
    });
  }
}

/**
 * The deployment's personal-data service. Without `personalData`, production
 * (`NODE_ENV=production`) refuses to start; elsewhere the development key is used,
 * with one warning.
 */
export function openPersonalData(config: PersonalDataConfig | undefined, log: FastifyBaseLogger): PersonalData {
  checkPersonalDataConfig(config);
  if (config) return new PersonalData(config);
  if (process.env.NODE_ENV === 'production') {
    throw new DiandanStartupError(
      StartupErrorCodes.PERSONAL_DATA_KEY_MISSING,
      'deployment.personalData.key is not set: production needs its own key to hash and encrypt personal data (e.g. DIANDAN_PERSONAL_DATA_KEY=$(openssl rand -base64 32))',
      { path: 'personalData.key' },
    );
  }
  log.warn('no `personalData.key` in the deployment: personal data is hashed and encrypted with the public development key (refused when NODE_ENV=production)');
  return new PersonalData({ key: DEVELOPMENT_PERSONAL_DATA_KEY });
}
