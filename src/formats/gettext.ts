// Placeholder until the gettext reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const gettextFormat: Format = {
  name: 'gettext',
  compare: async () => {
    throw new ReproveError('unsupported', 'gettext is not read yet');
  },
};
