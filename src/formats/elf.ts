// Placeholder until the elf reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const elfFormat: Format = {
  name: 'elf',
  compare: async () => {
    throw new ReproveError('unsupported', 'elf is not read yet');
  },
};
