// timestamps_in_tarball and its siblings: archive members carry the mtimes of
// the files the build wrote.
import type { Claim, Detector } from './detector.js';
import { containerFormat, linesMatching } from './patterns.js';
import { NODE } from '../formats/names.js';

const IDS: Record<string, string> = {
  tar: 'timestamps_in_tarball',
  zip: 'timestamps_in_zip',
  cpio: 'timestamps_in_cpio',
  ar: 'timestamps_in_static_libraries',
  deb: 'timestamps_in_tarball',
  mtree: 'timestamps_in_tarball',
  directory: 'timestamps_in_files',
};

export const timestampsInArchives: Detector = {
  id: 'timestamps_in_tarball',
  title: 'Archive members carry build-time modification times',
  fix: 'Set SOURCE_DATE_EPOCH and clamp: `tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime`, `touch -d @$SOURCE_DATE_EPOCH` before `zip -X`, `ar D`, `cpio --reproducible` after touching; or run strip-nondeterminism.',
  detect(items) {
    const byId = new Map<string, Claim>();
    for (const i of items) {
      const f = i.change?.field;
      if (!f || !['mtime', 'time', 'dos time', 'extra:dos time', 'extra:atime', 'extra:ctime', 'extra:pax atime', 'extra:pax ctime'].includes(f)) continue;
      if (i.node.source1 === NODE.gzipHeader || i.node.source1 === NODE.pycHeader) continue;
      const id = IDS[containerFormat(i)] ?? 'timestamps_in_tarball';
      const claim = byId.get(id) ?? { items: [], confidence: 'high', id };
      claim.items.push(i);
      byId.set(id, claim);
    }
    // diffoscope's file lists: lines that differ only in a date and time.
    const listed = linesMatching(items, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/).filter((i) => i.node.source1 === NODE.fileList && i.line!.removed !== undefined && i.line!.added !== undefined && !i.change);
    const sameButTime = listed.filter((i) => i.line!.removed!.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?/g, 'T') === i.line!.added!.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?/g, 'T'));
    if (sameButTime.length) byId.set('listing', { items: sameButTime, confidence: 'high', id: 'timestamps_in_tarball' });
    return [...byId.values()];
  },
};
