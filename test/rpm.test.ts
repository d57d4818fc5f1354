// RPM packages built at test time with rpmbuild: the header decoder checked tag by
// tag against `rpm -qp --qf`, then the report on rebuilds (timestamps, build host,
// a changed file under each payload compressor) and on damaged packages.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { artifactFromPath, OpenFiles } from '../src/compare/artifact.js';
import { readRpm, tagValues, type RpmPackage } from '../src/formats/rpm-parser.js';
import { digestAlgorithm, digestName } from '../src/formats/rpm-integrity.js';
import { changelog, DEPENDENCY_KINDS, dependencies, rpmFiles } from '../src/formats/rpm-views.js';
import { diffoscopeJson, find, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('rpmbuild') || !haveCommand('rpm') ? 'rpmbuild or rpm missing' : false);
/** diffoscope reads RPM headers only with python3-rpm; without it, it falls back to a binary diff (rpm_fallback). */
const diffoscopeRpm =
  haveCommand('diffoscope') && haveCommand('python3') && sh('/', '/usr/bin/python3 -c "import rpm" 2>/dev/null && echo yes || true').trim() === 'yes';

const SPEC = `Name: hello
Epoch: 2
Version: 1.2
Release: 3
Summary: A test package
License: MIT
URL: https://example.org/hello
Group: Applications/Test
BuildArch: noarch
Requires: bash >= 4.0, coreutils
Requires(pre): shadow-utils
Provides: greeting = 1.2-3
Conflicts: oldhello < 1.0
Obsoletes: hello-old <= 1.1
Recommends: less
Suggests: vim > 8
Supplements: hello-extras
Enhances: bash
%description
Test package for reprove.
Second line.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc %{buildroot}/usr/share/hello %{buildroot}/usr/share/locale/de
printf '#!/bin/sh\\necho hello\\n' > %{buildroot}/usr/bin/hello
chmod 755 %{buildroot}/usr/bin/hello
cp %{buildroot}/usr/bin/hello %{buildroot}/usr/bin/ping-hello
ln -s hello %{buildroot}/usr/bin/hi
echo 'greeting=hi' > %{buildroot}/etc/hello.conf
echo @DATA@ > %{buildroot}/usr/share/hello/data.txt
echo hallo > %{buildroot}/usr/share/locale/de/hello.txt
echo secret > %{buildroot}/usr/share/hello/private
%pre
echo pre
%post -p /bin/sh
echo post
%preun
echo preun
%postun -p /sbin/ldconfig
%posttrans
echo posttrans
%triggerin -- bash >= 5
echo bash changed
%files
%attr(0755,root,root) /usr/bin/hello
%caps(cap_net_raw=ep) /usr/bin/ping-hello
/usr/bin/hi
%config(noreplace) /etc/hello.conf
%ghost /var/log/hello.log
%dir /usr/share/hello
/usr/share/hello/data.txt
%attr(0640,nobody,nogroup) /usr/share/hello/private
%lang(de) /usr/share/locale/de/hello.txt
%changelog
* Tue Nov 14 2023 X <x@example.org> - 1.2-3
- second
* Mon Nov 13 2023 Y <y@example.org> - 1.2-2
- first
`;

const REPRODUCIBLE = ['--define', 'clamp_mtime_to_source_date_epoch 1', '--define', 'use_source_date_epoch_as_buildtime 1'];

/** Builds the spec (with `data` as the content of data.txt) and copies the package to `out`. */
function build(d: string, out: string, { data = 'DATA', defines = [] as string[], epoch }: { data?: string; defines?: string[]; epoch?: string } = {}): string {
  writeFileSync(`${d}/hello.spec`, SPEC.replace('@DATA@', data));
  const args = ['--define', `_topdir ${d}/top`, ...defines].map((a) => `'${a}'`).join(' ');
  sh(d, `rm -rf top && rpmbuild -bb ${args} hello.spec >build.log 2>&1 || { cat build.log >&2; exit 1; } && cp top/RPMS/noarch/hello-1.2-3.noarch.rpm ${out}`, epoch ? { SOURCE_DATE_EPOCH: epoch } : {});
  return `${d}/${out}`;
}

async function read(path: string): Promise<RpmPackage> {
  const files = new OpenFiles();
  try {
    return await readRpm(await artifactFromPath(files, path));
  } finally {
    await files.closeAll();
  }
}


