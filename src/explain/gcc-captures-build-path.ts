// gcc_captures_build_path: C/C++ objects keep the build directory in their
// debug info (DW_AT_comp_dir, DW_AT_name), __FILE__ strings and assert()
// messages. Seen as differing .debug_* (and string) sections of an ELF file in
// a report whose other evidence shows two build directories.
import type { Detector } from './detector.js';
import { learnBuildPaths } from './captures-build-path.js';

const DEBUG_SECTION = /(^|[\s=])\.(z?debug_\w+|rodata[\w.]*|comment)\b/;

export const gccCapturesBuildPath: Detector = {
  id: 'gcc_captures_build_path',
  title: 'The compiler recorded the build path (debug info, __FILE__)',
  fix: 'Add -ffile-prefix-map=$PWD=. (or -fdebug-prefix-map and -fmacro-prefix-map) to CFLAGS/CXXFLAGS, or build in a fixed path.',
  detect(items) {
    const elf = items.filter((i) => i.format === 'elf' && (DEBUG_SECTION.test(i.node.source1) || (i.change && /^section:\.(z?debug_|rodata)/.test(i.change.field))));
    if (elf.length === 0) return [];
    const paths = learnBuildPaths(items);
    const debugStrings = elf.some((i) => i.line && [i.line.removed, i.line.added].some((l) => l !== undefined && paths.some(([a, b]) => l.includes(a) || l.includes(b))));
    if (paths.length === 0 && !debugStrings) return [];
    return [{ items: elf, confidence: debugStrings ? 'high' : 'medium' }];
  },
};
