// `reprove diff A B`: compare two files or directories and write the reports.
import { parseArgs } from 'node:util';
import { compare } from '../index.js';
import type { PresenterName } from '../present/registry.js';
import { limitFlags, limitsFrom, runOptions, UsageError } from './options.js';
import { terminalProgress } from './progress.js';

export const diffUsage = `Usage: reprove diff [options] A B

Compares two files or directories recursively. Exit status: 0 identical, 1 different, 2 error.

Output (default: text on standard output; FILE "-" is standard output):
  --text FILE               text report, diffoscope's layout
  --json FILE               JSON report, diffoscope's schema
  --html FILE               self-contained HTML page
  --markdown FILE           Markdown report
Comparison:
  --exclude GLOB            leave out members matching GLOB (repeatable)
  --fuzzy-threshold N       pair unmatched members at N% similarity (0 disables; default 60)
  --progress                progress bar on stderr when it is a terminal
  -j, --jobs N              concurrent member comparisons (default 4)
Limits (sizes take K, M, G suffixes):
  --max-depth N             container nesting (default 50)
  --max-decompressed-size S per decompressed stream (default 16G)
  --max-total-decompressed S  for the whole run (default 64G)
  --max-ratio N             decompression ratio past 256M (default 100000)
  --max-members N           members per container (default 1000000)
  --max-diff-block-lines N  lines per diff block (default 1024)
  --max-diff-input-size S   bytes of text diffed per side (default 64M)
  --max-report-size S       bytes of diff text in the report (default 40M)
`;

export async function runDiff(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      text: { type: 'string' },
      json: { type: 'string' },
      html: { type: 'string' },
      markdown: { type: 'string' },
      exclude: { type: 'string', multiple: true },
      progress: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...limitFlags,
    },
  });
  if (values.help) {
    process.stdout.write(diffUsage);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(`reprove diff takes two paths, got ${positionals.length}\n\n${diffUsage}`);
  const [a, b] = positionals as [string, string];
  const outputs: [PresenterName, string][] = [];
  for (const name of ['text', 'json', 'html', 'markdown'] as const) {
    const target = values[name];
    if (typeof target === 'string') outputs.push([name, target]);
  }
  if (outputs.length === 0) outputs.push(['text', '-']);

  const result = await compare(a, b, {
    ...runOptions(),
    limits: limitsFrom(values),
    exclude: values.exclude ?? [],
    progress: values.progress ? terminalProgress() : undefined,
  });
  if (result.difference) {
    // Explaining and presenting are loaded only when there is something to show.
    const [{ annotate }, { presenters }, { writeChunks }] = await Promise.all([import('../explain/explain.js'), import('../present/registry.js'), import('../present/write.js')]);
    annotate(result.difference);
    for (const [name, target] of outputs) await writeChunks(presenters[name](result.difference), target);
  }
  return result.difference ? 1 : 0;
}
