// Dates and times written into file contents (generated headers, docs, __DATE__,
// PDFs): the tool that wrote them does not honour SOURCE_DATE_EPOCH.
import type { Detector } from './detector.js';
import { DATE_PATTERNS } from './patterns.js';

export const timestampsInFileContent: Detector = {
  id: 'timestamps_in_file_content',
  title: 'A build date or time is written into the content',
  fix: 'Export SOURCE_DATE_EPOCH (e.g. from the changelog) and make the generator use it instead of the current time (date -d @$SOURCE_DATE_EPOCH, no __DATE__/__TIME__).',
  normalise: (line) => DATE_PATTERNS.reduce((l, re) => l.replace(re, '<DATE>'), line),
};
