// The backends a worker knows, one line each. A job naming a backend that is not
// here, or not installed on this host, is an infrastructure error naming it.
import type { Backend } from '../backend.js';
import { archlinuxBackend } from './arch.js';
import { commandBackend } from './command.js';
import { debianBackend } from './debian.js';
import { fedoraBackend } from './fedora.js';

export const backends: readonly Backend[] = [
  commandBackend, // a shell recipe per package, run on the host as it is
  debianBackend, // a Debian .buildinfo: mmdebstrap chroot of the recorded versions, dpkg-buildpackage at the recorded path
  archlinuxBackend, // makerepropkg's way: an Arch package rebuilt from its .BUILDINFO and PKGBUILD
  fedoraBackend, // a koji build's SRPM in its recreated buildroot (mock), or with rpmbuild on the host
];

export function backendNamed(name: string, list: readonly Backend[] = backends): Backend | undefined {
  return list.find((b) => b.name === name);
}
