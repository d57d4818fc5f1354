// users_and_groups_in_tarball: members owned by the building user.
import type { Detector } from './detector.js';
import { changesOf } from './patterns.js';
import { FORMAT, NODE } from '../formats/names.js';

export const usersAndGroupsInArchives: Detector = {
  id: 'users_and_groups_in_tarball',
  title: 'Archive members record the build user and group',
  fix: 'Write archives with fixed owners: `tar --owner=0 --group=0 --numeric-owner`, `dpkg-deb --root-owner-group`, fakeroot.',
  detect(items) {
    const found = changesOf(items, ['uid', 'gid', 'uname', 'gname', 'owner', 'group'], (i) => i.node.kind === 'file-list' || i.node.kind === 'metadata' || i.node.source1 === NODE.mtreeContent || i.format === FORMAT.mtree);
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
