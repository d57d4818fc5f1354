// The format of bytes no other format reads: the engine's hex dump diff.
import { compareBinary } from '../compare/hexdump.js';
import type { Format } from './format.js';
import { FORMAT } from './names.js';

export const binaryFormat: Format = {
  name: FORMAT.binary,
  compare: (a, b, ctx) => compareBinary(a, b, ctx),
};
