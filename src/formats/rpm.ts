// Placeholder until the rpm reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const rpmFormat: Format = {
  name: 'rpm',
  compare: async () => {
    throw new ReproveError('unsupported', 'rpm is not read yet');
  },
};
