// `reprove explain REPORT.json`: the known causes in a stored diffoscope or
// reprove JSON report.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { explain } from '../explain/explain.js';
import { ReproveError } from '../compare/errors.js';
import { parseJsonReport } from '../present/json.js';
import { UsageError } from './options.js';

export async function runExplain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('reprove explain takes one JSON report (diffoscope --json or reprove diff --json)');
  const text = await readFile(positionals[0]!, 'utf8').catch((e: Error) => {
    throw new UsageError(`Cannot read ${positionals[0]}: ${e.message}`);
  });
  let root;
  try {
    root = parseJsonReport(text, positionals[0]);
  } catch (e) {
    throw new UsageError(`Cannot read ${positionals[0]} as a diffoscope JSON report: ${e instanceof ReproveError ? e.describe() : (e as Error).message}`);
  }
  const e = explain(root);
  if (values.json) {
    process.stdout.write(JSON.stringify(e, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  for (const f of e.findings) {
    out.push(`${f.id} (${f.confidence} confidence, ${f.count} item${f.count === 1 ? '' : 's'}${f.ignored ? ', ignored by policy' : ''}): ${f.title}`, `  fix: ${f.fix}`);
    for (const ev of f.evidence.slice(0, 5)) out.push(`  - ${ev}`);
  }
  if (e.unexplainedCount) {
    out.push(`unexplained (${e.unexplainedCount}):`);
    for (const u of e.unexplained) out.push(`  - ${u}`);
  } else if (e.findings.length) out.push('every difference is explained');
  else out.push('no differences');
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
