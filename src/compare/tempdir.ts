// One temporary directory per comparison: every spilled stream and every file an
// external tool needs goes here, and the whole tree goes when the comparison ends
// (succeeded, failed or aborted). The engine installs no signal handler: a caller
// that stops mid-run aborts the comparison, which removes its directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class TempDir {
  private counter = 0;

  private constructor(readonly path: string) {}

  /** A new directory below `parent` (default: the system's temporary directory). */
  static async create(parent: string = tmpdir()): Promise<TempDir> {
    return new TempDir(await mkdtemp(join(parent, 'reprove-')));
  }

  /** A fresh path inside the directory; the name is ours, never the archive's. */
  file(hint = 'f'): string {
    const safe = hint.replace(/[^A-Za-z0-9._-]/g, '_').slice(-40);
    return join(this.path, `${++this.counter}-${safe}`);
  }

  async remove(): Promise<void> {
    // Retried: files still being written by work in flight make rmdir fail with ENOTEMPTY.
    await rm(this.path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
}
