// A one-line progress display on stderr, only when stderr is a terminal.
import type { Progress } from '../compare/context.js';

export function terminalProgress(): Progress | undefined {
  if (!process.stderr.isTTY) return undefined;
  let total = 0;
  let done = 0;
  let last = 0;
  const draw = (label: string) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : 0;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const text = `[${bar}] ${done}/${total} ${label}`.slice(0, (process.stderr.columns || 80) - 1);
    process.stderr.write(`\r\x1b[K${text}`);
  };
  process.once('exit', () => process.stderr.write('\r\x1b[K'));
  return {
    total: (n) => {
      total += n;
      draw('');
    },
    advance: (n, label) => {
      done += n;
      draw(label);
    },
  };
}
