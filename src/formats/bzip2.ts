// bzip2, decompressed by the bzip2 tool in a subprocess (streaming, on another core).
import { toolOutput } from '../compare/tool.js';
import { streamFormat } from './compression.js';
import { FORMAT } from './names.js';

export const bzip2Format = streamFormat({
  name: FORMAT.bzip2,
  extension: '.bz2',
  magic: (h) => h.length >= 4 && h.toString('latin1', 0, 3) === 'BZh' && h[3]! >= 0x31 && h[3]! <= 0x39,
  fileName: /\.bz2$/i,
  decompress: (a, ctx) => toolOutput(ctx, a, 'bzip2', ['-dc']),
  header: async (a) => ({ 'block size': `${String.fromCharCode((await a.read(3, 1))[0]!)}00k` }),
});
