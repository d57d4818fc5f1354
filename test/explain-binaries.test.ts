// Known causes in binaries built here with gcc, go and python: each cause on a
// pair that shows it, and the fixed build (or another change) that does not.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compare } from '../src/index.js';
import { collectEvidence, describeItem } from '../src/explain/evidence.js';
import { gccCapturesBuildPath } from '../src/explain/gcc-captures-build-path.js';
import { haveCommand, reprove, reproveJson, sh, workdir, skipOutsideCi } from './helpers.js';

function causes(a: string, b: string): { code: number | null; ids: string[]; unexplained: string[] } {
  const { code, json } = reproveJson(a, b);
  const ids = ((json?.['reprove_issues'] as { id: string }[] | undefined) ?? []).map((i) => i.id).sort();
  return { code, ids, unexplained: (json?.['reprove_unexplained'] as string[] | undefined) ?? [] };
}

/** What gcc_captures_build_path claims in the comparison of A and B, described, and at what confidence. */
async function claimedByGcc(a: string, b: string): Promise<{ confidence: string | undefined; lines: string[] }> {
  const { difference } = await compare(a, b);
  const claims = gccCapturesBuildPath.detect!(collectEvidence(difference!));
  return { confidence: claims[0]?.confidence, lines: claims.flatMap((c) => c.items.map(describeItem)) };
}

const C_SOURCE = `#include <stdio.h>\\n#include <assert.h>\\nint main(int c, char **v) { assert(c > 0); printf("%s\\\\n", __FILE__); return 0; }\\n`;

test('gcc_captures_build_path: a C program built with -g in two directories; -ffile-prefix-map fixes it', { skip: skipOutsideCi(haveCommand('gcc') ? false : 'gcc is not installed') }, (t) => {
  const d = workdir(t);
  sh(d, `mkdir -p build-a build-bb && printf '${C_SOURCE}' > build-a/m.c && cp build-a/m.c build-bb/m.c`);
  sh(d, `cd build-a && gcc -g -O1 -o prog $PWD/m.c && cd ../build-bb && gcc -g -O1 -o prog $PWD/m.c`);
  const broken = causes(`${d}/build-a/prog`, `${d}/build-bb/prog`);
  assert.equal(broken.code, 1);
  assert.ok(broken.ids.includes('gcc_captures_build_path'), broken.ids.join());
  assert.ok(!broken.ids.includes('golang_build_id'));
  assert.deepEqual(broken.unexplained, []);
  sh(d, `cd build-a && gcc -g -O1 -ffile-prefix-map=$PWD=. -o fixed m.c && cd ../build-bb && gcc -g -O1 -ffile-prefix-map=$PWD=. -o fixed m.c`);
  assert.equal(causes(`${d}/build-a/fixed`, `${d}/build-bb/fixed`).code, 0);
  // A real code change is not a build path.
  sh(d, `cd build-a && sed 's/c > 0/c > 1/' m.c > n.c && gcc -O1 -ffile-prefix-map=$PWD=. -o other n.c && gcc -O1 -ffile-prefix-map=$PWD=. -o same m.c`);
  const code = causes(`${d}/build-a/same`, `${d}/build-a/other`);
  assert.ok(!code.ids.includes('gcc_captures_build_path'), code.ids.join());
  assert.ok(code.unexplained.length > 0);
});