type Change = { member?: string; field: string; value1?: string; value2?: string };
const changes = (n: JsonNode | undefined): Change[] => (n?.['reprove_changes'] as Change[] | undefined) ?? [];
const fields = (n: JsonNode | undefined) => changes(n).map((c) => c.field);
const sorted = (s: Iterable<string>) => [...s].sort();

/** Signature tags as rpm merges them into the header it queries (headerMergeLegacySigs). */
const SIGNATURE_QF: Record<string, string> = { SIGSIZE: 'SIGSIZE', SIGMD5: 'SIGMD5', SHA1HEADER: 'SHA1HEADER', SHA256HEADER: 'SHA256HEADER', ARCHIVESIZE: 'ARCHIVESIZE' };
/** Tags rpm prints differently on purpose: the region tags print the whole region. */
const NOT_COMPARABLE = new Set(['HEADERIMMUTABLE', 'HEADERSIGNATURES', 'RESERVEDSPACE']);

test('oracle: every tag reprove decodes equals what rpm -qp --qf prints for it', { skip }, async (t) => {
  const d = workdir(t);
  const rpmPath = build(d, 'hello.rpm');
  const p = await read(rpmPath);
  const pairs: [ours: string, qf: string, values: string[]][] = [];
  for (const tag of p.header.tags) if (!NOT_COMPARABLE.has(tag.name)) pairs.push([tag.name, tag.name, tag.values]);
  for (const tag of p.signature.tags) if (SIGNATURE_QF[tag.name]) pairs.push([`signature ${tag.name}`, SIGNATURE_QF[tag.name]!, tag.values]);
  // One rpm run for all tags: each tag's values one per line, after a marker line.
  const qf = pairs.map(([, q]) => `@@@ ${q}\\n[%{${q}}\\n]`).join('');
  const out = sh(d, `rpm -qp --qf '${qf}' hello.rpm`);
  const printed = new Map<string, string>();
  const parts = out.split(/^@@@ /m).slice(1);
  assert.equal(parts.length, pairs.length);
  parts.forEach((part, i) => printed.set(pairs[i]![0], part.slice(part.indexOf('\n') + 1)));
  // FILECLASS is stored as indexes into CLASSDICT; rpm prints the entries (and describes symlinks itself).
  const dict = tagValues(p.header, 'CLASSDICT');
  const modes = tagValues(p.header, 'FILEMODES');
  const links = tagValues(p.header, 'FILELINKTOS');
  const fileClass = (v: string, i: number) => ((Number(modes[i]) & 0o170000) === 0o120000 ? `symbolic link to \`${links[i]}'` : dict[Number(v)]!);
  const shown = (name: string, values: string[]) => (name === 'FILECLASS' ? values.map(fileClass) : values);
  const wrong = pairs.filter(([ours, , values]) => shown(ours, values).map((v) => v + '\n').join('') !== printed.get(ours));
  assert.deepEqual(wrong.map(([ours, , values]) => `${ours}: ${JSON.stringify(shown(ours, values))} vs ${JSON.stringify(printed.get(ours))}`), []);

  const names = new Set(pairs.map(([n]) => n));
  assert.ok(pairs.length >= 60, `only ${pairs.length} tags compared`);
  for (const must of ['NAME', 'EPOCH', 'BUILDTIME', 'BUILDHOST', 'DESCRIPTION', 'SOURCERPM', 'OPTFLAGS', 'PAYLOADCOMPRESSOR', 'PAYLOADDIGEST', 'PAYLOADDIGESTALGO',
    'BASENAMES', 'DIRNAMES', 'DIRINDEXES', 'FILESIZES', 'FILEMODES', 'FILEMTIMES', 'FILEDIGESTS', 'FILELINKTOS', 'FILEFLAGS', 'FILEUSERNAME', 'FILEGROUPNAME',
    'FILELANGS', 'FILECAPS', 'FILEINODES', 'FILEVERIFYFLAGS', 'FILECLASS', 'CLASSDICT', 'REQUIRENAME', 'REQUIREFLAGS', 'REQUIREVERSION', 'PROVIDENAME',
    'CONFLICTNAME', 'OBSOLETENAME', 'RECOMMENDNAME', 'SUGGESTNAME', 'SUPPLEMENTNAME', 'ENHANCENAME', 'PREIN', 'POSTIN', 'POSTINPROG', 'POSTUNPROG',
    'POSTTRANS', 'TRIGGERSCRIPTS', 'TRIGGERNAME', 'TRIGGERFLAGS', 'CHANGELOGTIME', 'CHANGELOGNAME', 'CHANGELOGTEXT',
    'signature SIGSIZE', 'signature SIGMD5', 'signature SHA256HEADER', 'signature ARCHIVESIZE'])
    assert.ok(names.has(must), `${must} not decoded`);
  assert.deepEqual([...p.header.tags, ...p.signature.tags].filter((x) => x.name.startsWith('TAG')).map((x) => x.tag), [], 'tags without a name');

  // The views print what rpm's own query options print.
  for (const [view, prefix] of DEPENDENCY_KINDS.filter(([v]) => v !== 'orderwithrequires'))
    assert.equal(dependencies(p.header, prefix).map((l) => l + '\n').join(''), sh(d, `rpm -qp --${view} hello.rpm`), view);
  assert.equal(changelog(p.header), sh(d, 'rpm -qp --changelog hello.rpm'));
  assert.deepEqual(rpmFiles(p.header, [], 'hello.rpm').map((f) => f.path + '\n').join(''), sh(d, 'rpm -qpl hello.rpm'));
  assert.equal(tagValues(p.header, 'PAYLOADDIGEST')[0], sh(d, `rpm -qp --qf '%{PAYLOADDIGEST}' hello.rpm`));
});

