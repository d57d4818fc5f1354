// user_hostname_manually_added_requiring_further_investigation: the build
// machine's host name or the building user is recorded: package metadata
// (Arch's buildhost, RPM's BUILDHOST, .buildinfo's Build-Host), uname -a,
// "built by user@host" strings, BUILD_HOST=/BUILD_USER= and the like.
import type { Detector } from './detector.js';
import { changesOf } from './patterns.js';

const NAME = '[A-Za-z][\\w.-]*';
const PATTERNS: [RegExp, string][] = [
  // uname -a: "Linux HOST RELEASE ..." (the release possibly rewritten already by captures_kernel_version).
  [new RegExp(`\\bLinux ${NAME} (?=\\d+\\.\\d+|<KERNEL_VERSION>)`, 'g'), 'Linux <HOST> '],
  // Variables and fields that name the host or user.
  [
    new RegExp(`\\b((?:LINUX_)?COMPILE_(?:BY|HOST)|BUILD_?HOST(?:NAME)?|HOSTNAME|BUILD_?USER|BUILT_?BY|LOGNAME|USER|[Bb]uild[-_ ]?[Hh]ost|[Bb]uild[-_ ]?[Uu]ser|[Bb]uilt[-_ ]?[Bb]y)(\\s*[:=]\\s*|\\s+)(["']?)${NAME}(@${NAME})?`, 'g'),
    '$1$2$3<HOST>',
  ],
  // "built by user@host", "compiled by user on host"
  [new RegExp(`\\b([Bb]uilt|[Cc]ompiled|[Gg]enerated) by ${NAME}(@${NAME})?( on (?:host )?${NAME})?`, 'g'), '$1 by <USER>'],
];

export const userHostname: Detector = {
  id: 'user_hostname_manually_added_requiring_further_investigation',
  title: 'The build host name or user is recorded',
  fix: 'Do not record the host or user name in the build (drop `hostname`/`whoami`/`uname -a` from generated files; KBUILD_BUILD_HOST/KBUILD_BUILD_USER for kernels); for package metadata, %_buildhost in RPM, or judge with a policy that allows the field.',
  normalise: (line) => PATTERNS.reduce((l, [re, to]) => l.replace(re, to), line),
  detect(items) {
    const found = changesOf(items, ['buildhost', 'BUILDHOST', 'Build-Host']);
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
