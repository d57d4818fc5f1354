// rpm_header_only: two RPMs whose payloads are identical but whose main header
// differs in fields the policy does not allow (or the policy is strict).
import type { Detector } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { pushTo } from '../compare/group-by.js';
import { artifactKey } from './patterns.js';
import { FORMAT, NODE } from '../formats/names.js';

const RPM_HEADERS: ReadonlySet<string> = new Set([NODE.rpmHeader, NODE.rpmSignatureHeader, NODE.rpmLead]);

export const rpmHeaderOnly: Detector = {
  id: 'rpm_header_only',
  title: 'Only RPM header fields differ; the payload is identical',
  fix: 'Set %use_source_date_epoch_as_buildtime 1, %clamp_mtime_to_source_date_epoch 1, %_buildhost reproducible and SOURCE_DATE_EPOCH from the changelog (%source_date_epoch_from_changelog 1).',
  detect(items) {
    const byRpm = new Map<string, EvidenceItem[]>();
    for (const i of items) {
      if (i.format !== FORMAT.rpm) continue;
      const key = artifactKey(i);
      pushTo(byRpm, key, i);
    }
    const claims = [];
    for (const list of byRpm.values()) {
      // Header-only: every item sits in a header view of the RPM itself, none inside the payload.
      if (list.length && list.every((i) => i.node.kind === 'header' || RPM_HEADERS.has(i.node.source1))) claims.push({ items: list, confidence: 'high' as const });
    }
    return claims;
  },
};
