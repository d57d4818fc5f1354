// Placeholder until the mtree reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const mtreeFormat: Format = {
  name: 'mtree',
  compare: async () => {
    throw new ReproveError('unsupported', 'mtree is not read yet');
  },
};
