// verify(): the verdict for one published/rebuilt pair or for two sets of
// artifacts. It compares, judges under the policies that apply, and explains.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { compare, type EngineOptions } from '../compare/compare.js';
import type { Difference } from '../compare/difference.js';
import { AbortError, ReproveError } from '../compare/errors.js';
import { annotate, type Finding } from '../explain/explain.js';
import { judge, type Evidence } from './judge.js';
import { builtinPolicies, policiesFor, type Policy } from './policy.js';
import { STRICT_RPM_VERDICT, strictRpmVerdict } from './rpm-strict.js';

/**
 * From strongest to weakest: the bytes are the same; an RPM is the same once the
 * published signature header is transplanted onto the rebuild; the differences are
 * all allowed by the policy; not reproducible; the build failed; no verdict.
 */
export type Verdict = 'BIT_IDENTICAL' | typeof STRICT_RPM_VERDICT | 'REPRODUCIBLE' | 'UNREPRODUCIBLE' | 'FTBFS' | 'ERROR';

/** The verdicts that count as reproduced (exit status 0, rebuilderd's GOOD). */
export const REPRODUCED_VERDICTS: readonly Verdict[] = ['BIT_IDENTICAL', STRICT_RPM_VERDICT, 'REPRODUCIBLE'];
export const isReproduced = (v: string): boolean => (REPRODUCED_VERDICTS as readonly string[]).includes(v);

/** Why an RPM judged REPRODUCIBLE is not IDENTICAL_EXCEPT_SIGNATURE. */
export interface StrictCheck {
  identical: false;
  /** The main-header fields that differ (BUILDTIME, BUILDHOST, ...), `payload`, or `header layout`; empty when the check could not run. */
  differingFields: string[];
  /** Why the check could not run (an RPM the strict check cannot read). */
  error?: string;
}

export interface VerifyOptions extends EngineOptions {
  /** All known policies (built-in merged with a policy file's). */
  policies?: Policy[];
  /** Names of non-default policies to apply. */
  selected?: string[];
  /** Bit-for-bit for everything. */
  strict?: boolean;
}

export interface ArtifactVerdict {
  name: string;
  published: string;
  rebuilt: string;
  verdict: Verdict;
  policies: string[];
  /** Allowed differences, each with its reason. */
  ignored: Evidence[];
  /** Differences that make it unreproducible. */
  differences: Evidence[];
  issues: Finding[];
  unexplained: string[];
  error?: string;
  /** For an RPM judged REPRODUCIBLE that is not IDENTICAL_EXCEPT_SIGNATURE: what kept it from being so. */
  strict?: StrictCheck;
  difference?: Difference;
}

export interface SetVerdict {
  verdict: Verdict;
  artifacts: ArtifactVerdict[];
  /** Published artifacts the rebuild did not produce. */
  missing: string[];
  /** Artifacts the rebuild produced that were not published. */
  extra: string[];
}

export async function verifyPair(published: string, rebuilt: string, options: VerifyOptions): Promise<ArtifactVerdict> {
  const base = { name: basename(published), published, rebuilt, policies: [], ignored: [], differences: [], issues: [], unexplained: [] };
  let difference: Difference | null;
  try {
    ({ difference } = await compare(published, rebuilt, options));
  } catch (err) {
    // An abort stops the whole verification; it is not this artifact's verdict.
    if (err instanceof AbortError) throw err;
    const message = err instanceof ReproveError ? err.describe() : (err as Error).message;
    return { ...base, verdict: 'ERROR', error: message };
  }
  if (!difference) return { ...base, verdict: 'BIT_IDENTICAL' };
  const policies = policiesFor(options.policies ?? builtinPolicies, difference.format, basename(published), options.selected ?? [], options.strict ?? false);
  const judgement = judge(difference, policies);
  const explanation = annotate(difference);
  let verdict: Verdict = judgement.reproducible ? 'REPRODUCIBLE' : 'UNREPRODUCIBLE';
  let strict: StrictCheck | undefined;
  if (verdict === 'REPRODUCIBLE' && isRpm(difference, published)) {
    const s = await strictCheck(published, rebuilt, options);
    if (s === true) verdict = STRICT_RPM_VERDICT;
    else strict = s;
  }
  return {
    ...base,
    verdict,
    ...(strict ? { strict } : {}),
    policies: policies.map((p) => p.name),
    ignored: judgement.ignored,
    differences: judgement.blocking,
    issues: explanation.findings,
    unexplained: difference.unexplained ?? [],
    difference,
  };
}

