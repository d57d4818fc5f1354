// Placeholder until the zip reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const zipFormat: Format = {
  name: 'zip',
  compare: async () => {
    throw new ReproveError('unsupported', 'zip is not read yet');
  },
};
