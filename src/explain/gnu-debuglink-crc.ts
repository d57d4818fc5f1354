// gnu_debuglink_crc: .gnu_debuglink holds the CRC of the separate debug file,
// so any difference in the debug info shows up in the stripped binary too.
import type { Detector } from './detector.js';
import { changesOf, linesMatching } from './patterns.js';

export const gnuDebuglinkCrc: Detector = {
  id: 'gnu_debuglink_crc',
  title: 'The .gnu_debuglink CRC of the separate debug file differs',
  fix: 'Make the debug file reproducible (build paths: -ffile-prefix-map; build-id); the CRC follows. In RPM, compare the -debuginfo package to find what differs.',
  detect(items) {
    const found = [...changesOf(items, ['.gnu_debuglink', 'section:.gnu_debuglink']), ...linesMatching(items, /\.gnu_debuglink|CRC value|\bcrc 0x[0-9a-f]+/i).filter((i) => /debuglink/.test(i.node.source1))];
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
