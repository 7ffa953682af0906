/**
 * Masks for personal data in responses (脱敏): pure functions that never throw and
 * never show more than a person needs to recognise their own record.
 */

const STARS = (n: number) => '*'.repeat(Math.max(0, n));

/** Digits-only fallback: at most the last 4 of 8 or more digits stay visible, fewer digits are hidden entirely. */
function maskDigits(digits: string): string {
  if (digits.length === 0) return '****';
  if (digits.length < 8) return STARS(digits.length);
  return STARS(digits.length - 4) + digits.slice(-4);
}

/**
 * A phone number with only what identifies its kind: a mainland mobile keeps its
 * first 3 and last 4 digits (`13812345678` → `138****5678`, `+86 138…` → `+86 138****5678`);
 * a landline keeps its area code and the last 4 of an 8-digit number, 3 of a 7-digit one
 * (`020-12345678` → `020-****5678`, `0755-1234567` → `0755-****567`).
 * Anything else keeps at most its last 4 digits. At least 4 digits are always hidden.
 */
export function maskPhone(value: string): string {
  let rest = String(value ?? '').trim().replace(/[\s\-().]/g, '');
  let prefix = '';
  if (rest.startsWith('+86')) {
    prefix = '+86 ';
    rest = rest.slice(3);
  } else if (rest.startsWith('0086')) {
    prefix = '+86 ';
    rest = rest.slice(4);
  } else if (rest.startsWith('+')) {
    return maskDigits(rest.replace(/\D/g, ''));
  }
  if (!/^\d+$/.test(rest)) return maskDigits(rest.replace(/\D/g, ''));
  if (/^1\d{10}$/.test(rest)) return `${prefix}${rest.slice(0, 3)}****${rest.slice(-4)}`;
  // A landline: written nationally with a leading 0, internationally without it.
  const national = prefix && !rest.startsWith('0') ? `0${rest}` : rest;
  if (/^0[1-9]\d{8,10}$/.test(national)) {
    const areaLength = national[1] === '1' || national[1] === '2' ? 3 : 4;
    const area = national.slice(0, areaLength);
    const subscriber = national.slice(areaLength);
    if (subscriber.length >= 7 && subscriber.length <= 8) {
      // At least 4 digits of the subscriber number stay hidden.
      const tail = subscriber.length - 4;
      return `${prefix}${prefix ? area.slice(1) : area}-****${subscriber.slice(-tail)}`;
    }
  }
  return prefix + maskDigits(rest);
}

/**
 * An identity number (身份证号) or any other document number with only its last 4
 * characters visible (`**************123X`); a value shorter than 8 is hidden entirely.
 */
export function maskIdNumber(value: string): string {
  const v = String(value ?? '').replace(/\s/g, '').toUpperCase();
  if (v.length < 8) return STARS(Math.max(v.length, 4));
  return STARS(v.length - 4) + v.slice(-4);
}

/** An e-mail address with the first character of its local part and its domain (`z***@example.com`). */
export function maskEmail(value: string): string {
  const v = String(value ?? '').trim();
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1) return '****';
  const first = Array.from(v.slice(0, at))[0]!;
  return `${first}***@${v.slice(at + 1)}`;
}

/** A person's name with its first character (the family name) visible: `张三丰` → `张**`, `张三` → `张*`. */
export function maskName(value: string): string {
  const chars = Array.from(String(value ?? '').trim());
  if (chars.length === 0) return '';
  if (chars.length === 1) return '*';
  return chars[0] + chars.slice(1).map((c) => (/\s/.test(c) ? c : '*')).join('');
}

/** The last 4 letters or digits of a value (separators dropped, upper case), e.g. to show beside a masked number. */
export function lastFour(value: string): string {
  return String(value ?? '').replace(/[^0-9A-Za-z]/g, '').slice(-4).toUpperCase();
}
