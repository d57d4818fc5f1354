// Generated files whose lines come out in a different order (hash order,
// readdir order): the same lines, permuted.
import type { Detector } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { pushTo } from '../compare/group-by.js';

export const randomOrderInFile: Detector = {
  id: 'random_order_in_generated_files',
  title: 'The same lines in a different order',
  fix: 'Sort what the generator iterates over (dictionary keys, directory listings: LC_ALL=C sort), or sort its output.',
  detect(items) {
    const byNode = new Map<object, EvidenceItem[]>();
    for (const i of items) if (i.line) pushTo(byNode, i.node, i);
    const claims = [];
    for (const list of byNode.values()) {
      const removed = list.map((i) => i.line!.removed).filter((l): l is string => l !== undefined).sort();
      const added = list.map((i) => i.line!.added).filter((l): l is string => l !== undefined).sort();
      if (removed.length > 0 && removed.length === added.length && removed.every((l, k) => l === added[k])) {
        // javadoc's class-use and index pages are the best-known case, with a cause id of their own.
        const javadoc = list[0]!.path.some((p) => /(^|\/)(class-use|api|javadoc)\/|-(summary|tree|use)\.html$|allclasses/.test(p));
        claims.push({ items: list, confidence: 'medium' as const, ...(javadoc ? { id: 'random_order_in_documentation_generated_by_javadoc' } : {}) });
      }
    }
    return claims;
  },
};
