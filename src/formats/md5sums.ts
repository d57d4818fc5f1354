// Placeholder until the md5sums reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const md5sumsFormat: Format = {
  name: 'md5sums',
  compare: async () => {
    throw new ReproveError('unsupported', 'md5sums is not read yet');
  },
};
