// paths_vary_due_to_usrmerge: a tool found by PATH lookup is recorded as
// /bin/foo on one builder and /usr/bin/foo on another (merged /usr).
import type { Detector } from './detector.js';

const MERGED = /(^|[^\w./-])\/usr\/(s?bin|lib(32|64|x32)?)\//g;

export const pathsVaryDueToUsrmerge: Detector = {
  id: 'paths_vary_due_to_usrmerge',
  title: 'Paths differ between /bin and /usr/bin (merged /usr)',
  fix: 'Record tools by name, or pass the full path explicitly (e.g. ac_cv_path_GREP=/bin/grep, SED=/bin/sed) instead of the one PATH lookup found.',
  normalise: (line) => line.replace(MERGED, '$1/$2/'),
};
