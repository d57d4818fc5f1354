// gcc_captures_build_path: C/C++ objects keep the build directory in their
// debug info (DW_AT_comp_dir, DW_AT_name), __FILE__ strings and assert()
// messages. Seen as differing .debug_* (and string) sections of an ELF file in
// a report whose other evidence shows two build directories.
import type { Detector } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { learnBuildPaths } from './captures-build-path.js';
import { artifactKey, goArtifacts } from './patterns.js';
import { FORMAT } from '../formats/names.js';

const NUMBER = /\b(0x[0-9a-f]+|[0-9a-f]{4,}|\d+)\b/gi;
const DEBUG_SECTION = /(^|[\s=])\.(z?debug_\w+|rodata[\w.]*|comment)\b/;

/** The ELF section an item is in: its node, or the node above it (a data section's "hex dump" beside its strings). */
function sectionOf(i: EvidenceItem): string {
  for (let k = i.path.length - 1; k >= 0; k--) if (i.path[k]!.startsWith('ELF section ')) return i.path[k]!;
  return i.node.source1;
}

export const gccCapturesBuildPath: Detector = {
  id: 'gcc_captures_build_path',
  title: 'The compiler recorded the build path (debug info, __FILE__)',
  fix: 'Add -ffile-prefix-map=$PWD=. (or -fdebug-prefix-map and -fmacro-prefix-map) to CFLAGS/CXXFLAGS, or build in a fixed path.',
  detect(items) {
    // Go binaries have their own detector (golang_compiler_captures_build_path_in_binary).
    const go = goArtifacts(items);
    const elf = items.filter((i) => i.format === FORMAT.elf && !go.has(artifactKey(i)) && (DEBUG_SECTION.test(sectionOf(i)) || (i.change && /^section:\.(z?debug_|rodata)/.test(i.change.field))));
    if (elf.length === 0) return [];
    const paths = learnBuildPaths(items);
    const debugStrings = elf.some((i) => i.line && [i.line.removed, i.line.added].some((l) => l !== undefined && paths.some(([a, b]) => l.includes(a) || l.includes(b))));
    if (paths.length === 0 && !debugStrings) return [];
    // Code and data of the same files that differ only in numbers: addresses shifted by the longer or shorter path.
    const artifacts = new Set(elf.map(artifactKey));
    // The unwind tables (.eh_frame, .eh_frame_hdr) encode code addresses relative to where they sit,
    // so when a longer or shorter path moves them, their bytes follow.
    const shifted = items.filter(
      (i) =>
        i.format === FORMAT.elf &&
        artifacts.has(artifactKey(i)) &&
        ((i.line && i.line.removed !== undefined && i.line.added !== undefined && i.line.removed.replace(NUMBER, '#') === i.line.added.replace(NUMBER, '#')) ||
          (i.whole && i.node.kind === 'binary' && /^ELF section \.eh_frame(_hdr)?$/.test(sectionOf(i)))),
    );
    return [{ items: [...new Set([...elf, ...shifted])], confidence: debugStrings ? 'high' : 'medium' }];
  },
};