test('gcc_captures_build_path without -g: __FILE__ in .rodata, read as strings, names the build directories', { skip: skipOutsideCi(haveCommand('gcc') ? false : 'gcc is not installed') }, (t) => {
  const d = workdir(t);
  // Directories of different lengths: the hex dump of .rodata shifts, and the path is cut across its rows.
  sh(d, `mkdir -p build-a build-bbbbbbbbbbbbbbbbbbbb && printf '${C_SOURCE}' > build-a/m.c && cp build-a/m.c build-bbbbbbbbbbbbbbbbbbbb/m.c`);
  sh(d, `cd build-a && gcc -O1 -o prog $PWD/m.c && cd ../build-bbbbbbbbbbbbbbbbbbbb && gcc -O1 -o prog $PWD/m.c`);
  const { json } = reproveJson(`${d}/build-a/prog`, `${d}/build-bbbbbbbbbbbbbbbbbbbb/prog`);
  const rodata = json!.details!.find((n) => n.source1 === 'ELF section .rodata')!;
  assert.match(rodata.unified_diff!, new RegExp(`\\n-${d}/build-a/m\\.c\\n\\+${d}/build-bbbbbbbbbbbbbbbbbbbb/m\\.c\\n`));
  assert.deepEqual(rodata.details!.map((n) => n.source1), ['hex dump']);
  const issues = (json!['reprove_issues'] as { id: string; confidence: string }[]).filter((i) => i.id === 'gcc_captures_build_path');
  assert.equal(issues[0]?.confidence, 'high');
  // What moved with the longer path follows from it: shifted code and data addresses, and the unwind tables.
  assert.deepEqual(json!['reprove_unexplained'] ?? [], []);
});

test('gcc_captures_build_path is not claimed for a function changed and built again in the same directory, even where its data reads "./..." in a hex dump', { skip: skipOutsideCi(haveCommand('gcc') ? false : 'gcc is not installed') }, (t) => {
  const d = workdir(t);
  // A table in .rodata whose hex dump text starts "./": the changed byte after it once looked like a second build directory.
  const source = `#include <stdio.h>\nstatic const unsigned char kind[16] = { '.', '/', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };\nint classify(int c) { return kind[c & 15] + 1; }\nint main(int c, char **v) { printf("%d\\n", classify(c)); return 0; }\n`;
  writeFileSync(join(d, 'a.c'), source);
  writeFileSync(join(d, 'b.c'), source.replace('3, 4, 5,', "3, 'a', 5,").replace('+ 1;', '* 2;'));
  sh(d, 'gcc -O1 -o a a.c && gcc -O1 -o b b.c');
  const { json } = reproveJson(`${d}/a`, `${d}/b`);
  assert.match(json!.details!.find((n) => n.source1 === 'ELF section .rodata')!.unified_diff!, /\n-00000010: 2e2f .* \.\/\.\.\.\.\.+\n\+00000010: 2e2f .* \.\/\.\.\.a\.+/, 'the hex dump shows the table');
  const changed = causes(`${d}/a`, `${d}/b`);
  assert.ok(!changed.ids.includes('gcc_captures_build_path'), changed.ids.join());
  assert.ok(!changed.ids.includes('captures_build_path'), changed.ids.join());
  assert.ok(changed.unexplained.some((u) => u.startsWith('ELF section .text:')), 'the changed code is left unexplained');
});

test('gcc_captures_build_path on a new version: named where the build path is, but not for the changed code, nor where the path shows only outside the binary', { skip: skipOutsideCi(haveCommand('gcc') ? false : 'gcc is not installed') }, async (t) => {
  const d = workdir(t);
  const v1 = `#include <stdio.h>\n#include <assert.h>\nint greet(int c) { assert(c > 0); return printf("hello from %s\\n", __FILE__); }\nint main(int c, char **v) { return greet(c) < 0; }\n`;
  const v2 = v1.replace('return printf', 'if (c > 2) puts("too many arguments for this version"); return printf');
  for (const [dir, text] of [['build-1.0', v1], ['build-1.1-x', v2]] as const) {
    mkdirSync(join(d, dir));
    writeFileSync(join(d, dir, 'm.c'), text);
    sh(join(d, dir), 'gcc -g -O1 -o prog $PWD/m.c');
  }
  // Built in two directories: the path is in the debug info and __FILE__, and the new string is code of its own.
  const moved = await claimedByGcc(`${d}/build-1.0/prog`, `${d}/build-1.1-x/prog`);
  assert.equal(moved.confidence, 'high');
  assert.ok(moved.lines.includes(`ELF section .rodata: -${d}/build-1.0/m.c / +${d}/build-1.1-x/m.c`), moved.lines.join('\n'));
  assert.ok(moved.lines.some((l) => l.startsWith('ELF section .debug_info:') && l.includes('DW_AT_comp_dir')), moved.lines.join('\n'));
  assert.ok(!moved.lines.some((l) => l.includes('too many arguments')), 'the new string is not claimed');
  assert.ok(!moved.lines.some((l) => /ELF section \.text: .*\bputs@plt/.test(l)), 'nor the new call');
  // Built with the path mapped away, beside a file that names two build directories: the binary's differences are the new code's.
  for (const [side, dir, builddir] of [['a', 'build-1.0', '/build/hello-a1b2c3/src'], ['b', 'build-1.1-x', '/build/hello-x9y8z7/src']] as const) {
    sh(d, `mkdir -p ${side} && cd ${dir} && gcc -g -O1 -ffile-prefix-map=$PWD=. -o ../${side}/prog m.c`);
    writeFileSync(join(d, side, 'BUILDINFO'), `builddir = ${builddir}\n`);
  }
  const mapped = causes(`${d}/a`, `${d}/b`);
  assert.ok(mapped.ids.includes('captures_build_path'), mapped.ids.join());
  assert.ok(!mapped.ids.includes('gcc_captures_build_path'), mapped.ids.join());
  assert.deepEqual(await claimedByGcc(`${d}/a`, `${d}/b`), { confidence: undefined, lines: [] });
});

