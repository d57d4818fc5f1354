// Writes a report's pieces to a file or to standard output ("-"), gathered into
// blocks of about a megabyte and waiting when the stream is full, so memory holds
// one block, not the report.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const BLOCK = 1 << 20;

export async function writeChunks(chunks: Iterable<string>, target: string): Promise<void> {
  const out: Writable = target === '-' ? process.stdout : createWriteStream(target);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
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
  if (out !== process.stdout) {
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
  }
}
