// Placeholder until the pyc reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const pycFormat: Format = {
  name: 'pyc',
  compare: async () => {
    throw new ReproveError('unsupported', 'pyc is not read yet');
  },
};
