// Placeholder until the ar reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const arFormat: Format = {
  name: 'ar',
  compare: async () => {
    throw new ReproveError('unsupported', 'ar is not read yet');
  },
};