test('rebuilt a second later: BUILDTIME, the signature digests and the payload mtimes differ', { skip }, async (t) => {
  const d = workdir(t);
  const a = build(d, 'a.rpm');
  await new Promise((r) => setTimeout(r, 1100));
  const b = build(d, 'b.rpm');
  const { code, json, stderr } = reproveJson(a, b);
  assert.equal(code, 1, stderr);
  assert.equal(json!['reprove_format'], 'rpm');
  const header = json!.details!.find((c) => c.source1 === 'header')!;
  assert.equal(header['reprove_kind'], 'header');
  assert.ok(fields(header).includes('BUILDTIME'));
  assert.ok(fields(header).includes('FILEMTIMES'));
  assert.ok(!fields(header).includes('FILEDIGESTS'), 'same file contents');
  assert.match(header.unified_diff!, /\n-BUILDTIME: \d+\n\+BUILDTIME: \d+\n/);
  const sig = json!.details!.find((c) => c.source1 === 'signature header')!;
  assert.ok(['SHA256HEADER', 'SIGMD5'].every((f) => fields(sig).includes(f)), fields(sig).join());
  // The payload holds the same files with new mtimes: its cpio file list, no file content.
  assert.deepEqual(sorted(memberPaths(json)), ['content']);
  assert.match(find(find(json, 'content'), 'file list')!.unified_diff!, /\.\/usr\/share\/hello\/data\.txt/);
  const files = json!.details!.find((c) => c.source1 === 'file list')!;
  assert.ok(changes(files).some((c) => c.member === '/usr/share/hello/data.txt' && c.field === 'FILEMTIMES'));
  assert.equal(json!.comments, undefined, 'no integrity complaints about intact packages');
  if (diffoscopeRpm) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(a, b))));
});

test('SOURCE_DATE_EPOCH with clamped mtimes: identical rebuilds; another build host changes exactly BUILDHOST and the header digests', { skip }, (t) => {
  const d = workdir(t);
  const host = (h: string) => ['--define', `_buildhost ${h}`];
  const a = build(d, 'a.rpm', { epoch: '1700000000', defines: [...REPRODUCIBLE, ...host('builder-a.example.org')] });
  const a2 = build(d, 'a2.rpm', { epoch: '1700000000', defines: [...REPRODUCIBLE, ...host('builder-a.example.org')] });
  const b = build(d, 'b.rpm', { epoch: '1700000000', defines: [...REPRODUCIBLE, ...host('builder-b.example.org')] });
  assert.equal(sh(d, `rpm -qp --qf '%{BUILDTIME}' a.rpm`), '1700000000');
  const same = reproveJson(a, a2);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.json, null);
  const { code, json } = reproveJson(a, b);
  assert.equal(code, 1);
  assert.deepEqual(json!.details!.map((c) => c.source1), ['signature header', 'header']);
  assert.deepEqual(changes(find(json, 'header')), [{ field: 'BUILDHOST', value1: 'builder-a.example.org', value2: 'builder-b.example.org' }]);
  assert.deepEqual(sorted(fields(find(json, 'signature header'))), ['SHA1HEADER', 'SHA256HEADER', 'SIGMD5']);
});