const isRpm = (d: Difference, published: string) => d.format === 'rpm' || (d.format === undefined && published.endsWith('.rpm'));

/** The strict RPM check: true when the rebuild with the published signature header transplanted is the published file byte for byte. */
async function strictCheck(published: string, rebuilt: string, options: VerifyOptions): Promise<true | StrictCheck> {
  if (options.signal?.aborted) throw new AbortError(options.signal.reason);
  let transplanted: string | undefined;
  try {
    const r = await strictRpmVerdict(published, rebuilt, options.tmpDir ?? tmpdir());
    transplanted = r.transplanted;
    return r.identical ? true : { identical: false, differingFields: r.differingFields ?? [] };
  } catch (err) {
    const message = err instanceof ReproveError ? err.describe() : (err as Error).message;
    return { identical: false, differingFields: [], error: `Cannot run the strict RPM check: ${message}` };
  } finally {
    // The transplanted copy lives in a directory of its own.
    if (transplanted) await rm(dirname(transplanted), { recursive: true, force: true }).catch(() => {});
  }
}

/** Pairs two sets of artifact paths by file name and verifies each pair. */
export async function verifySet(published: string[], rebuilt: string[], options: VerifyOptions): Promise<SetVerdict> {
  // Two single artifacts are a pair whatever their names (a.rpm vs rebuilt/a.rpm, or renamed copies).
  if (published.length === 1 && rebuilt.length === 1) {
    const only = await verifyPair(published[0]!, rebuilt[0]!, options);
    return { verdict: setVerdict([only], [], []), artifacts: [only], missing: [], extra: [] };
  }
  const byName = (paths: string[]) => {
    const m = new Map<string, string>();
    for (const p of paths) {
      const n = basename(p);
      if (m.has(n)) throw new ReproveError('io', `Cannot pair artifacts: two are named ${n} (${m.get(n)}, ${p})`);
      m.set(n, p);
    }
    return m;
  };
  const pub = byName(published);
  const reb = byName(rebuilt);
  const missing = [...pub.keys()].filter((n) => !reb.has(n)).sort();
  const extra = [...reb.keys()].filter((n) => !pub.has(n)).sort();
  const artifacts: ArtifactVerdict[] = [];
  for (const n of [...pub.keys()].filter((k) => reb.has(k)).sort()) artifacts.push(await verifyPair(pub.get(n)!, reb.get(n)!, options));
  return { verdict: setVerdict(artifacts, missing, extra), artifacts, missing, extra };
}

function setVerdict(artifacts: ArtifactVerdict[], missing: string[], extra: string[]): Verdict {
  if (artifacts.some((a) => a.verdict === 'ERROR')) return 'ERROR';
  if (missing.length || extra.length || artifacts.some((a) => a.verdict === 'UNREPRODUCIBLE')) return 'UNREPRODUCIBLE';
  if (artifacts.length === 0) return 'ERROR';
  if (artifacts.every((a) => a.verdict === 'BIT_IDENTICAL')) return 'BIT_IDENTICAL';
  return artifacts.every((a) => a.verdict === 'BIT_IDENTICAL' || a.verdict === STRICT_RPM_VERDICT) ? STRICT_RPM_VERDICT : 'REPRODUCIBLE';
}

/** A set's verdict as plain data (without the difference trees): what `reprove verify --json` writes and the service stores. */
export function verdictData(v: SetVerdict): { verdict: Verdict; missing: string[]; extra: string[]; artifacts: Omit<ArtifactVerdict, 'difference'>[] } {
  const strip = (a: ArtifactVerdict): Omit<ArtifactVerdict, 'difference'> => {
    const { difference, ...rest } = a;
    void difference;
    return rest;
  };
  return { verdict: v.verdict, missing: v.missing, extra: v.extra, artifacts: v.artifacts.map(strip) };
}

/** verdictData as indented JSON text. */
export function verdictJson(v: SetVerdict): string {
  return JSON.stringify(verdictData(v), null, 2) + '\n';
}
