// Placeholder until the deb reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const debFormat: Format = {
  name: 'deb',
  compare: async () => {
    throw new ReproveError('unsupported', 'deb is not read yet');
  },
};
