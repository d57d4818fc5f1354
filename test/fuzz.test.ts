// Property-based robustness of every parser (issue 11): random bytes behind each
// format's magic, and valid artifacts built here mutated the ways hostile ones
// are. A few runs per format in `npm test`; REPROVE_FUZZ_RUNS=N (and
// REPROVE_FUZZ_FORMAT=name) for long runs, see bench/fuzz-long.sh.
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { buildSeeds, checkInvariants, mutate, mutationArb, newStats, numRuns, scratch, type Seed } from './fuzz-support.js';

const dir = scratch();
let seeds: Seed[] = [];
const stats = newStats();
const only = process.env['REPROVE_FUZZ_FORMAT'];

before(() => {
  seeds = buildSeeds(dir);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  if (process.env['REPROVE_FUZZ_RUNS']) process.stderr.write(`fuzz stats: ${JSON.stringify(stats)}\n`);
});

/** Magic numbers the registry recognises, for random bytes behind them. */
const MAGICS: Record<string, Buffer> = {
  gzip: Buffer.from([0x1f, 0x8b, 8]),
  bzip2: Buffer.from('BZh9'),
  xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  ar: Buffer.from('!<arch>\n'),
  deb: Buffer.from('!<arch>\ndebian-binary   '),
  cpio: Buffer.from('070701'),
  'cpio-odc': Buffer.from('070707'),
  zip: Buffer.from('PK\x03\x04'),
  elf: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]),
  rpm: Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0]),
  pyc: Buffer.from([0xa7, 0x0d, 0x0d, 0x0a]),
  gettext: Buffer.from([0xde, 0x12, 0x04, 0x95]),
  'java-class': Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
  json: Buffer.from('{"'),
  mtree: Buffer.from('#mtree\n'),
};

describe('random bytes behind a magic number', () => {
  for (const [format, magic] of Object.entries(MAGICS)) {
    if (only && only !== format) continue;
    test(format, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.uint8Array({ maxLength: 4096 }), async (x, y) => {
          await checkInvariants(dir, Buffer.concat([magic, x]), Buffer.concat([magic, y]), format, stats);
        }),
        { numRuns: numRuns(8), includeErrorInReport: true },
      );
    });
  }
});

describe('mutated valid artifacts', () => {
  test('every seed format is present', () => {
    if (seeds.length < 10) throw new Error(`only ${seeds.length} seeds were built`);
  });
  // One property per seed, created when the seeds exist.
  test('mutations', async (t) => {
    for (const seed of seeds) {
      if (only && only !== seed.format) continue;
      await t.test(`${seed.format}: ${seed.name}`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.array(mutationArb, { maxLength: 2 }), async (ma, mb) => {
            const a = ma.reduce(mutate, seed.bytes);
            const b = mb.reduce(mutate, seed.bytes);
            await checkInvariants(dir, a, b, seed.name, stats);
          }),
          { numRuns: numRuns(6), includeErrorInReport: true },
        );
      });
    }
  });
});
