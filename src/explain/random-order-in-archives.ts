// random_order_in_tarball and siblings: members written in directory order
// (readdir), which differs between file systems and runs.
import type { Detector } from './detector.js';
import { containerFormat } from './patterns.js';

const IDS: Record<string, string> = {
  tar: 'random_order_in_tarball',
  deb: 'random_order_in_tarball',
  zip: 'random_order_in_zip',
  ar: 'random_order_in_static_libraries',
  cpio: 'random_order_in_cpio',
  md5sums: 'random_order_in_md5sums',
};

export const randomOrderInArchives: Detector = {
  id: 'random_order_in_tarball',
  title: 'Archive members are in a different order',
  fix: 'Sort the members: `tar --sort=name`, `find ... | LC_ALL=C sort | cpio`, `zip` from a sorted list, `ar` with sorted objects (LC_ALL=C sort of the object list).',
  detect(items) {
    return items
      .filter((i) => i.change?.field === 'order')
      .map((i) => ({ items: [i], confidence: 'high' as const, id: IDS[containerFormat(i)] ?? 'random_order_in_tarball' }));
  },
};
