// `reprove examples`: compares each published/rebuilt pair that
// examples/make-examples.sh made, the job `npm start` shows off.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compare } from '../compare/compare.js';
import { renderText } from '../present/text.js';

export async function runExamples(args: string[]): Promise<number> {
  const dir = args[0] ?? 'examples/out';
  const published = join(dir, 'published');
  const rebuilt = join(dir, 'rebuilt');
  const names = (await readdir(published)).sort();
  let differing = 0;
  for (const name of names) {
    const result = await compare(join(published, name), join(rebuilt, name));
    process.stdout.write(`\n=== ${name}: ${result.difference ? 'DIFFERENT' : 'IDENTICAL'}\n`);
    if (result.difference) {
      differing++;
      process.stdout.write(renderText(result.difference));
    }
  }
  process.stdout.write(`\n${names.length} pairs compared, ${differing} different, ${names.length - differing} identical\n`);
  return 0;
}
