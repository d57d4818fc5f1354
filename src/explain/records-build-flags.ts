// records_build_flags: CFLAGS are recorded (pkg-config files, compile
// commands, Python sysconfig), and with them the build path they contain.
import type { Detector, LineContext } from './detector.js';
import { normaliseBuildPath } from './captures-build-path.js';

const FLAGS = /(-f(file|debug|macro)-prefix-map=|\bC(XX|PP)?FLAGS\b|\bLDFLAGS\b|\s-O[0-3sz]?\s.*\s-g\b|\s-g\b.*\s-O[0-3sz]?\s)/;

export const recordsBuildFlags: Detector = {
  id: 'records_build_flags',
  title: 'Compiler flags, with the build path in them, are recorded',
  fix: 'Do not record the full CFLAGS in installed files (strip -ffile-prefix-map=... before writing them), or build in a fixed path.',
  normalise: (line: string, context: LineContext) => (FLAGS.test(line) ? normaliseBuildPath(line, context) : line),
};
