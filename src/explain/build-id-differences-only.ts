// build_id_differences_only: an ELF file whose only difference is its GNU
// build-id (and what follows from it: the .gnu_debuglink CRC, the note section).
// When more differs, the build-id is a consequence, claimed as such.
import type { Claim, Detector } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { artifactKey, changesOf, linesMatching } from './patterns.js';
import { pushTo } from '../compare/group-by.js';

const BUILD_ID_LINE = /Build ID: [0-9a-f]+/;

const isBuildIdItem = (x: EvidenceItem) =>
  x.change?.field === 'NT_GNU_BUILD_ID' || x.change?.field === '.gnu_debuglink' || x.change?.field === 'section:.note.gnu.build-id' || (x.line !== undefined && BUILD_ID_LINE.test(x.line.removed ?? x.line.added ?? ''));

export const buildIdDifferencesOnly: Detector = {
  id: 'build_id_differences_only',
  title: 'Only the GNU build-id differs',
  fix: 'The build-id is a hash over the linked output: if nothing else differs, something stripped afterwards (debug info with build paths, a timestamp) went into the hash. Build with -ffile-prefix-map=$PWD=. and SOURCE_DATE_EPOCH, and compare the debug files.',
  detect(items) {
    const ids = [...changesOf(items, ['NT_GNU_BUILD_ID']), ...linesMatching(items, BUILD_ID_LINE)];
    if (ids.length === 0) return [];
    const byArtifact = new Map<string, EvidenceItem[]>();
    for (const x of items) {
      const key = artifactKey(x);
      pushTo(byArtifact, key, x);
    }
    const claims: Claim[] = [];
    for (const key of new Set(ids.map(artifactKey))) {
      const all = byArtifact.get(key) ?? [];
      const follows = all.filter(isBuildIdItem);
      if (follows.length === all.length) claims.push({ items: follows, confidence: 'high' });
      else claims.push({ items: follows, confidence: 'medium', id: 'build_id_follows_other_differences' });
    }
    return claims;
  },
};
