/**
 * The personal-data facility this package needs from the kernel: a keyed hash (to match
 * without reading) and authenticated encryption (to read back where the law allows).
 */
export interface PersonalDataKeys {
  hash(purpose: string, value: string): string | Promise<string>;
  encrypt(plaintext: string, context?: string): string | Promise<string>;
  decrypt(sealed: string, context?: string): string | Promise<string>;
}

/** Masks until the kernel's arrive (replaced by the kernel's exports). */
export const maskPhone = (phone: string): string => {
  const digits = phone.replace(/\D/g, '');
  return digits.length >= 7 ? `${digits.slice(0, 3)}****${digits.slice(-4)}` : '*'.repeat(digits.length);
};
export const maskName = (name: string): string => (name.length <= 1 ? '*' : `${Array.from(name)[0]}${'*'.repeat(Array.from(name).length - 1)}`);
export const lastFour = (value: string): string => value.slice(-4);
