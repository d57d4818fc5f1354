// The format of bytes no other format reads: the engine's hex dump diff.
import { compareBinary } from '../compare/hexdump.js';
import type { Format } from './format.js';

export const binaryFormat: Format = {
  name: 'binary',
  compare: (a, b, ctx) => compareBinary(a, b, ctx),
};
