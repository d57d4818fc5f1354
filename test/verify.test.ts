// reprove verify: verdicts for pairs and sets, policies as data, exit status.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { reprove, sh, workdir } from './helpers.js';

interface VerdictJson {
  verdict: string;
  missing: string[];
  extra: string[];
  artifacts: { name: string; verdict: string; ignored: { field?: string; reason?: string }[]; differences: unknown[]; issues: { id: string }[]; unexplained: string[]; error?: string }[];
}

function verify(args: string[]): { code: number | null; json: VerdictJson; stderr: string } {
  const r = reprove(['verify', '--json', '-', ...args]);
  return { code: r.code, json: r.stdout ? (JSON.parse(r.stdout) as VerdictJson) : ({} as VerdictJson), stderr: r.stderr };
}

/** published/ and rebuilt/ with: same.tar (identical), time.tar (mtimes differ), only-pub.txt, only-reb.txt. */
function sets(d: string): void {
  sh(d, `mkdir -p t published rebuilt && printf 1 > t/a && tar --mtime=@0 -cf published/same.tar -C t a && cp published/same.tar rebuilt/ && tar --mtime=@0 -cf published/time.tar -C t a && tar --mtime=@86400 -cf rebuilt/time.tar -C t a`);
}

test('a set: identical, unreproducible, missing and extra artifacts', (t) => {
  const d = workdir(t);
  sets(d);
  sh(d, `printf x > published/only-pub.txt && printf y > rebuilt/only-reb.txt`);
  const { code, json } = verify([`${d}/published`, `${d}/rebuilt`]);
  assert.equal(code, 1);
  assert.equal(json.verdict, 'UNREPRODUCIBLE');
  assert.deepEqual(json.missing, ['only-pub.txt']);
  assert.deepEqual(json.extra, ['only-reb.txt']);
  assert.deepEqual(json.artifacts.map((a) => `${a.name}:${a.verdict}`), ['same.tar:BIT_IDENTICAL', 'time.tar:UNREPRODUCIBLE']);
  assert.deepEqual(json.artifacts[1]!.issues.map((i) => i.id), ['timestamps_in_tarball']);
});

test('a set whose only artifact is identical is BIT_IDENTICAL with exit 0; an extra artifact alone makes it UNREPRODUCIBLE', (t) => {
  const d = workdir(t);
  sets(d);
  sh(d, `rm published/time.tar rebuilt/time.tar`);
  assert.equal(verify([`${d}/published`, `${d}/rebuilt`]).code, 0);
  sh(d, `printf y > rebuilt/debug.txt`);
  const r = verify([`${d}/published`, `${d}/rebuilt`]);
  assert.equal(r.code, 1);
  assert.equal(r.json.verdict, 'UNREPRODUCIBLE');
});

test('a policy file that allows tar mtimes makes the pair REPRODUCIBLE, listing what it ignored; --strict does not', (t) => {
  const d = workdir(t);
  sets(d);
  const policy = join(d, 'policy.json');
  writeFileSync(policy, JSON.stringify({ policies: [{ name: 'tar-times', appliesTo: { format: 'tar' }, ignoreNodes: [], ignoreFields: [{ field: 'mtime', node: '^file list$', reason: 'test: member times are allowed' }] }] }));
  const r = verify(['--policy', policy, `${d}/published/time.tar`, `${d}/rebuilt/time.tar`]);
  assert.equal(r.code, 0, r.stderr);
  const a = r.json.artifacts[0]!;
  assert.equal(a.verdict, 'REPRODUCIBLE');
  assert.deepEqual(a.ignored.map((i) => [i.field, i.reason]), [['mtime', 'test: member times are allowed (policy tar-times)']]);
  const text = reprove(['verify', '--policy', policy, `${d}/published/time.tar`, `${d}/rebuilt/time.tar`]).stdout;
  assert.match(text, /^REPRODUCIBLE +time\.tar +\[policy: tar-times\]\n +allowed: mtime/);
  const strict = verify(['--strict', '--policy', policy, `${d}/published/time.tar`, `${d}/rebuilt/time.tar`]);
  assert.equal(strict.code, 1);
  assert.equal(strict.json.artifacts[0]!.verdict, 'UNREPRODUCIBLE');
});

