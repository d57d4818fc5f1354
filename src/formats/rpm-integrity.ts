// Integrity of an RPM: the header digests of the signature header (SHA256HEADER,
// SHA1HEADER), its size of header and payload, and the payload digest of the main
// header, checked against the bytes. A mismatch is a comment on the package, never
// silence and never an error: a damaged package is still compared. It also holds
// rpm's one table of digest algorithms (PGPHASHALGO numbers), which names the
// FILEDIGESTS of the file list as well.
import { createHash } from 'node:crypto';
import type { Artifact } from '../compare/artifact.js';
import { tagValues, type RpmPackage } from './rpm-parser.js';

/** rpm's digest algorithm numbers (PGPHASHALGO_*, as FILEDIGESTALGO and PAYLOADDIGESTALGO give them) and node:crypto's names. */
const DIGEST_ALGORITHMS: Record<string, string> = { '1': 'md5', '2': 'sha1', '8': 'sha256', '9': 'sha384', '10': 'sha512', '11': 'sha224' };

/** The digest algorithm an rpm number stands for, or undefined when reprove does not know it. */
export function digestAlgorithm(algo: string): string | undefined {
  // Own keys only: a hostile STRING-typed tag holding "constructor" is no algorithm.
  return Object.hasOwn(DIGEST_ALGORITHMS, algo) ? DIGEST_ALGORITHMS[algo] : undefined;
}

/** How the file list names a digest algorithm: "sha256", or "algo99" for an unknown number. */
export function digestName(algo: string): string {
  return digestAlgorithm(algo) ?? `algo${algo}`;
}

async function hashOf(a: Artifact, algo: string): Promise<string> {
  if (algo === 'sha256') return a.sha256();
  const h = createHash(algo);
  for await (const c of a.chunks()) h.update(c);
  return h.digest('hex');
}

/** Header digests and sizes checked against the bytes; a mismatch is a comment, never silence. */
export async function integrityComments(a: Artifact, p: RpmPackage, payload: Artifact): Promise<string[]> {
  const out: string[] = [];
  const sig = p.signature;
  const sha256 = tagValues(sig, 'SHA256HEADER')[0];
  if (sha256 !== undefined) {
    const actual = createHash('sha256').update(p.header.bytes).digest('hex');
    if (actual !== sha256) out.push(`${a.name}: SHA256HEADER is ${sha256} but the header's SHA-256 is ${actual}: the header does not match its signature header`);
  }
  const sha1 = tagValues(sig, 'SHA1HEADER')[0];
  if (sha1 !== undefined) {
    const actual = createHash('sha1').update(p.header.bytes).digest('hex');
    if (actual !== sha1) out.push(`${a.name}: SHA1HEADER is ${sha1} but the header's SHA-1 is ${actual}`);
  }
  const size = tagValues(sig, 'LONGSIGSIZE')[0] ?? tagValues(sig, 'SIGSIZE')[0];
  const actualSize = a.size - p.header.offset;
  if (size !== undefined && Number(size) !== actualSize)
    out.push(`${a.name}: the signature header gives ${size} bytes of header and payload, the file has ${actualSize}`);
  const digest = tagValues(p.header, 'PAYLOADDIGEST')[0];
  if (digest !== undefined) {
    const algoNum = tagValues(p.header, 'PAYLOADDIGESTALGO')[0] ?? '8';
    const algo = digestAlgorithm(algoNum);
    if (!algo) out.push(`${a.name}: PAYLOADDIGESTALGO ${algoNum} is not a digest reprove knows; PAYLOADDIGEST not checked`);
    else {
      const actual = await hashOf(payload, algo);
      if (actual !== digest) out.push(`${a.name}: PAYLOADDIGEST is ${digest} but the payload's ${algo.toUpperCase()} is ${actual}: the payload does not match its header`);
    }
  }
  return out;
}