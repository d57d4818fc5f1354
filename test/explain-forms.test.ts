// Known causes in the forms they take on Debian, Fedora and Arch builders, not
// only in the examples at hand: each detector on changed lines and fields as
// those builders write them, and on near misses it must leave alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { node, type Difference } from '../src/compare/difference.js';
import { explain } from '../src/explain/explain.js';

/** A report of one text file whose changed lines are the given pairs. */
function textReport(pairs: [string, string][], name = 'share/doc/build-info.txt'): Difference {
  const diff = `@@ -1,${pairs.length} +1,${pairs.length} @@\n${pairs.map(([a]) => `-${a}`).join('\n')}\n${pairs.map(([, b]) => `+${b}`).join('\n')}\n`;
  return node('a', 'b', { details: [node(name, name, { kind: 'content', unifiedDiff: diff })] });
}

/** The cause ids named for the report, sorted, and how many items stay unexplained. */
function causesOf(root: Difference): { ids: string[]; unexplained: number } {
  const e = explain(root);
  return { ids: e.findings.map((f) => f.id).sort(), unexplained: e.unexplainedCount };
}

const lines = (...pairs: [string, string][]) => causesOf(textReport(pairs));

test('captures_kernel_version: uname -r of current Debian, Fedora, Arch and Ubuntu kernels', () => {
  const releases: [string, string][] = [
    ['6.1.0-28-amd64', '6.1.0-31-amd64'], // Debian 12
    ['6.12.48+deb13-amd64', '6.12.57+deb13-amd64'], // Debian 13
    ['6.12.12-amd64', '6.12.17-amd64'], // Debian unstable
    ['6.1.0-28-cloud-amd64', '6.1.0-28-rt-arm64'],
    ['6.11.4-301.fc41.x86_64', '6.11.7-300.fc41.x86_64'], // Fedora
    ['5.14.0-427.13.1.el9_4.x86_64', '5.14.0-503.11.1.el9_5.aarch64'], // RHEL and rebuilds
    ['6.11.5-arch1-1', '6.11.6-arch1-1'], // Arch
    ['6.6.58-1-lts', '6.6.60-1-lts'],
    ['6.11.5-zen1-1-zen', '6.11.5-hardened1-1-hardened'],
    ['6.8.0-45-generic', '6.8.0-47-generic'], // Ubuntu
    ['6.1.0-28-amd64', '6.11.4-301.fc41.x86_64'], // two different builders
  ];
  for (const [a, b] of releases) {
    assert.deepEqual(lines([`Built on Linux ${a}`, `Built on Linux ${b}`]), { ids: ['captures_kernel_version'], unexplained: 0 }, `${a} / ${b}`);
    assert.deepEqual(lines([a, b]), { ids: ['captures_kernel_version'], unexplained: 0 }, `alone: ${a} / ${b}`);
  }
  // Where a release is written as part of a name: module paths, kernel packages, Python's platform string.
  assert.deepEqual(lines(['/lib/modules/6.1.0-28-amd64/build', '/lib/modules/6.12.48+deb13-amd64/build']).ids, ['captures_kernel_version']);
  assert.deepEqual(lines(['Depends: linux-image-6.1.0-28-amd64', 'Depends: linux-image-6.1.0-31-amd64']).ids, ['captures_kernel_version']);
  assert.deepEqual(lines(['platform = "Linux-6.1.0-28-amd64-x86_64-with-glibc2.36"', 'platform = "Linux-6.11.5-arch1-1-x86_64-with-glibc2.40"']).ids, ['captures_kernel_version']);
});

test('captures_kernel_version: uname -a, uname -v and /proc/version with their build numbers and dates', () => {
  const unameA: [string, string][] = [
    ['Linux host 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux', 'Linux host 6.1.0-31-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.128-1 (2025-02-07) x86_64 GNU/Linux'],
    ['Linux host 6.12.48+deb13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20) x86_64 GNU/Linux', 'Linux host 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux'],
    ['Linux host 6.11.4-301.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Sun Oct 20 15:02:33 UTC 2024 x86_64 GNU/Linux', 'Linux host 6.11.7-300.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Fri Nov  8 19:22:35 UTC 2024 x86_64 GNU/Linux'],
    ['Linux host 6.11.5-arch1-1 #1 SMP PREEMPT_DYNAMIC Tue, 22 Oct 2024 18:31:38 +0000 x86_64 GNU/Linux', 'Linux host 6.6.58-1-lts #1 SMP PREEMPT_DYNAMIC Fri, 25 Oct 2024 16:46:33 +0000 x86_64 GNU/Linux'],
    ['Linux host 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux', 'Linux host 6.8.0-47-generic #47-Ubuntu SMP PREEMPT_DYNAMIC Fri Sep 27 21:40:26 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux'],
  ];
  for (const [a, b] of unameA) assert.deepEqual(lines([a, b]), { ids: ['captures_kernel_version'], unexplained: 0 }, a);
  // Same release, another build of it (only the build number and date differ), as uname -v prints it.
  assert.deepEqual(lines(['#define KERNEL_BUILD "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)"', '#define KERNEL_BUILD "#2 SMP PREEMPT_DYNAMIC Debian 6.1.123-1 (2025-01-02)"']), { ids: ['captures_kernel_version'], unexplained: 0 });
  const procVersion: [string, string] = [
    'Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)',
    'Linux version 6.11.4-301.fc41.x86_64 (mockbuild@1f2e3d4c5b6a) (gcc (GCC) 14.2.1 20240912 (Red Hat 14.2.1-3), GNU ld version 2.43.1-2.fc41) #1 SMP PREEMPT_DYNAMIC Sun Oct 20 15:02:33 UTC 2024',
  ];
  assert.deepEqual(lines(procVersion), { ids: ['captures_kernel_version'], unexplained: 0 });
  assert.deepEqual(
    lines([`kernel: ${procVersion[0]}`, 'kernel: Linux version 6.11.5-arch1-1 (linux@archlinux) (gcc (GCC) 14.2.1 20240910, GNU ld (GNU Binutils) 2.43.0) #1 SMP PREEMPT_DYNAMIC Tue, 22 Oct 2024 18:31:38 +0000']),
    { ids: ['captures_kernel_version'], unexplained: 0 },
  );
});