test('an unreadable artifact is ERROR with its reason and exit 2; a bad policy file is a usage error', (t) => {
  const d = workdir(t);
  sets(d);
  sh(d, `printf 'published/same.tar\\n' > pub.list && printf 'rebuilt/same.tar\\n' > reb.list`);
  const ok = reprove(['verify', `@${d}/pub.list`, `@${d}/reb.list`], d);
  assert.equal(ok.code, 0, ok.stderr);
  sh(d, `printf 'published/nope.tar\\n' > pub2.list && printf 'rebuilt/nope.tar\\n' > reb2.list`);
  const err = reprove(['verify', '--json', '-', `@${d}/pub2.list`, `@${d}/reb2.list`], d);
  assert.equal(err.code, 2);
  const json = JSON.parse(err.stdout) as VerdictJson;
  assert.equal(json.artifacts[0]!.verdict, 'ERROR');
  assert.match(json.artifacts[0]!.error!, /Cannot read input/);
  writeFileSync(join(d, 'bad.json'), JSON.stringify([{ name: 'x', ignoreFields: [{ field: 'mtime' }] }]));
  const bad = reprove(['verify', '--policy', join(d, 'bad.json'), `${d}/published/same.tar`, `${d}/rebuilt/same.tar`]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /every rule needs a reason/);
});

test('the arch-buildinfo policy allows only builddate (and the .MTREE entries of .PKGINFO/.BUILDINFO); the default is bit for bit', (t) => {
  const d = workdir(t);
  // Two Arch packages made as makepkg lays them out, differing only in the recorded build date.
  const make = (name: string, builddate: string, readme = 'hello') =>
    sh(
      d,
      `rm -rf ${name} && mkdir -p ${name}/usr/share/doc/x && printf '${readme}\\n' > ${name}/usr/share/doc/x/README && cd ${name} && ` +
        `printf 'pkgname = x\\npkgver = 1-1\\nbuilddate = ${builddate}\\npackager = P <p@example.org>\\nsize = 6\\narch = any\\n' > .PKGINFO && ` +
        `printf 'format = 2\\npkgname = x\\nbuilddate = ${builddate}\\nbuilddir = /build\\nbuildenv = !distcc\\n' > .BUILDINFO && ` +
        `find . -exec touch -h -d @1700000000 {} + && ` +
        `LANG=C bsdtar -cf - --format=mtree --options='!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link' .BUILDINFO .PKGINFO usr | gzip -c -f -n > .MTREE && touch -d @1700000000 .MTREE && ` +
        `LANG=C bsdtar -cf - --no-fflags --uid 0 --gid 0 .MTREE .BUILDINFO .PKGINFO usr | zstd -q -c > ../${name}.pkg.tar.zst`,
    );
  make('a', '1700000000');
  make('b', '1700000999');
  make('c', '1700000999', 'other');
  const pub = `${d}/a.pkg.tar.zst`;
  assert.equal(verify([pub, `${d}/b.pkg.tar.zst`]).json.artifacts[0]!.verdict, 'UNREPRODUCIBLE');
  const allowed = verify(['--policy', 'arch-buildinfo', pub, `${d}/b.pkg.tar.zst`]);
  assert.equal(allowed.code, 0, JSON.stringify(allowed.json.artifacts[0]?.differences.slice(0, 5)));
  const art = allowed.json.artifacts[0]!;
  assert.equal(art.verdict, 'REPRODUCIBLE');
  assert.ok(art.ignored.some((i) => i.field === 'builddate'));
  // A content change is not allowed by it.
  assert.equal(verify(['--policy', 'arch-buildinfo', pub, `${d}/c.pkg.tar.zst`]).json.artifacts[0]!.verdict, 'UNREPRODUCIBLE');
});
