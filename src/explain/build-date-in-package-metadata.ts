// Package metadata that records when the build ran: Arch's builddate, RPM's
// BUILDTIME, Debian .buildinfo's Build-Date. Allowed by some policies; when it
// is not, SOURCE_DATE_EPOCH is the fix.
import type { Detector } from './detector.js';
import { changesOf } from './patterns.js';

export const buildDateInPackageMetadata: Detector = {
  id: 'build_date_in_package_metadata',
  title: 'Package metadata records the build date',
  fix: 'Build with SOURCE_DATE_EPOCH set (makepkg and debhelper use it; for RPM %use_source_date_epoch_as_buildtime 1), or judge with a policy that allows the field.',
  detect(items) {
    const found = changesOf(items, ['builddate', 'BUILDTIME', 'Build-Date']);
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
