#!/usr/bin/env -S node --max-semi-space-size=4
// The `reprove` command: a thin caller of the engine.
// The interpreter line sets the young generation's semi-spaces to 4 MiB: measured on
// the bench, 1 MiB made scavenges so frequent that large pairs ran 10-20 % slower,
// and the default 16 MiB added resident memory without adding speed.
import { AbortError, ReproveError } from '../compare/errors.js';
import { stop, UsageError } from './options.js';

const usage = (diffUsage: string) => `Usage: reprove COMMAND [options]

Commands:
  diff A B          compare two files or directories (reprove diff --help)
  verify P R        verdicts for published vs rebuilt artifacts (reprove verify --help)
  check INPUT...    rebuild one package in its recorded environment and verify it (reprove check --help)
  explain REPORT    known causes in a diffoscope or reprove JSON report
  worker            rebuild jobs of a reprove daemon (reprove worker --help)
  ctl COMMAND       operate a running daemon: status, pkgs, queue, workers, result (reprove ctl --help)
  serve             run the rebuilder daemon (reprove serve --help)
  start             daemon, local worker and the example distribution on this host (npm start)

${diffUsage}`;

// Each command's module is loaded when it runs: start-up cost is part of every comparison.
const commands: Record<string, (args: string[]) => Promise<number>> = {
  diff: async (a) => (await import('./diff.js')).runDiff(a),
  verify: async (a) => (await import('./verify.js')).runVerify(a),
  check: async (a) => (await import('./check.js')).runCheck(a),
  explain: async (a) => (await import('./explain.js')).runExplain(a),
  worker: async (a) => (await import('./worker.js')).runWorkerCommand(a),
  ctl: async (a) => (await import('./ctl.js')).runCtl(a),
  serve: async (a) => (await import('./serve.js')).runServe(a),
  start: async (a) => (await import('./start.js')).runStart(a),
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage((await import('./diff.js')).diffUsage));
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

// A signal aborts the running comparison, which kills its programs and removes its
// temporary directory; the command then ends with the shell's code for that signal.
// Should the abort not finish in time, the process ends anyway.
let stoppedBy: NodeJS.Signals | undefined;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    stoppedBy = sig;
    stop.abort(sig);
    setTimeout(() => process.exit(exitCodeFor(sig)), 3000).unref();
  });
}
const exitCodeFor = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 130 : sig === 'SIGHUP' ? 129 : 143);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = stoppedBy ? exitCodeFor(stoppedBy) : code;
  },
  (err: unknown) => {
    if (stoppedBy && (err instanceof AbortError || stop.signal.aborted)) {
      process.exitCode = exitCodeFor(stoppedBy);
      return;
    }
    const message = err instanceof ReproveError ? err.describe() : err instanceof Error ? err.message : String(err);
    process.stderr.write(`reprove: error: ${message}\n`);
    process.exitCode = 2;
  },
);
