// captures_build_path_via_assert: assert() messages embed __FILE__, the source
// path as the compiler saw it.
import type { Detector, LineContext } from './detector.js';
import { normaliseBuildPath } from './captures-build-path.js';

const ASSERT = /\bassert(ion)?\b|__FILE__|__assert_fail/i;

export const capturesBuildPathViaAssert: Detector = {
  id: 'captures_build_path_via_assert',
  title: 'assert() messages carry the absolute source path',
  fix: 'Compile with -fmacro-prefix-map=$PWD=. (part of -ffile-prefix-map), so __FILE__ in assert() is relative.',
  normalise: (line: string, context: LineContext) => (ASSERT.test(line) ? normaliseBuildPath(line, context) : line),
};
