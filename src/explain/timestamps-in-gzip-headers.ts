// timestamps_in_gzip_headers: gzip records the input file's mtime (and name)
// in its header unless told not to.
import type { Detector } from './detector.js';
import { changesOf, linesMatching } from './patterns.js';
import { NODE } from '../formats/names.js';

export const timestampsInGzipHeaders: Detector = {
  id: 'timestamps_in_gzip_headers',
  title: 'gzip header records a modification time',
  fix: 'Compress with `gzip -n` (no name, no time), or with SOURCE_DATE_EPOCH-aware tools; for Python, gzip.GzipFile(mtime=0).',
  detect(items) {
    const found = [
      ...changesOf(items, ['mtime', 'original name'], (i) => i.node.source1 === NODE.gzipHeader),
      // diffoscope's reports: the file(1) description of the gzip stream.
      ...linesMatching(items, /^gzip compressed data.*last modified: /),
    ];
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
