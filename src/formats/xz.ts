// xz (and legacy lzma), decompressed by xz in a subprocess.
import { toolOutput } from '../compare/tool.js';
import { streamFormat } from './compression.js';
import { FORMAT } from './names.js';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const CHECKS: Record<number, string> = { 0: 'none', 1: 'CRC32', 4: 'CRC64', 10: 'SHA-256' };

export const xzFormat = streamFormat({
  name: FORMAT.xz,
  extension: '.xz',
  magic: (h) => h.subarray(0, 6).equals(XZ_MAGIC),
  fileName: /\.(xz|txz)$/i,
  decompress: (a, ctx) => toolOutput(ctx, a, 'xz', ['-dc', '--memlimit-decompress=1GiB']),
  header: async (a) => {
    const h = await a.read(0, 8);
    const check = h.length >= 8 ? h[7]! & 0x0f : -1;
    return { check: CHECKS[check] ?? `unknown (${check})` };
  },
});
