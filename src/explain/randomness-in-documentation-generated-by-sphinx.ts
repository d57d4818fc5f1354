// randomness_in_documentation_generated_by_sphinx: object reprs with memory
// addresses ("<function f at 0x7f3a...>") end up in generated documentation.
import type { Detector } from './detector.js';

const ADDRESS = /\b(at|object at|instance at) 0x[0-9a-f]{6,16}\b/gi;

export const randomnessInDocumentationGeneratedBySphinx: Detector = {
  id: 'randomness_in_documentation_generated_by_sphinx',
  title: 'Memory addresses of objects appear in generated documentation',
  fix: 'Give the documented objects a stable repr (or document their value explicitly, e.g. with :annotation:), so autodoc does not print "<object at 0x...>".',
  normalise: (line) => line.replace(ADDRESS, '$1 <ADDRESS>'),
};
