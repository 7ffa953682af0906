import { describe, expect, it } from 'vitest';
import { idNumberCheckCharacter, idNumberProblem, isValidIdNumber, isValidUscc, usccCheckCharacter, usccProblem, USCC_CHARSET } from '../src/codes.js';

// Synthetic codes: the check character is computed here, so they are well-formed without belonging to anyone.
// Division code 990000 (no such province) for identity numbers; 91440103… for credit codes.
const uscc = (first17: string) => first17 + usccCheckCharacter(first17);
const idNumber = (first17: string) => first17 + idNumberCheckCharacter(first17);

describe('Unified Social Credit Code (GB 32100-2015)', () => {
  it('accepts codes whose check character is right, including check characters that are letters or 0', () => {
    const codes = ['91440103MA5CXXX1Y', '12440100455000000', '51440104MA00000A0', '91440101000000001'].map((p) => uscc(p.replace(/X/g, '0')));
    for (const code of codes) expect(isValidUscc(code), code).toBe(true);
    // Every possible check character is reachable: vary one position and collect them.
    const checks = new Set(Array.from(USCC_CHARSET).map((c) => usccCheckCharacter(`914401030000000${c}0`)));
    expect(checks.size).toBe(31);
  });

  it('refuses a wrong check character, a wrong length and characters outside the charset', () => {
    const good = uscc('91440103MA5C00001');
    const wrong = good.slice(0, 17) + USCC_CHARSET[(USCC_CHARSET.indexOf(good[17]!) + 1) % 31];
    expect(usccProblem(wrong)).toBe('check');
    expect(usccProblem(good.slice(0, 17))).toBe('length');
    expect(usccProblem(`${good}0`)).toBe('length');
    expect(usccProblem('')).toBe('length');
    for (const letter of ['I', 'O', 'Z', 'S', 'V', 'a', '-']) expect(usccProblem(`91440103MA5C0000${letter}0`), letter).toBe('charset');
    // The division code (positions 3–8) is digits.
    expect(usccProblem(uscc('9144A103MA5C00001'))).toBe('charset');
  });
});

describe('resident identity number (GB 11643)', () => {
  it('accepts a number with a valid birth date and check digit, X included (either case)', () => {
    const one = idNumber('99000019900307123');
    expect(isValidIdNumber(one)).toBe(true);
    // Find a sequence whose check character is X.
    const withX = Array.from({ length: 1000 }, (_, i) => idNumber(`99000019850612${String(i).padStart(3, '0')}`)).find((n) => n.endsWith('X'))!;
    expect(withX).toBeDefined();
    expect(isValidIdNumber(withX)).toBe(true);
    expect(isValidIdNumber(withX.toLowerCase())).toBe(true);
  });

  it('refuses a wrong check digit, a wrong length, a bad charset and impossible birth dates', () => {
    const good = idNumber('99000019900307123');
    const wrongCheck = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    expect(idNumberProblem(wrongCheck)).toBe('check');
    expect(idNumberProblem(good.slice(0, 15))).toBe('length');
    expect(idNumberProblem(`${good}1`)).toBe('length');
    expect(idNumberProblem('99000019900307A23')).toBe('length');
    expect(idNumberProblem('99000019900307A234')).toBe('charset');
    expect(idNumberProblem('09000019900307123X')).toBe('charset');
    expect(idNumberProblem(idNumber('99000019900230123'))).toBe('birth-date'); // 30 February
    expect(idNumberProblem(idNumber('99000018991231123'))).toBe('birth-date'); // before 1900
    expect(idNumberProblem(idNumber('99000020991231123'), new Date('2026-12-02'))).toBe('birth-date'); // in the future
    expect(idNumberProblem(idNumber('99000019001301123'))).toBe('birth-date'); // month 13
  });
});
