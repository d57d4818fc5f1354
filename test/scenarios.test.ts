// The two seed scenarios of `reprove verify`, end to end with the real tools:
// a Go program packaged with makepkg, and a C program with debuginfo built with
// rpmbuild.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { haveCommand, makepkg, makepkgSkip, reprove, sh, workdir } from './helpers.js';

interface Verdicts {
  verdict: string;
  artifacts: { name: string; verdict: string; ignored: { field?: string; path: string[] }[]; differences: { path: string[]; field?: string }[]; issues: { id: string; fix: string }[]; unexplained: string[] }[];
}

function verify(args: string[]): { code: number | null; json: Verdicts; stderr: string } {
  const r = reprove(['verify', '--json', '-', ...args]);
  return { code: r.code, json: (r.stdout ? JSON.parse(r.stdout) : {}) as Verdicts, stderr: r.stderr };
}

const noMakepkg = makepkgSkip('go');

/** Builds the Go package with makepkg (as nobody when root); GOFLAGS empty or the fix. */
function makeGoPackage(d: string, name: string, goflags: string): string {
  // One start directory for every build: makepkg records it in .BUILDINFO.
  const start = join(d, 'start');
  mkdirSync(start, { recursive: true });
  writeFileSync(join(start, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from go") }\n');
  writeFileSync(join(start, 'go.mod'), 'module example.com/hello\n\ngo 1.19\n');
  // The build happens in a fresh temporary directory each time, as a build
  // server's work directory would be: the path Go records without -trimpath.
  writeFileSync(
    join(start, 'PKGBUILD'),
    `pkgname=hello-go
pkgver=1.0
pkgrel=1
pkgdesc='Go program for reprove'
arch=('x86_64')
license=('MIT')
source=('main.go' 'go.mod')
sha256sums=('SKIP' 'SKIP')
options=('!strip' '!debug' '!lto')
build() {
  work=$(mktemp -d "$srcdir/work-XXXXXX")
  cp main.go go.mod "$work/"
  cd "$work"
  CGO_ENABLED=0 GOFLAGS='-mod=mod' go build ${goflags} -o "$srcdir/hello" .
}
package() {
  install -Dm755 "$srcdir/hello" "$pkgdir/usr/bin/hello"
}
`,
  );
  for (const sub of [start, join(d, 'home'), join(d, `build-${name}`), join(d, `out-${name}`)]) {
    mkdirSync(sub, { recursive: true });
    chmodSync(sub, 0o777);
  }
  const env = [
    `HOME=${d}/home`,
    `GOCACHE=${d}/home/cache-${name}`,
    `GOPATH=${d}/home/go`,
    'GOTOOLCHAIN=local',
    'PKGEXT=.pkg.tar.zst',
    `BUILDDIR=${d}/build`,
    `SRCDEST=${d}/build`,
    'SOURCE_DATE_EPOCH=1700000000',
  ];
  return makepkg(start, join(d, `out-${name}`), env, '--cleanbuild');
}

test('a Go package built twice without -trimpath is UNREPRODUCIBLE, explained with the fix; with the fix it is BIT_IDENTICAL', { skip: noMakepkg, timeout: 600_000 }, (t: TestContext) => {
  const d = workdir(t);
  chmodSync(d, 0o777);
  mkdirSync(join(d, 'build'), { mode: 0o777 });
  chmodSync(join(d, 'build'), 0o777);
  const a = makeGoPackage(d, 'a', '');
  const b = makeGoPackage(d, 'b', '');
  const broken = verify([a, b]);
  assert.equal(broken.code, 1, broken.stderr);
  const art = broken.json.artifacts[0]!;
  assert.equal(art.verdict, 'UNREPRODUCIBLE');
  const ids = art.issues.map((i) => i.id);
  assert.ok(ids.includes('golang_build_id'), ids.join());
  assert.ok(ids.includes('golang_compiler_captures_build_path_in_binary'), ids.join());
  assert.match(art.issues.find((i) => i.id === 'golang_build_id')!.fix, /-trimpath -ldflags=-buildid=/);
  // The differences are inside the ELF binary and the .MTREE digests that follow from it.
  assert.ok(art.differences.some((e) => e.path.join(' / ').includes('usr/bin/hello / ELF')), JSON.stringify(art.differences.slice(0, 5)));

  const fa = makeGoPackage(d, 'fa', '-trimpath -ldflags=-buildid=');
  const fb = makeGoPackage(d, 'fb', '-trimpath -ldflags=-buildid=');
  const fixed = verify([fa, fb]);
  assert.equal(fixed.code, 0, JSON.stringify(fixed.json.artifacts[0]?.differences.slice(0, 5)));
  assert.equal(fixed.json.artifacts[0]!.verdict, 'BIT_IDENTICAL');
});

const noRpm = haveCommand('rpmbuild') && haveCommand('gcc') && haveCommand('find-debuginfo') && haveCommand('eu-strip') ? false : 'rpmbuild, gcc, find-debuginfo (debugedit) or eu-strip (elfutils) missing';

const SPEC = `Name: hello-c
Version: 1.0
Release: 1
Summary: C program for reprove
License: MIT
Source0: hello-c-1.0.tar.gz

%description
A C program with debuginfo.

%debug_package

%prep
%setup -q

%build
gcc -g -O2 %{?embed:-DEMBED='"%{embed}"'} -o hello hello.c

%install
install -Dm755 hello %{buildroot}/usr/bin/hello

%files
/usr/bin/hello
`;

const HELLO_C = '#include <stdio.h>\\nint main(void) {\\n#ifdef EMBED\\n  puts(EMBED);\\n#endif\\n  puts("hello from c");\\n  return 0;\\n}\\n';

/**
 * rpmbuild of hello-c (with its -debuginfo package, split by find-debuginfo) in
 * one fixed _topdir, as a rebuilder does; the RPMs are copied to out-NAME.
 */
function rpmbuild(d: string, name: string, defines: string[]): { main: string; debuginfo: string } {
  const top = join(d, 'top');
  sh(d, `rm -rf top && mkdir -p top/SOURCES top/SPECS src/hello-c-1.0 out-${name} && printf '${HELLO_C}' > src/hello-c-1.0/hello.c && tar -C src --mtime=@1700000000 -czf top/SOURCES/hello-c-1.0.tar.gz hello-c-1.0`);
  writeFileSync(join(top, 'SPECS', 'hello.spec'), SPEC);
  const args = ['--define', `_topdir ${top}`, '--define', '_enable_debug_packages 1', ...defines].map((x) => `'${x}'`).join(' ');
  // -ba: the source package is built first, and the binaries carry its COOKIE (build host and time).
  sh(top, `rpmbuild -ba ${args} SPECS/hello.spec > ../build-${name}.log 2>&1 || { cat ../build-${name}.log >&2; exit 1; }`, { SOURCE_DATE_EPOCH: '1700000000' });
  sh(d, `cp top/RPMS/*/*.rpm out-${name}/`);
  const rpms = readdirSync(join(d, `out-${name}`));
  return { main: join(d, `out-${name}`, rpms.find((r) => !r.includes('debuginfo'))!), debuginfo: join(d, `out-${name}`, rpms.find((r) => r.includes('debuginfo'))!) };
}

test('an RPM built twice is REPRODUCIBLE under the RPM policy, BUILDTIME, BUILDHOST and COOKIE ignored; built in another directory it is UNREPRODUCIBLE with the cause named', { skip: noRpm, timeout: 300_000 }, (t: TestContext) => {
  const d = workdir(t);
  const clamp = ['--define', 'clamp_mtime_to_source_date_epoch 1'];
  const a = rpmbuild(d, 'a', [...clamp, '--define', '_buildhost builder-one.example.org']);
  sh(d, 'sleep 1.1');
  const b = rpmbuild(d, 'b', [...clamp, '--define', '_buildhost builder-two.example.org']);
  // The same build directory and sources: only the header's build time and host differ.
  const ok = verify([a.main, b.main]);
  const art = ok.json.artifacts[0]!;
  assert.equal(art.verdict, 'REPRODUCIBLE', JSON.stringify(art.differences.slice(0, 5)));
  assert.equal(ok.code, 0);
  const ignored = new Set(art.ignored.map((e) => e.field ?? e.path.join(' / ')));
  for (const f of ['BUILDTIME', 'BUILDHOST', 'COOKIE']) assert.ok(ignored.has(f), `${f} not listed as ignored: ${[...ignored].join(', ')}`);
  assert.ok(art.ignored.some((e) => e.path.includes('signature header')));
  const text = reprove(['verify', a.main, b.main]).stdout;
  assert.match(text, /^REPRODUCIBLE +hello-c-1\.0-1\.\S+\.rpm +\[policy: rpm\]\n +allowed: .*BUILDTIME/m);

  // A build that writes something of its own into the program: the code changes, and with it
  // the build-id and the .gnu_debuglink CRC of the split debug file.
  const c = rpmbuild(d, 'c', [...clamp, '--define', 'embed built on builder-three']);
  const bad = verify([a.main, c.main]);
  const badArt = bad.json.artifacts[0]!;
  assert.equal(bad.code, 1);
  assert.equal(badArt.verdict, 'UNREPRODUCIBLE');
  const ids = badArt.issues.map((i) => i.id);
  assert.ok(ids.some((id) => ['gnu_debuglink_crc', 'build_id_differences_only', 'build_id_follows_other_differences', 'gcc_captures_build_path'].includes(id)), ids.join());
  assert.ok(ids.includes('gnu_debuglink_crc'), ids.join());
  assert.ok(badArt.differences.some((e) => e.path.join(' / ').includes('content')), 'the payload differs');
  // The debuginfo packages differ too (the debug file's build-id).
  assert.equal(verify([a.debuginfo, c.debuginfo]).json.artifacts[0]!.verdict, 'UNREPRODUCIBLE');
});