test('captures_kernel_version: package versions and package file names are not kernels', () => {
  for (const [a, b] of [
    ['1.2.3-4', '1.2.3-5'],
    ['Version: 1.2.3-4', 'Version: 1.2.4-1'],
    ['libfoo 2.0-1+deb12u1', 'libfoo 2.0-1+deb12u2'],
    ['foo-1.2.3-1.fc41.x86_64.rpm', 'foo-1.2.4-1.fc41.x86_64.rpm'],
    ['foo_1.2.3-4_amd64.deb', 'foo_1.2.3-5_amd64.deb'],
    ['see issue #1 SMP support', 'see issue #2 SMP support'],
  ] as [string, string][]) {
    assert.deepEqual(lines([a, b]), { ids: [], unexplained: 1 }, a);
  }
  // A kernel release that stays the same does not hide a version that changes beside it.
  assert.deepEqual(lines(['on 6.1.0-28-amd64: foo 1.2.3-4', 'on 6.1.0-28-amd64: foo 1.2.3-5']), { ids: [], unexplained: 1 });
});

/** Build directories of Debian (reproducible-builds' fixed one, buildd's random one, sbuild's mapped one), Fedora and Arch. */
const BUILD_DIRS = {
  debianFixed: '/build/reproducible-path/hello-2.10',
  debianRandom: '/build/hello-AbC12x/hello-2.10',
  debianRandom2: '/build/hello-q9Zr0T/hello-2.10',
  sbuildMapped: '/<<PKGBUILDDIR>>',
  fedora: '/builddir/build/BUILD/hello-2.10',
  fedoraRpm420: '/builddir/build/BUILD/hello-2.10-build/hello-2.10',
  arch: '/build/hello/src/hello-2.10',
  archStartdir: '/startdir/src/hello-2.10',
  tmp: '/tmp/build-a',
};

test('captures_build_path: between any two of the build directories of Debian, Fedora and Arch builders', () => {
  const forms = [
    (p: string) => `const char *src = "${p}/src/main.c";`,
    (p: string) => `abs_top_builddir = ${p}`,
    (p: string) => `  DW_AT_comp_dir    : (indirect line/string, offset: 0x0): ${p}`,
  ];
  const dirs = Object.entries(BUILD_DIRS);
  for (const form of forms)
    for (const [i, [na, a]] of dirs.entries())
      for (const [nb, b] of dirs.slice(i + 1)) {
        const c = lines([form(a), form(b)]);
        assert.ok(c.ids.includes('captures_build_path'), `${na} vs ${nb}: ${form('…')}: ${c.ids.join()}`);
        assert.equal(c.unexplained, 0, `${na} vs ${nb}: ${form('…')}`);
      }
});

test('captures_build_path: a version that changes below the build directory is not hidden by it', () => {
  assert.deepEqual(lines(['/build/a/x-1.0/foo.c', '/build/b/x-2.0/foo.c']).unexplained, 1);
  assert.deepEqual(lines(['"/builddir/build/BUILD/hello-2.10/src/main.c"', '"/build/hello/src/hello-2.11/src/main.c"']).unexplained, 1);
  // Merged /usr is a cause of its own, not a build directory.
  assert.deepEqual(lines(['SED = /bin/sed', 'SED = /usr/bin/sed']), { ids: ['paths_vary_due_to_usrmerge'], unexplained: 0 });
});

