// verify(): the verdict for one published/rebuilt pair or for two sets of
// artifacts. It compares, judges under the policies that apply, and explains.
import { basename } from 'node:path';
import { compare, type EngineOptions } from '../compare/compare.js';
import type { Difference } from '../compare/difference.js';
import { AbortError, ReproveError } from '../compare/errors.js';
import { annotate, type Finding } from '../explain/explain.js';
import { judge, type Evidence } from './judge.js';
import { builtinPolicies, policiesFor, type Policy } from './policy.js';

export type Verdict = 'BIT_IDENTICAL' | 'REPRODUCIBLE' | 'UNREPRODUCIBLE' | 'FTBFS' | 'ERROR';

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
  return {
    ...base,
    verdict: judgement.reproducible ? 'REPRODUCIBLE' : 'UNREPRODUCIBLE',
    policies: policies.map((p) => p.name),
    ignored: judgement.ignored,
    differences: judgement.blocking,
    issues: explanation.findings,
    unexplained: difference.unexplained ?? [],
    difference,
  };
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
  return artifacts.every((a) => a.verdict === 'BIT_IDENTICAL') ? 'BIT_IDENTICAL' : 'REPRODUCIBLE';
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
