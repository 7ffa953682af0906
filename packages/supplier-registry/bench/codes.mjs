// In-process micro-benchmark of what the registry does to every identifier an applicant
// gives: the credit-code (USCC, GB 32100-2015) and identity-number (GB 11643) validators
// and the personal-data keyed hash (kernel `PersonalData.hash`), next to a plain
// HMAC-SHA256 of the same identity number (node:crypto) measured in the same run.
// Nothing here does I/O, so it runs in this process.
//
//   pnpm --filter @diandan/supplier-registry bench        (with bench/http.mjs)
//   node bench/codes.mjs
//
// BENCH_OPS (20000) operations per sample, BENCH_ROUNDS (7) samples per subject (median;
// the subjects take turns, so a burst of load elsewhere hits one sample of each).
import { createHmac } from 'node:crypto';
import { PersonalData } from '@diandan/kernel';
import { idNumberCheckCharacter, isValidIdNumber, isValidUscc, usccCheckCharacter, usccProblem } from '@diandan/supplier-registry';
import { TEST_PERSONAL_DATA_KEY } from '@diandan/testing';
import { median, printTable } from '../../../apps/server/bench/lib.mjs';

const ops = Number(process.env.BENCH_OPS ?? 20_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);

// 1,000 synthetic identifiers of each kind, all valid (division 990000 for identity numbers: no real person).
const codes = Array.from({ length: 1000 }, (_, i) => {
  const first17 = `9144010${i % 10}MA${String(i).padStart(8, '0')}`.slice(0, 17);
  return first17 + usccCheckCharacter(first17);
});
const wrongCodes = codes.map((c) => c.slice(0, 17) + (c[17] === '0' ? '1' : '0'));
const ids = Array.from({ length: 1000 }, (_, i) => {
  const first17 = `990000${1950 + (i % 50)}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idNumberCheckCharacter(first17);
});
if (!codes.every(isValidUscc) || !ids.every(isValidIdNumber) || wrongCodes.some(isValidUscc)) throw new Error('the synthetic identifiers are not what they should be');

const personalData = new PersonalData({ key: TEST_PERSONAL_DATA_KEY });
const hmacKey = Buffer.from(TEST_PERSONAL_DATA_KEY, 'hex');

/** The subjects: each runs `ops` times per sample. The first is the baseline. */
const subjects = [
  { name: 'HMAC-SHA256 of an identity number (baseline)', run: (i) => createHmac('sha256', hmacKey).update(ids[i % 1000], 'utf8').digest('hex') },
  { name: 'personalData.hash (identity number)', run: (i) => personalData.hash('supplier-registry.id-number', ids[i % 1000]) },
  { name: 'isValidUscc (valid code)', run: (i) => isValidUscc(codes[i % 1000]) },
  { name: 'usccProblem (wrong check character)', run: (i) => usccProblem(wrongCodes[i % 1000]) },
  { name: 'isValidIdNumber (valid number)', run: (i) => isValidIdNumber(ids[i % 1000]) },
  { name: 'personalData.encrypt (a phone, for comparison)', run: (i) => personalData.encrypt(`1380013${String(i % 10000).padStart(4, '0')}`, `application:${i}:phone`) },
];

let sink = 0; // keeps the results alive so the loops are not optimised away
const samples = subjects.map(() => []);
for (const s of subjects) for (let i = 0; i < ops; i++) sink += s.run(i) ? 1 : 0; // warm-up
for (let round = 0; round < rounds; round++) {
  subjects.forEach((s, k) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) sink += s.run(i) ? 1 : 0;
    samples[k].push(Number(process.hrtime.bigint() - t0) / ops);
  });
}
if (sink === 0) console.log('');

const ns = samples.map(median);
console.log(`Supplier registry validators and personal-data hashing — in process, ${ops} operations per sample, median of ${rounds} samples`);
printTable(
  ['subject', 'ns/op', 'ops/s', '× HMAC-SHA256'],
  subjects.map((s, k) => [s.name, ns[k].toFixed(0), Math.round(1e9 / ns[k]).toLocaleString('en'), (ns[k] / ns[0]).toFixed(2)]),
);
console.log('  × HMAC-SHA256: time per operation as a multiple of one plain HMAC-SHA256 (node:crypto) of the same identity number;');
console.log('  1.00 = as costly as hashing it once. The validators run on every application and update; the hash once per individual applicant.');
