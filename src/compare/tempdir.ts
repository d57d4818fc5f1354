// reprove's one temporary directory per run: every spilled stream and every
// file an external tool needs goes here, and the whole tree goes when the run ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<TempDir>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const removeAll = () => {
    for (const t of live) {
      try {
        t.removeSync();
      } catch (err) {
        // Stopped mid-run: a write still landing can keep the directory from going. Say so, no stack trace.
        process.stderr.write(`reprove: cannot remove temporary directory ${t.path}: ${(err as Error).message}\n`);
      }
    }
  };
  process.on('exit', removeAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      removeAll();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export class TempDir {
  readonly path: string;
  private counter = 0;

  constructor(parent = process.env['REPROVE_TMPDIR'] || tmpdir()) {
    this.path = mkdtempSync(join(parent, 'reprove-'));
    live.add(this);
    hookExit();
  }

  /** A fresh path inside the directory; the name is ours, never the archive's. */
  file(hint = 'f'): string {
    const safe = hint.replace(/[^A-Za-z0-9._-]/g, '_').slice(-40);
    return join(this.path, `${++this.counter}-${safe}`);
  }

  removeSync(): void {
    // Retried: files written by work still in flight (a stopped run) make rmdir fail with ENOTEMPTY.
    rmSync(this.path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    live.delete(this);
  }
}
