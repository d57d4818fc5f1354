// Placeholder until the debian-control reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const debianControlFormat: Format = {
  name: 'debian-control',
  compare: async () => {
    throw new ReproveError('unsupported', 'debian-control is not read yet');
  },
};
