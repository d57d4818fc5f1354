// Writes a report's pieces to a file or to standard output ("-"), gathered into
// blocks of about a megabyte and waiting when the stream is full, so memory holds
// one block, not the report.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const BLOCK = 1 << 20;

/** Writes a report's pieces to a file, or to standard output for "-". */
export async function writeChunks(chunks: Iterable<string>, target: string): Promise<void> {
  if (target === '-') return writeChunksTo(chunks, process.stdout, false);
  return writeChunksTo(chunks, createWriteStream(target), true);
}

/** Writes a report's pieces to a stream, waiting whenever it is full; `end` closes it afterwards. */
export async function writeChunksTo(chunks: Iterable<string>, out: Writable, end: boolean): Promise<void> {
  // An error can come while nothing is awaited (a file that cannot be opened): caught here, thrown at the next wait.
  let onError: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (onError = reject));
  failed.catch(() => {});
  out.on('error', onError);
  try {
    const write = async (text: string) => {
      if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
    };
    let block = '';
    for (const c of chunks) {
      block += c;
      if (block.length >= BLOCK) {
        await write(block);
        block = '';
      }
    }
    if (block) await write(block);
    if (end) {
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
    }
  } finally {
    // A stream the caller keeps (standard output) outlives this report: leave no listener behind on it.
    out.off('error', onError);
  }
}
