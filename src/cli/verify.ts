// `reprove verify PUBLISHED REBUILT`: verdicts under per-format policies, with
// the known causes of what differs.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeChunks } from '../present/write.js';
import { STRICT_RPM_VERDICT } from '../verdict/rpm-strict.js';
import { builtinPolicies, resolvePolicies, type Policy } from '../verdict/policy.js';
import { isReproduced, verdictJson, type ArtifactVerdict, type SetVerdict } from '../verdict/verify.js';
import { verifySet } from '../index.js';
import { limitFlags, limitsFrom, runOptions, UsageError } from './options.js';
import { presenters, type PresenterName } from '../present/registry.js';

export const verifyUsage = `Usage: reprove verify [options] PUBLISHED REBUILT

PUBLISHED and REBUILT are two files, two directories of artifacts (paired by
file name), or two @LIST files with one path per line. Exit status: 0 when all
are reproducible under the policy, 1 otherwise, 2 on error.

  --json FILE            verdicts as JSON ("-" for stdout)
  --strict               bit-for-bit for everything (no policy)
  --policy NAME|FILE     also apply the named built-in policy, or load policies
                         from a JSON file (they replace built-ins of the same name)
  --report-dir DIR       write each differing pair's reports there (text, json, html)
  --list-policies        print the policies and exit
  plus the limit flags of reprove diff
`;

async function artifactsOf(arg: string): Promise<string[]> {
  if (arg.startsWith('@')) {
    const text = await readFile(arg.slice(1), 'utf8');
    return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  }
  const st = await stat(arg).catch(() => {
    throw new UsageError(`Cannot read ${arg}: no such file or directory`);
  });
  if (!st.isDirectory()) return [arg];
  return (await readdir(arg, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(arg, e.name));
}

function summary(a: ArtifactVerdict): string {
  const parts: string[] = [];
  if (a.error) parts.push(a.error);
  if (a.ignored.length) parts.push(`allowed: ${[...new Set(a.ignored.map((e) => e.field ?? e.path.slice(1).join(' / ')))].join(', ')}`);
  if (a.differences.length) parts.push(`differs: ${[...new Set(a.differences.map((e) => [e.path.slice(1).join(' / '), e.field].filter(Boolean).join(' ')))].slice(0, 5).join('; ')}${a.differences.length > 5 ? '; ...' : ''}`);
  return parts.join('\n    ');
}

export function renderVerdicts(v: SetVerdict): string {
  const out: string[] = [];
  for (const a of v.artifacts) {
    out.push(`${a.verdict.padEnd(15)} ${a.name}${a.policies.length ? `  [policy: ${a.policies.join(', ')}]` : ''}`);
    const s = summary(a);
    if (s) out.push(`    ${s}`);
    for (const i of a.issues) out.push(`    cause: ${i.id} (${i.confidence})${i.ignored ? ' (ignored by policy)' : ''} — fix: ${i.fix}`);
    if (a.unexplained.length) out.push(`    unexplained: ${a.unexplained.length} difference(s), e.g. ${a.unexplained[0]}`);
    if (a.strict) out.push(`    not ${STRICT_RPM_VERDICT}: ${a.strict.error ?? `differs in ${a.strict.differingFields.join(', ')} with the published signature header transplanted`}`);
  }
  for (const m of v.missing) out.push(`MISSING         ${m} (published, not rebuilt)`);
  for (const e of v.extra) out.push(`EXTRA           ${e} (rebuilt, not published)`);
  out.push(`set: ${v.verdict} (${v.artifacts.length} compared, ${v.missing.length} missing, ${v.extra.length} extra)`);
  return out.join('\n') + '\n';
}

/** --policy arguments: built-in names or files; a file that cannot be read is a usage error naming the built-ins. */
async function loadPolicies(args: string[]): Promise<{ policies: Policy[]; selected: string[] }> {
  for (const p of args)
    if (!builtinPolicies.some((b) => b.name === p) && !(await stat(p).then((s) => s.isFile(), () => false)))
      throw new UsageError(`--policy ${p}: neither a built-in policy (${builtinPolicies.map((b) => b.name).join(', ')}) nor a readable file`);
  return resolvePolicies(args);
}

export async function runVerify(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'string' },
      strict: { type: 'boolean' },
      policy: { type: 'string', multiple: true },
      'report-dir': { type: 'string' },
      'list-policies': { type: 'boolean' },
      exclude: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      ...limitFlags,
    },
  });
  if (values.help) {
    process.stdout.write(verifyUsage);
    return 0;
  }
  const { policies, selected } = await loadPolicies(values.policy ?? []);
  if (values['list-policies']) {
    process.stdout.write(JSON.stringify(policies, null, 2) + '\n');
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(`reprove verify takes PUBLISHED and REBUILT, got ${positionals.length} arguments\n\n${verifyUsage}`);
  const [pub, reb] = await Promise.all(positionals.map(artifactsOf));
  const result = await verifySet(pub!, reb!, { ...runOptions(), limits: limitsFrom(values), exclude: values.exclude ?? [], policies, selected, strict: values.strict ?? false });
  if (values.json === '-') process.stdout.write(verdictJson(result));
  else {
    process.stdout.write(renderVerdicts(result));
    if (values.json) await writeFile(values.json, verdictJson(result));
  }
  const dir = values['report-dir'];
  if (dir) {
    for (const a of result.artifacts) {
      if (!a.difference) continue;
      for (const [name, ext] of [['text', 'txt'], ['json', 'json'], ['html', 'html']] as [PresenterName, string][])
        await writeChunks(presenters[name](a.difference), join(dir, `${a.name}.diff.${ext}`));
    }
  }
  if (result.verdict === 'ERROR') return 2;
  return isReproduced(result.verdict) ? 0 : 1;
}
