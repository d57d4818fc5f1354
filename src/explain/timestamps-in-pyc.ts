// timestamps_in_pyc: timestamp-based .pyc files record the source's mtime.
import type { Detector } from './detector.js';
import { changesOf } from './patterns.js';
import { FORMAT, NODE } from '../formats/names.js';

export const timestampsInPyc: Detector = {
  id: 'timestamps_in_pyc',
  title: '.pyc files record the source mtime',
  fix: 'Set SOURCE_DATE_EPOCH (py_compile then writes hash-based .pyc files), or compile with `python3 -m compileall --invalidation-mode checked-hash`; clamp source mtimes before byte-compiling.',
  detect(items) {
    const found = changesOf(items, ['mtime', 'source mtime'], (i) => i.format === FORMAT.pyc || i.node.source1 === NODE.pycHeader);
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
