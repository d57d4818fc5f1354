// Placeholder until the cpio reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const cpioFormat: Format = {
  name: 'cpio',
  compare: async () => {
    throw new ReproveError('unsupported', 'cpio is not read yet');
  },
};
