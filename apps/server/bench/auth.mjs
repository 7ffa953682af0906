// Bearer-token verification, before and after the key is kept as a CryptoKey. Three
// ways of verifying the same HS256 tokens, measured in turn in every round so they
// share the machine's load:
//
//   before   jose's jwtVerify given the secret's bytes (a Uint8Array), as the kernel
//            did until issue 7: jose re-imports them through WebCrypto every time
//   after    jwtVerify given a CryptoKey imported once (what the kernel now does)
//   kernel   the kernel's createTokenVerifier (after, plus reading the claims)
//
// Prints µs per verification (wall clock and process CPU), medians of ROUNDS rounds
// (default 5) of N tokens (default 5,000), with ratios to "before".
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createTokenVerifier, signDevelopmentToken } from '@diandan/kernel';
import { median, printTable } from './lib.mjs';

// jose is the kernel's dependency, not this app's: load the copy the kernel uses.
const fromKernel = createRequire(import.meta.resolve('@diandan/kernel'));
const { jwtVerify } = await import(pathToFileURL(fromKernel.resolve('jose')).href);

const rounds = Number(process.env.ROUNDS ?? 5);
const n = Number(process.env.N ?? 5000);
const secret = 'bench-secret-0123456789abcdefghijklmnop';
const options = { requiredClaims: ['exp'], algorithms: ['HS256'] };

const tokens = await Promise.all(
  Array.from({ length: 100 }, (_, i) => signDevelopmentToken(secret, { sub: `bench-${i}`, roles: ['unit-operator'], region: '440103001001' })),
);
const bytes = new TextEncoder().encode(secret);
const cryptoKey = await webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const kernelVerify = createTokenVerifier({ secret });

const ways = {
  before: (t) => jwtVerify(t, bytes, options),
  after: (t) => jwtVerify(t, cryptoKey, options),
  kernel: (t) => kernelVerify(t),
};

async function measure(verify) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < n; i++) await verify(tokens[i % tokens.length]);
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wallUs: (wall * 1000) / n, cpuUs: (used.user + used.system) / n };
}

for (const verify of Object.values(ways)) await measure(verify); // warm-up
const samples = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) for (const [k, verify] of Object.entries(ways)) samples[k].push(await measure(verify));

const m = Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, { wallUs: median(s.map((x) => x.wallUs)), cpuUs: median(s.map((x) => x.cpuUs)) }]));
console.log(`HS256 token verification — ${n} verifications per round, median of ${rounds} rounds, all ways in each round`);
printTable(
  ['way', 'µs/verify (wall)', '× before', 'µs/verify (CPU)', '× before'],
  Object.entries(m).map(([k, v]) => [
    k === 'before' ? 'before: jwtVerify(secret bytes), re-import per call' : k === 'after' ? 'after: jwtVerify(CryptoKey imported once)' : 'kernel: createTokenVerifier (after + claims)',
    v.wallUs.toFixed(1),
    `${(v.wallUs / m.before.wallUs).toFixed(2)}×`,
    v.cpuUs.toFixed(1),
    `${(v.cpuUs / m.before.cpuUs).toFixed(2)}×`,
  ]),
);
