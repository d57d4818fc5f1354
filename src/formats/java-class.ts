// Placeholder until the java-class reader lands: recognises nothing.
import type { Format } from './format.js';
import { ReproveError } from '../compare/errors.js';

export const javaClassFormat: Format = {
  name: 'java-class',
  compare: async () => {
    throw new ReproveError('unsupported', 'java-class is not read yet');
  },
};