test('timestamps_in_file_content: dates and times in the forms date(1), RFC 2822, ISO 8601, __DATE__/__TIME__, man pages and named Unix times take', () => {
  const dates: [string, string][] = [
    ['Built: Sun Nov 30 10:35:54 UTC 2026', 'Built: Mon Dec  1 08:02:11 UTC 2026'], // date(1)
    ['Built: Sun Nov 30 10:35:54 AM UTC 2026', 'Built: Mon Dec  1 08:02:11 AM UTC 2026'], // date(1), 12-hour locales
    ['Built: Sun 30 Nov 2026 10:35:54 AM UTC', 'Built: Mon 01 Dec 2026 08:02:11 AM UTC'],
    ['Date: Sun, 30 Nov 2026 10:35:54 +0000', 'Date: Mon, 01 Dec 2026 08:02:11 +0100'], // RFC 2822
    ['at 2026-11-30T10:35:54Z', 'at 2026-12-01T08:02:11Z'], // ISO 8601
    ['at 2026-11-30T10:35:54+01:00', 'at 2026-12-01T08:02:11+01:00'],
    ['at 2026-11-30 10:35:54', 'at 2026-12-01 08:02:11'],
    ['at 2026-11-30T10:35:54.123456Z', 'at 2026-12-01T08:02:11.654321Z'],
    ['<dc:date>2026-11-30</dc:date>', '<dc:date>2026-12-01</dc:date>'], // ISO 8601 date alone
    ['at 20261130T103554Z', 'at 20261201T080211Z'], // ISO 8601 basic
    ['static const char d[] = "Nov 30 2026";', 'static const char d[] = "Dec  1 2026";'], // __DATE__
    ['static const char t[] = "10:35:54";', 'static const char t[] = "08:02:11";'], // __TIME__
    ['Generated by Doxygen on Sun Nov 30 2026 10:35:54', 'Generated by Doxygen on Mon Dec 1 2026 08:02:11'],
    ['.TH FOO 1 "November 2026"', '.TH FOO 1 "December 2026"'], // man page
    ['Generated on 30/11/2026', 'Generated on 01/12/2026'],
    ['export SOURCE_DATE_EPOCH=1796035178', 'export SOURCE_DATE_EPOCH=1796121600'], // Unix times, named
    ['#define BUILD_TIMESTAMP 1796035178', '#define BUILD_TIMESTAMP 1796121600'],
    ['"timestamp": 1796035178123,', '"timestamp": 1796121600456,'],
    ['epoch: 2096035178', 'epoch: 2096121600'],
  ];
  for (const [a, b] of dates) assert.deepEqual(lines([a, b]), { ids: ['timestamps_in_file_content'], unexplained: 0 }, a);
  // Numbers of the same magnitude that no word names a time, and versions, are not dates.
  for (const [a, b] of [
    ['size 1796035178', 'size 1796121600'],
    ['version 3.11.2020', 'version 3.12.2020'],
    ['x = 10', 'x = 11'],
  ] as [string, string][])
    assert.deepEqual(lines([a, b]), { ids: [], unexplained: 1 }, a);
});

test('user_hostname_manually_added_requiring_further_investigation: host and user names in uname -a, build strings and metadata fields', () => {
  const ID = 'user_hostname_manually_added_requiring_further_investigation';
  for (const [a, b] of [
    ['Linux x86-csail-01 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux', 'Linux ionos5-amd64 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux'],
    ['#define LINUX_COMPILE_HOST "x86-csail-01"', '#define LINUX_COMPILE_HOST "ionos5-amd64"'],
    ['BUILD_USER=pbuilder1', 'BUILD_USER=pbuilder2'],
    ['compiled by alice on host build1', 'compiled by bob on host build2'],
  ] as [string, string][])
    assert.deepEqual(lines([a, b]), { ids: [ID], unexplained: 0 }, a);
  // Another builder altogether: its host and its kernel, each named.
  assert.deepEqual(
    lines([
      'Linux buildvm-x86-12.iad2.fedoraproject.org 6.11.4-301.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Sun Oct 20 15:02:33 UTC 2024 x86_64 GNU/Linux',
      'Linux buildvm-x86-3.iad2.fedoraproject.org 6.11.7-300.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Fri Nov  8 19:22:35 UTC 2024 x86_64 GNU/Linux',
    ]),
    { ids: ['captures_kernel_version', ID], unexplained: 0 },
  );
  assert.deepEqual(lines(['Built by buildd@x86-csail-01 on 2026-11-30', 'Built by pbuilder2@ionos5-amd64 on 2026-12-01']), { ids: ['timestamps_in_file_content', ID], unexplained: 0 });
  // A mail address that changes is not a host name; a date after "on" is a date.
  assert.deepEqual(lines(['contact alice@example.org', 'contact bob@example.org']), { ids: [], unexplained: 1 });
  assert.deepEqual(lines(['Built on 2026-11-30', 'Built on 2026-12-01']).ids, ['timestamps_in_file_content']);
  // Package metadata: Arch's buildhost, .buildinfo's Build-Host.
  const fields = node('a', 'b', { details: [node('.PKGINFO', '.PKGINFO', { kind: 'header', changes: [{ field: 'buildhost', value1: 'builder-a', value2: 'builder-b' }] })] });
  assert.deepEqual(causesOf(fields), { ids: [ID], unexplained: 0 });
});
