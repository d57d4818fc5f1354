// The backends a worker knows, one line each. A job naming a backend that is not
// here, or not installed on this host, is an infrastructure error naming it.
import type { Backend } from '../backend.js';
import { commandBackend } from './command.js';
import { fedoraBackend } from './fedora.js';

export const backends: readonly Backend[] = [
  commandBackend, // a shell recipe per package, run on the host as it is
  fedoraBackend, // a koji build's SRPM in its recreated buildroot (mock), or with rpmbuild on the host
];

export function backendNamed(name: string, list: readonly Backend[] = backends): Backend | undefined {
  return list.find((b) => b.name === name);
}
