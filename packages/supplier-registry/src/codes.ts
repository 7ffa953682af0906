/**
 * Validators of the two identifiers a supplier gives when it applies: the Unified
 * Social Credit Code of an organisation (统一社会信用代码, GB 32100-2015) and the
 * resident identity number of an individual artist (公民身份号码, GB 11643-1999).
 * Both end with a check character computed from the others, so a mistyped code is
 * refused before anyone reviews it.
 */

/** The 31 characters a credit code may use: digits and capitals without I, O, Z, S, V. */
export const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** Weights of positions 1–17 of a credit code: 3^i mod 31. */
const USCC_WEIGHTS = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/** Why a code was refused; `null` when it is valid. */
export type CodeProblem = 'length' | 'charset' | 'check' | 'birth-date' | null;

/** The check character of the first 17 characters of a credit code (GB 32100-2015 §5.3). */
export function usccCheckCharacter(first17: string): string {
  if (first17.length !== 17) throw new RangeError('a credit code has 17 characters before its check character');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_CHARSET.indexOf(first17[i]!);
    if (value < 0) throw new RangeError(`"${first17[i]}" is not a credit-code character`);
    sum += value * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARSET[(31 - (sum % 31)) % 31]!;
}

/**
 * What is wrong with a Unified Social Credit Code, or `null` when it is valid: 18
 * characters of the code's charset, positions 3–8 an administrative division code
 * (digits), and the check character right.
 */
export function usccProblem(code: string): CodeProblem {
  if (code.length !== 18) return 'length';
  for (const c of code) if (!USCC_CHARSET.includes(c)) return 'charset';
  if (!/^\d{6}$/.test(code.slice(2, 8))) return 'charset';
  return usccCheckCharacter(code.slice(0, 17)) === code[17] ? null : 'check';
}

/** True for a valid Unified Social Credit Code (统一社会信用代码). */
export const isValidUscc = (code: string): boolean => usccProblem(code) === null;

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** The check character of the first 17 digits of an identity number (ISO 7064 MOD 11-2). */
export function idNumberCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('an identity number has 17 digits before its check character');
  const sum = ID_WEIGHTS.reduce((s, w, i) => s + w * Number(first17[i]), 0);
  return '10X98765432'[sum % 11]!;
}

/**
 * What is wrong with an 18-character resident identity number, or `null` when it is
 * valid: 17 digits and a check character (a digit or `X`), a birth date that exists
 * and is not in the future, and the right check character. A lower-case `x` is read as `X`.
 */
export function idNumberProblem(id: string, today: Date = new Date()): CodeProblem {
  if (id.length !== 18) return 'length';
  const value = id.toUpperCase();
  if (!/^[1-9]\d{16}[\dX]$/.test(value)) return 'charset';
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || birth.getUTCMonth() !== month - 1 || birth.getUTCDate() !== day || birth.getTime() > today.getTime()) return 'birth-date';
  return idNumberCheckCharacter(value.slice(0, 17)) === value[17] ? null : 'check';
}

/** True for a valid resident identity number (公民身份号码). */
export const isValidIdNumber = (id: string): boolean => idNumberProblem(id) === null;

/** The identity number in its canonical form (upper-case `X`), which is what gets hashed. */
export const normaliseIdNumber = (id: string): string => id.trim().toUpperCase();
