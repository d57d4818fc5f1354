// The regression corpus (issue 11): every input that once broke an invariant,
// with the reason, checked with the same invariants as the fuzz tests.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { checkInvariants, mutate, newStats, scratch, type Mutation } from './fuzz-support.js';
import { haveCommand, sh, skipOutsideCi } from './helpers.js';

const dir = scratch();
after(() => rmSync(dir, { recursive: true, force: true }));

function pseudoRandom(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const lines = (n: number, tag: string) => Buffer.from(Array.from({ length: n }, (_, i) => `${tag} line ${i * 7919}`).join('\n') + '\n');

const generated: { reason: string; name: string; make: () => [Buffer, Buffer] }[] = [
  {
    reason: 'equal-size binaries whose length is not a multiple of 16 made the hex dump compare past the end (RangeError: targetEnd out of range)',
    name: 'odd.bin',
    make: () => {
      const a = pseudoRandom(300, 7);
      const b = Buffer.from(a);
      b[299] ^= 1;
      return [a, b];
    },
  },
  {
    reason: 'a diff of more than 2000 edits went to GNU diff through /dev/fd/3, which cannot open the socket pipes Node gives a child (exit 2)',
    name: 'big.txt',
    make: () => [lines(3000, 'a'), lines(3000, 'b')],
  },
  {
    reason: 'differently compressed streams (gzip vs raw) were compared as one format; now each side is recognised on its own',
    name: 'mixed.gz',
    make: () => [gzipSync(lines(50, 'x')), lines(50, 'x')],
  },
  {
    reason: 'a gzip whose header claims a file name but ends before its NUL (the header reader must stop at the bytes it has)',
    name: 'name.gz',
    make: () => {
      const good = gzipSync(Buffer.from('hello\n'));
      const cut = Buffer.from(good.subarray(0, 12));
      cut[3] = 0x08; // FNAME set, no terminator in the bytes that follow
      return [good, cut];
    },
  },
];

/** A small C program, for the entries found by mutating an ELF seed. */
function program(): Buffer {
  sh(dir, `printf 'int f(void){return 1;}\\nint main(void){return f();}\\n' > p.c && gcc -O1 -o prog p.c`);
  return readFileSync(join(dir, 'prog'));
}

const mutated: { reason: string; a: Mutation[]; b: Mutation[] }[] = [
  {
    reason:
      'one side of an ELF pair failed to parse while the other was still being read: Promise.all returned, the comparison ended, and the orphaned read hit the removed input (ENOENT, untyped); every paired operation now settles both sides first (settleAll)',
    a: [{ kind: 'nest' }],
    b: [
      { kind: 'pastEnd', at: 1291202326, extra: 568360 },
      { kind: 'flip', at: 1654822696, bit: 7 },
    ],
  },
];

for (const m of mutated) {
  test(`corpus: ${m.reason}`, { skip: skipOutsideCi(haveCommand('gcc') ? false : 'gcc is not installed') }, async () => {
    const seed = program();
    for (let i = 0; i < 5; i++) await checkInvariants(dir, m.a.reduce(mutate, seed), m.b.reduce(mutate, seed), 'prog', newStats());
  });
}

for (const g of generated) {
  test(`corpus: ${g.reason}`, async () => {
    const [a, b] = g.make();
    await checkInvariants(dir, a, b, g.name, newStats());
  });
}

const fixtures = join(import.meta.dirname, '../../test/corpus');
for (const file of readdirSync(fixtures).filter((f) => f.endsWith('.json'))) {
  const f = JSON.parse(readFileSync(join(fixtures, file), 'utf8')) as { reason: string; name: string; a: string; b: string };
  test(`corpus ${file}: ${f.reason}`, async () => {
    await checkInvariants(dir, Buffer.from(f.a, 'hex'), Buffer.from(f.b, 'hex'), f.name, newStats());
  });
}