test('golang_build_id and the Go build path: built in two directories; -trimpath -ldflags=-buildid= fixes both', { skip: skipOutsideCi(haveCommand('go') ? false : 'go is not installed'), timeout: 300_000 }, (t) => {
  const d = workdir(t);
  const env = { HOME: d, GOCACHE: `${d}/cache`, GOPATH: `${d}/gopath`, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  sh(d, `for s in a bb; do mkdir -p src-$s && printf 'module example.com/hello\\n\\ngo 1.19\\n' > src-$s/go.mod && printf 'package main\\nimport "fmt"\\nfunc main() { fmt.Println("hi") }\\n' > src-$s/main.go; done`);
  sh(d, `cd src-a && go build -o hello . && go build -trimpath -ldflags=-buildid= -o fixed . && cd ../src-bb && go build -o hello . && go build -trimpath -ldflags=-buildid= -o fixed .`, env);
  const broken = causes(`${d}/src-a/hello`, `${d}/src-bb/hello`);
  assert.equal(broken.code, 1);
  assert.ok(broken.ids.includes('golang_build_id'), broken.ids.join());
  assert.ok(broken.ids.includes('golang_compiler_captures_build_path_in_binary'), broken.ids.join());
  assert.ok(!broken.ids.includes('gcc_captures_build_path'));
  assert.equal(causes(`${d}/src-a/fixed`, `${d}/src-bb/fixed`).code, 0);
});

test('timestamps_in_pyc: the same source compiled at two mtimes, but not a changed source', { skip: skipOutsideCi(haveCommand('python3') ? false : 'python3 is not installed') }, (t) => {
  const d = workdir(t);
  sh(d, `printf 'x = 1\\n' > m.py && touch -d 2020-01-01 m.py && python3 -c 'import py_compile; py_compile.compile("m.py", cfile="a.pyc")' && touch -d 2021-01-01 m.py && python3 -c 'import py_compile; py_compile.compile("m.py", cfile="b.pyc")' && printf 'x = 2\\n' > m.py && touch -d 2020-01-01 m.py && python3 -c 'import py_compile; py_compile.compile("m.py", cfile="c.pyc")'`);
  const yes = causes(`${d}/a.pyc`, `${d}/b.pyc`);
  assert.deepEqual(yes.ids, ['timestamps_in_pyc']);
  assert.deepEqual(yes.unexplained, []);
  const no = causes(`${d}/a.pyc`, `${d}/c.pyc`);
  assert.ok(!no.ids.includes('timestamps_in_pyc'));
  assert.ok(no.unexplained.length > 0);
});

test('gnu_debuglink_crc: the same binary linked to two different debug files', { skip: skipOutsideCi(haveCommand('objcopy') && haveCommand('gcc') ? false : 'binutils and gcc are needed') }, (t) => {
  const d = workdir(t);
  sh(d, `printf 'int main(void){return 0;}\\n' > m.c && gcc -g -o prog m.c && mkdir a b && objcopy --only-keep-debug prog a/prog.debug && cp a/prog.debug b/prog.debug && printf x >> b/prog.debug && objcopy --strip-debug prog stripped && cp stripped a/prog && cp stripped b/prog && (cd a && objcopy --add-gnu-debuglink=prog.debug prog) && (cd b && objcopy --add-gnu-debuglink=prog.debug prog)`);
  const yes = causes(`${d}/a/prog`, `${d}/b/prog`);
  assert.ok(yes.ids.includes('gnu_debuglink_crc'), yes.ids.join());
  assert.deepEqual(yes.unexplained, []);
  assert.equal(causes(`${d}/a/prog`, `${d}/a/prog`).code, 0);
});

test('build_id_differences_only: two links that differ only in the build-id note, but not a code change', { skip: skipOutsideCi(haveCommand('gcc') ? false : 'gcc is not installed') }, (t) => {
  const d = workdir(t);
  sh(d, `printf 'int main(void){return 0;}\\n' > m.c && gcc -O1 -Wl,--build-id=0x1111111111111111111111111111111111111111 -o a m.c && gcc -O1 -Wl,--build-id=0x2222222222222222222222222222222222222222 -o b m.c && printf 'int main(void){return 1;}\\n' > n.c && gcc -O1 -Wl,--build-id=0x2222222222222222222222222222222222222222 -o c n.c`);
  const only = causes(`${d}/a`, `${d}/b`);
  assert.deepEqual(only.ids, ['build_id_differences_only']);
  assert.deepEqual(only.unexplained, []);
  const code = causes(`${d}/b`, `${d}/c`);
  assert.ok(!code.ids.includes('build_id_differences_only'), code.ids.join());
  assert.ok(code.unexplained.length > 0);
});

test('rpm_header_only and build_date_in_package_metadata: an RPM rebuilt with only its build time changed, judged --strict', { skip: skipOutsideCi(haveCommand('rpmbuild') ? false : 'rpmbuild is not installed'), timeout: 120_000 }, (t) => {
  const d = workdir(t);
  const spec = (data: string) =>
    `Name: hdr\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%install\nmkdir -p %{buildroot}/usr/share/hdr && echo ${data} > %{buildroot}/usr/share/hdr/f\n%files\n/usr/share/hdr/f\n`;
  const build = (name: string, epoch: string, data = 'data') => {
    writeFileSync(join(d, 'hdr.spec'), spec(data));
    sh(d, `rm -rf top && rpmbuild -bb --define "_topdir $PWD/top" --define 'clamp_mtime_to_source_date_epoch 1' hdr.spec >/dev/null 2>&1 && cp top/RPMS/noarch/*.rpm ${name}.rpm`, { SOURCE_DATE_EPOCH: epoch });
  };
  // File times clamped to the same SOURCE_DATE_EPOCH; BUILDTIME is the clock's, a second apart.
  build('a', '1700000000');
  sh(d, 'sleep 1.1');
  build('b', '1700000000');
  build('c', '1700000000', 'other');
  const r = reprove(['verify', '--strict', '--json', '-', `${d}/a.rpm`, `${d}/b.rpm`]);
  const art = (JSON.parse(r.stdout) as { artifacts: { verdict: string; issues: { id: string }[]; unexplained: string[] }[] }).artifacts[0]!;
  assert.equal(art.verdict, 'UNREPRODUCIBLE');
  const ids = art.issues.map((i) => i.id);
  assert.ok(ids.includes('rpm_header_only'), ids.join());
  assert.ok(ids.includes('build_date_in_package_metadata'), ids.join());
  // The default policy allows exactly these.
  assert.equal(reprove(['verify', `${d}/a.rpm`, `${d}/b.rpm`]).code, 0);
  // A payload change is not header-only.
  const c = causes(`${d}/a.rpm`, `${d}/c.rpm`);
  assert.ok(!c.ids.includes('rpm_header_only'), c.ids.join());
});