for (const [compressor, payload] of [['gzip', 'w9.gzdio'], ['xz', 'w2.xzdio'], ['zstd', 'w3.zstdio'], ['bzip2', 'w9.bzdio']] as const) {
  test(`${compressor} payload: a changed file is reported inside "content" with its diff`, { skip }, async (t) => {
    const d = workdir(t);
    const defines = [...REPRODUCIBLE, '--define', `_binary_payload ${payload}`];
    const a = build(d, 'a.rpm', { epoch: '1700000000', defines });
    const b = build(d, 'b.rpm', { epoch: '1700000000', defines, data: 'DATA2' });
    assert.equal(sh(d, `rpm -qp --qf '%{PAYLOADCOMPRESSOR}' b.rpm`), compressor);
    const { code, json, stderr } = reproveJson(a, b);
    assert.equal(code, 1, stderr);
    assert.deepEqual(sorted(memberPaths(json)), ['content', 'content / ./usr/share/hello/data.txt'], JSON.stringify(json, null, 1).slice(0, 6000));
    assert.equal(find(json, './usr/share/hello/data.txt')!.unified_diff, '@@ -1 +1 @@\n-DATA\n+DATA2\n');
    assert.ok(['FILEDIGESTS', 'FILESIZES', 'PAYLOADDIGEST', 'SIZE'].every((f) => fields(find(json, 'header')).includes(f)));
    const files = changes(json!.details!.find((c) => c.source1 === 'file list'));
    assert.deepEqual(sorted(new Set(files.map((c) => `${c.member} ${c.field}`))), ['/usr/share/hello/data.txt FILEDIGESTS', '/usr/share/hello/data.txt FILESIZES']);
    assert.equal(json!.comments, undefined);
    // diffoscope (with python3-rpm) names the payload "content" too (rpm2cpio's output).
    if (diffoscopeRpm) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(a, b))));
  });
}

test('dependencies and scriptlets are shown as rpm -qp prints them', { skip }, (t) => {
  const d = workdir(t);
  const a = build(d, 'a.rpm', { epoch: '1700000000', defines: REPRODUCIBLE });
  writeFileSync(`${d}/hello.spec`, SPEC.replace('@DATA@', 'DATA').replace('bash >= 4.0', 'bash >= 5.1').replace('echo preun', 'echo bye').replace('Recommends: less\n', ''));
  sh(d, `rm -rf top && rpmbuild -bb --define '_topdir ${d}/top' ${REPRODUCIBLE.map((x) => `'${x}'`).join(' ')} hello.spec >build.log 2>&1 && cp top/RPMS/noarch/*.rpm b.rpm`, { SOURCE_DATE_EPOCH: '1700000000' });
  const { json } = reproveJson(a, `${d}/b.rpm`);
  const requires = find(json, 'requires')!;
  assert.match(requires.unified_diff!, /\n-bash >= 4\.0\n\+bash >= 5\.1\n/);
  assert.deepEqual(changes(requires), [{ field: 'requires', value1: 'bash >= 4.0' }, { field: 'requires', value2: 'bash >= 5.1' }]);
  assert.deepEqual(changes(find(json, 'recommends')), [{ field: 'recommends', value1: 'less' }]);
  const scripts = find(json, 'scriptlets')!;
  assert.match(scripts.unified_diff!, /%preun scriptlet \(using \/bin\/sh\):\n-echo preun\n\+echo bye\n/);
  assert.deepEqual(fields(scripts), ['PREUN']);
  assert.equal(memberPaths(json).size, 0, 'the payload is the same');
});

/** Writes a copy of `src` with `patch` applied to its bytes. */
function patched(src: string, dst: string, patch: (b: Buffer) => Buffer | void): string {
  const buf = Buffer.from(readFileSync(src));
  writeFileSync(dst, patch(buf) ?? buf);
  return dst;
}

