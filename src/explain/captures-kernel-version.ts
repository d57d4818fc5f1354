// captures_kernel_version: the build machine's kernel written into output:
// `uname -r` (6.1.0-28-amd64, 6.12.48+deb13-amd64, 6.11.4-301.fc41.x86_64,
// 6.11.5-arch1-1, 6.8.0-45-generic), `uname -v` and `uname -a` (with the
// kernel's build number, flags, package version and date), /proc/version, and
// Python's platform string (Linux-6.1.0-28-amd64-x86_64-with-glibc2.36).
import type { Detector } from './detector.js';

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const ARCH = '(?:x86_64|aarch64|i[3-6]86|ppc64le|ppc64|s390x|riscv64|armv7hl|armv7l|loongarch64)';

// The last part of a release names the flavour, the distribution or the architecture.
const FLAVOUR = [
  // Debian (and derivatives): architecture and flavour (a +debNN before them marks the release, and alone a package version).
  'amd64', 'arm64', 'armmp(?:-lpae)?', 'armhf', 'i386', '686(?:-pae)?', 'powerpc64le', 'ppc64el', 'ppc64le', 's390x', 'riscv64', 'loong64',
  'mips64r[26]el', 'octeon', '[45]kc-malta', 'loongson-3', 'rpi', 'm68k',
  // Ubuntu, openSUSE, Alpine, WSL and clouds.
  'generic(?:-64k|-lpae)?', 'lowlatency', 'virtual', 'cloud', 'rt', 'kvm', 'aws', 'azure', 'gcp', 'gke', 'oracle', 'ibm', 'raspi', 'nvidia', 'default', 'virt',
  'microsoft-standard(?:-WSL2)?',
  // Arch and its kernels.
  'arch\\d+', 'lts', 'zen\\d*', 'hardened\\d*',
  // Fedora, RHEL and Amazon Linux always end in the architecture.
  `(?:fc|el|amzn)\\d+(?:_\\d+)?(?=\\.${ARCH})`,
  ARCH,
].join('|');

/**
 * A kernel release: a version, then `-` or `+` and dot/dash-separated parts of
 * which one is a flavour. Not inside another name (foo-1.2.3-1.fc41.x86_64.rpm
 * is a package), except after the names that carry a release (linux-image-,
 * kernel-core-, vmlinuz-, Linux- in Python's platform string).
 */
const RELEASE_SRC =
  `(?:(?<![\\w.+~-])|(?<=\\b(?:[Ll]inux|kernel|vmlinu[xz]|config|System\\.map|initrd\\.img|initramfs)(?:-(?:image|headers|modules|core|devel|extra|unsigned))*-))` +
  `\\d{1,2}\\.\\d{1,3}(?:\\.\\d{1,4}){0,2}[-+](?:[\\w~]+[-.+])*?(?:${FLAVOUR})(?![A-Za-z0-9])(?:[-.+][\\w~]+)*`;

/** The kernel's build date as uname -v prints it: Debian's (2024-11-22), date(1)'s, or RFC 2822. */
const BUILD_DATE = `(?:\\(\\d{4}-\\d{2}-\\d{2}\\)|${DAY} ${MONTH} +\\d{1,2} \\d{2}:\\d{2}:\\d{2} [A-Z]{2,5} \\d{4}|${DAY}, \\d{1,2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4})`;

/** uname -v: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)", "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 ...". */
const BUILD_HEAD = `#\\d+(?:-[A-Za-z]+)?(?= (?:SMP|PREEMPT|Debian|Ubuntu|${DAY}))(?: (?:SMP|PREEMPT(?:_DYNAMIC|_RT|_LAZY)?|RT|Debian|Ubuntu|\\d[\\w.+~-]*(?= )))*`;
const BUILD_SRC = `${BUILD_HEAD}(?: ${BUILD_DATE})?`;

/** /proc/version: "Linux version RELEASE (user@host) (compiler (nested) ..., linker) BUILD". */
const PROC_VERSION = new RegExp(`\\bLinux version ${RELEASE_SRC} \\([^()\\s]*\\) \\((?:[^()]|\\([^()]*\\))*\\) ${BUILD_SRC}`, 'g');
/** uname -a after the host name: "RELEASE BUILD MACHINE ... GNU/Linux"; the host is left to the host-name detector. */
const UNAME_A = new RegExp(`${RELEASE_SRC} ${BUILD_SRC}`, 'g');
const RELEASE = new RegExp(RELEASE_SRC, 'g');
/** uname -v alone ends in the date (so "issue #1 SMP" in prose is not taken for one). */
const BUILD = new RegExp(`${BUILD_HEAD} ${BUILD_DATE}`, 'g');

export function normaliseKernel(line: string): string {
  if (!/\d\.\d/.test(line) && !line.includes('#')) return line;
  return line.replace(PROC_VERSION, '<KERNEL_VERSION>').replace(UNAME_A, '<KERNEL_VERSION>').replace(RELEASE, '<KERNEL_VERSION>').replace(BUILD, '<KERNEL_BUILD>');
}

export const capturesKernelVersion: Detector = {
  id: 'captures_kernel_version',
  title: 'The build machine’s kernel version is recorded',
  fix: 'Do not record `uname -r`/`uname -a` output or /proc/version in the build; use the target kernel version from the package metadata if one is needed.',
  normalise: normaliseKernel,
};
