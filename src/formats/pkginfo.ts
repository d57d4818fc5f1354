// Placeholder until the pkginfo reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const pkginfoFormat: Format = {
  name: 'pkginfo',
  compare: async () => {
    throw new ReproveError('unsupported', 'pkginfo is not read yet');
  },
};
