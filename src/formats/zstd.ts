// Zstandard, decompressed by zstd in a subprocess; frame header flags compared.
import { toolOutput } from '../compare/tool.js';
import { streamFormat } from './compression.js';
import { FORMAT } from './names.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export const zstdFormat = streamFormat({
  name: FORMAT.zstd,
  extension: '.zst',
  magic: (h) => h.subarray(0, 4).equals(ZSTD_MAGIC),
  fileName: /\.(zst|zstd|tzst)$/i,
  // The window limit bounds the decompressor's memory against hostile frame headers.
  decompress: (a, ctx) => toolOutput(ctx, a, 'zstd', ['-dc', '--memory=512MB']),
  header: async (a) => {
    const h = await a.read(4, 1);
    const fhd = h[0] ?? 0;
    return {
      'content size recorded': fhd >> 6 || fhd & 0x20 ? 'yes' : 'no',
      checksum: fhd & 0x04 ? 'yes' : 'no',
      'dictionary id': fhd & 0x03 ? 'present' : 'none',
    };
  },
});
