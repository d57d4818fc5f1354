// gcc_captures_build_path: C/C++ objects keep the build directory in their
// debug info (DW_AT_comp_dir, DW_AT_name), __FILE__ strings and assert()
// messages. Claimed for an ELF file only on evidence of a build path: the path
// itself in its strings or debug info (high), or, where the report shows two
// build directories elsewhere, an ELF file whose debug sections differ and whose
// every other difference is an address shift (medium). Two versions of a program
// differ in code as well: added strings, other instructions. Those are not a
// build path, and the lines that differ that way are never claimed.
import type { Detector } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { learnBuildPaths, normaliseBuildPath } from './captures-build-path.js';
import { artifactKey, goArtifacts } from './patterns.js';
import { pushTo } from '../compare/group-by.js';
import { FORMAT } from '../formats/names.js';

/** Addresses, offsets and sizes: decimal, hex with 0x, bare hex of four digits or more, and a byte or two of a hex block ("3 2d 20"). */
const NUMBER = /\b(0x[0-9a-f]+|[0-9a-f]{4,}|[0-9a-f]*\d[0-9a-f]*)\b/gi;
const DEBUG_SECTION = /(^|[\s=])\.(z?debug_\w+|rodata[\w.]*|comment)\b/;
/** Sections whose bytes are shown as a hex dump and follow a path's length: debug info, and the unwind tables, which encode code addresses relative to where they sit. */
const SHIFTED_WHOLE = /^ELF section \.(z?debug_\w+|eh_frame(_hdr)?)$/;

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
    // No build directory differs anywhere in the report: whatever differs in a binary, it is not a build path.
    const buildPaths = learnBuildPaths(items);
    if (buildPaths.length === 0) return [];
    const context = { buildPaths };
    const hasPath = (text: string | undefined) => text !== undefined && buildPaths.some(([a, b]) => text.includes(a) || text.includes(b));
    const showsPath = (i: EvidenceItem) => (i.line !== undefined && (hasPath(i.line.removed) || hasPath(i.line.added))) || (i.ascii ?? []).some((l) => hasPath(l.removed) || hasPath(l.added));
    // A line pair alike once the build paths and the numbers (addresses, offsets, sizes) are set aside.
    const shiftedLine = (i: EvidenceItem) =>
      i.line !== undefined && i.line.removed !== undefined && i.line.added !== undefined && normaliseBuildPath(i.line.removed, context).replace(NUMBER, '#') === normaliseBuildPath(i.line.added, context).replace(NUMBER, '#');
    const inDebugInfo = (i: EvidenceItem) => DEBUG_SECTION.test(sectionOf(i)) || (i.change !== undefined && /^section:\.(z?debug_|rodata)/.test(i.change.field));
    const unreadable = (i: EvidenceItem) => i.whole === true && i.node.kind === 'binary' && (SHIFTED_WHOLE.test(sectionOf(i)) || DEBUG_SECTION.test(sectionOf(i)));
    // What a longer or shorter build path explains in a file: the path, addresses it moved, debug info it sits in.
    const explained = (i: EvidenceItem) => showsPath(i) || shiftedLine(i) || unreadable(i) || (i.change !== undefined && inDebugInfo(i));

    // Go binaries have their own detector (golang_compiler_captures_build_path_in_binary).
    const go = goArtifacts(items);
    const byArtifact = new Map<string, EvidenceItem[]>();
    for (const i of items) {
      if (i.format !== FORMAT.elf || go.has(artifactKey(i))) continue;
      pushTo(byArtifact, artifactKey(i), i);
    }
    const high: EvidenceItem[] = [];
    const medium: EvidenceItem[] = [];
    for (const elf of byArtifact.values()) {
      if (!elf.some(inDebugInfo)) continue;
      if (elf.some(showsPath)) high.push(...elf.filter(explained));
      // The path is not shown (compressed debug sections, say): only a file in which nothing but addresses and debug info differs.
      else if (elf.every((i) => i.change !== undefined || (i.unexamined === undefined && explained(i)))) medium.push(...elf.filter(explained));
    }
    return [...(high.length ? [{ items: high, confidence: 'high' as const }] : []), ...(medium.length ? [{ items: medium, confidence: 'medium' as const }] : [])];
  },
};