test('damaged packages: clear comments, exit 1, no crash, fast', { skip }, async (t) => {
  const d = workdir(t);
  const a = build(d, 'a.rpm', { epoch: '1700000000', defines: REPRODUCIBLE });
  const p = await read(a);
  const h = p.header.offset;
  const cases: [string, string, RegExp][] = [
    [patched(a, `${d}/count.rpm`, (b) => void b.writeUInt32BE(0x80000000, 96 + 8)), 'signature index count 2^31', /Cannot read signature header of \S*count\.rpm: index count 2147483648 is outside 1\.\.65535/],
    [patched(a, `${d}/store.rpm`, (b) => void b.writeUInt32BE(0x0ffffff0, h + 12)), 'main header store past the end', /Cannot read header of \S*store\.rpm: \d+ index entries and 268435440 bytes of data need \d+ bytes at offset \d+, only \d+ remain/],
    [patched(a, `${d}/offset.rpm`, (b) => void b.writeUInt32BE(0x7ffffff0, h + 16 + 16 * 3 + 8)), 'tag offset outside the store', /Cannot read header of \S*offset\.rpm: entry 3 \(\w+, tag \d+\): offset 2147483632 is outside the \d+-byte data store/],
    [patched(a, `${d}/overlap.rpm`, (b) => void b.writeUInt32BE(b.readUInt32BE(h + 16 + 16 * 3 + 8), h + 16 + 16 * 4 + 8)), 'two entries sharing their data', /Cannot read header of \S*overlap\.rpm: the data of \w+ \(offset \d+\) overlaps the data of \w+/],
    [patched(a, `${d}/cut.rpm`, (b) => b.subarray(0, 1000)), 'truncated in the header', /Cannot read (signature )?header of \S*cut\.rpm: .*only \d+ remain/],
    [patched(a, `${d}/lead.rpm`, (b) => b.subarray(0, 50)), 'truncated in the lead', /Cannot read RPM lead of \S*lead\.rpm: needs bytes 0\.\.96, the data ends at 50/],
  ];
  // Each message names the check that refused the field before anything was allocated or looped over.
  for (const [file, what, message] of cases) {
    const { code, json, stderr } = reproveJson(a, file);
    assert.equal(code, 1, `${what}: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, what);
    assert.match(json!.comments!.join('\n'), new RegExp(`Cannot compare as rpm: ${message.source}`), what);
  }

  // The payload replaced by garbage: the headers parse, the digest check and the decompression say what is wrong.
  const garbage = patched(a, `${d}/garbage.rpm`, (b) => void b.fill(0x5a, p.payloadOffset));
  const { code, json, stderr } = reproveJson(a, garbage);
  assert.equal(code, 1, stderr);
  assert.match(json!.comments!.join('\n'), /garbage\.rpm: PAYLOADDIGEST is [0-9a-f]{64} but the payload's SHA256 is [0-9a-f]{64}: the payload does not match its header/);
  assert.match(find(json, 'content')!.comments!.join('\n'), /^Cannot decompress the payload: .*; showing the binary difference of the compressed payloads/);
  // A payload cut short: the size and digest checks name it.
  const short = patched(a, `${d}/short.rpm`, (b) => b.subarray(0, b.length - 10));
  const r = reproveJson(a, short);
  assert.equal(r.code, 1);
  assert.match(r.json!.comments!.join('\n'), /short\.rpm: the signature header gives \d+ bytes of header and payload, the file has \d+/);
  // A header changed after signing.
  const tampered = patched(a, `${d}/tampered.rpm`, (b) => {
    const at = b.indexOf('Test package for reprove', h);
    b.write('Best', at);
  });
  const tr = reproveJson(a, tampered);
  assert.match(tr.json!.comments!.join('\n'), /tampered\.rpm: SHA256HEADER is [0-9a-f]{64} but the header's SHA-256 is [0-9a-f]{64}/);
  assert.deepEqual(changes(find(tr.json, 'header')), [{ field: 'DESCRIPTION', value1: 'Test package for reprove.\nSecond line.', value2: 'Best package for reprove.\nSecond line.' }]);
});

test('one digest table names the algorithms of FILEDIGESTALGO and PAYLOADDIGESTALGO, and only its own numbers', () => {
  assert.deepEqual(['1', '2', '8', '9', '10', '11'].map(digestAlgorithm), ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha224']);
  // A hostile package can store these tags as STRING: names of Object's prototype are no algorithm.
  for (const v of ['3', 'constructor', 'toString', '__proto__']) assert.equal(digestAlgorithm(v), undefined, v);
  assert.equal(digestName('8'), 'sha256');
  assert.equal(digestName('toString'), 'algotoString');
});
