// `reprove examples`: verifies each published/rebuilt pair that
// examples/make-examples.sh made and prints the reports: the job `npm start`
// shows off.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { renderText } from '../present/text.js';
import { verifySet } from '../index.js';
import { runOptions } from './options.js';
import { renderVerdicts } from './verify.js';

export async function runExamples(args: string[]): Promise<number> {
  const dir = args[0] ?? 'examples/out';
  const list = async (side: string) => (await readdir(join(dir, side))).sort().map((n) => join(dir, side, n));
  const result = await verifySet(await list('published'), await list('rebuilt'), runOptions());
  for (const a of result.artifacts) {
    if (!a.difference) continue;
    process.stdout.write(`\n=== ${a.name}: ${a.verdict}\n${renderText(a.difference)}`);
  }
  process.stdout.write(`\n${renderVerdicts(result)}`);
  return 0;
}
