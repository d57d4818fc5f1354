#!/usr/bin/env node
// The `reprove` command: a thin caller of the engine.
import { ReproveError } from '../compare/errors.js';
import { diffUsage, runDiff } from './diff.js';
import { runExamples } from './examples.js';
import { runExplain } from './explain.js';
import { runVerify } from './verify.js';
import { UsageError } from './options.js';

const usage = `Usage: reprove COMMAND [options]

Commands:
  diff A B          compare two files or directories (reprove diff --help)
  verify P R        verdicts for published vs rebuilt artifacts (reprove verify --help)
  explain REPORT    known causes in a diffoscope or reprove JSON report
  examples [DIR]    compare the example pairs in DIR (default: examples/out)

${diffUsage}`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  diff: runDiff,
  verify: runVerify,
  explain: runExplain,
  examples: runExamples,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage);
    return cmd ? 0 : 2;
  }
  const run = commands[cmd];
  if (!run) throw new UsageError(`unknown command ${JSON.stringify(cmd)}; try: ${Object.keys(commands).join(', ')}`);
  return run(rest);
}

// A reader that stops early (reprove diff ... | head) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof ReproveError ? err.describe() : err instanceof Error ? err.message : String(err);
    process.stderr.write(`reprove: error: ${message}\n`);
    process.exitCode = 2;
  },
);
