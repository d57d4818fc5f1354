// A REPRODUCIBLE verdict still names the causes of what its policy ignored,
// marked as ignored, with the fix that would make the rebuild bit-identical.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { node } from '../src/compare/difference.js';
import { explain } from '../src/explain/explain.js';
import { judge } from '../src/verdict/judge.js';
import { builtinPolicies } from '../src/verdict/policy.js';
import { haveCommand, reprove, sh, workdir, skipOutsideCi } from './helpers.js';

interface Issue {
  id: string;
  fix: string;
  evidence: string[];
  ignored?: boolean;
}
interface ArtifactJson {
  verdict: string;
  issues: Issue[];
  unexplained: string[];
}

test('explain: a cause whose every item a policy allowed is marked ignored; one with an item that counts is not, and allowed items are never unexplained', () => {
  const header = () =>
    node('header', 'header', {
      kind: 'header',
      changes: [
        { field: 'BUILDTIME', value1: '1700000000', value2: '1700000001' },
        { field: 'BUILDHOST', value1: 'builder-a', value2: 'builder-b' },
      ],
    });
  const rpm = (...details: ReturnType<typeof node>[]) => node('a.rpm', 'b.rpm', { format: 'rpm', details });
  const rpmPolicy = builtinPolicies.filter((p) => p.name === 'rpm');
  assert.equal(rpmPolicy.length, 1);

  // Header only, both fields allowed: REPRODUCIBLE, and the causes are named as ignored.
  const allowed = rpm(header());
  assert.equal(judge(allowed, rpmPolicy).reproducible, true);
  const e = explain(allowed);
  const byId = new Map(e.findings.map((f) => [f.id, f]));
  assert.equal(byId.get('rpm_header_only')?.ignored, true, JSON.stringify(e.findings));
  assert.equal(byId.get('build_date_in_package_metadata')?.ignored, true);
  assert.match(byId.get('rpm_header_only')!.fix, /%use_source_date_epoch_as_buildtime 1/);
  assert.ok(byId.get('build_date_in_package_metadata')!.evidence.every((l) => l.endsWith('(ignored by policy)')));
  assert.equal(e.unexplainedCount, 0);

  // Without a policy the same causes count: not marked.
  for (const f of explain(rpm(header())).findings) assert.equal(f.ignored, undefined, f.id);

  // --strict: nothing allowed, nothing marked.
  const strict = rpm(header());
  judge(strict, []);
  for (const f of explain(strict).findings) assert.equal(f.ignored, undefined, f.id);

  // An allowed change no detector explains is neither named nor unexplained.
  const other = rpm(node('header', 'header', { kind: 'header', changes: [{ field: 'SOURCEPKGID', value1: 'aa', value2: 'bb' }] }), node('content', 'content', { kind: 'content', unifiedDiff: '@@ -1 +1 @@\n-x\n+y\n' }));
  judge(other, rpmPolicy);
  const o = explain(other);
  assert.equal(o.unexplainedCount, 1);
  assert.match(o.unexplained[0]!, /content: -x \/ \+y$/);

  // A node allowed whole (the signature header) is read as ignored evidence, after everything else.
  const sig = rpm(node('signature header', 'signature header', { kind: 'header', changes: [{ field: 'SIGMD5', value1: '01', value2: '02' }] }), header());
  judge(sig, rpmPolicy);
  const s = explain(sig);
  const only = s.findings.find((f) => f.id === 'rpm_header_only')!;
  assert.equal(only.ignored, true);
  assert.equal(only.count, 3);
  assert.match(only.evidence.at(-1)!, /^signature header: SIGMD5 .*\(ignored by policy\)$/);
});

test('an RPM rebuilt a second later on another host is REPRODUCIBLE under the rpm policy, and its causes are named as ignored, with the fix', { skip: skipOutsideCi(haveCommand('rpmbuild') ? false : 'rpmbuild is not installed'), timeout: 120_000 }, (t) => {
  const d = workdir(t);
  const spec = (data: string) =>
    `Name: ign\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%install\nmkdir -p %{buildroot}/usr/share/ign && echo ${data} > %{buildroot}/usr/share/ign/f\n%files\n/usr/share/ign/f\n`;
  const build = (name: string, host: string, data = 'data') => {
    writeFileSync(join(d, 'ign.spec'), spec(data));
    sh(d, `rm -rf top && rpmbuild -bb --define "_topdir $PWD/top" --define 'clamp_mtime_to_source_date_epoch 1' --define '_buildhost ${host}' ign.spec >/dev/null 2>&1 && cp top/RPMS/noarch/*.rpm ${name}.rpm`, { SOURCE_DATE_EPOCH: '1700000000' });
  };
  // File times clamped to SOURCE_DATE_EPOCH; BUILDTIME is the clock's, a second apart; BUILDHOST differs.
  build('a', 'builder-a.example.org');
  sh(d, 'sleep 1.1');
  build('b', 'builder-b.example.org');
  build('c', 'builder-b.example.org', 'other');

  const verify = (args: string[]) => {
    const r = reprove(['verify', '--json', '-', ...args]);
    return (JSON.parse(r.stdout) as { artifacts: ArtifactJson[] }).artifacts[0]!;
  };
  const a = verify([`${d}/a.rpm`, `${d}/b.rpm`]);
  assert.equal(a.verdict, 'REPRODUCIBLE');
  const header = a.issues.find((i) => i.id === 'rpm_header_only');
  assert.ok(header, a.issues.map((i) => i.id).join());
  assert.equal(header.ignored, true);
  assert.match(header.fix, /%use_source_date_epoch_as_buildtime 1/);
  assert.match(header.fix, /%_buildhost/);
  assert.ok(header.evidence.some((l) => /BUILDHOST \(builder-a\.example\.org -> builder-b\.example\.org\) \(ignored by policy\)/.test(l)), header.evidence.join('\n'));
  assert.ok(header.evidence.some((l) => /BUILDTIME .* \(ignored by policy\)/.test(l)), header.evidence.join('\n'));
  assert.equal(a.issues.find((i) => i.id === 'build_date_in_package_metadata')?.ignored, true);
  assert.ok(a.issues.every((i) => i.ignored === true), 'every cause of a REPRODUCIBLE verdict is about ignored differences');
  assert.deepEqual(a.unexplained, []);

  // The text verdict says so on each cause line.
  const text = reprove(['verify', `${d}/a.rpm`, `${d}/b.rpm`]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^ {4}cause: rpm_header_only \(high\) \(ignored by policy\) — fix: /m);

  // --strict: the same causes make it UNREPRODUCIBLE and are not marked.
  const strict = verify(['--strict', `${d}/a.rpm`, `${d}/b.rpm`]);
  assert.equal(strict.verdict, 'UNREPRODUCIBLE');
  assert.ok(strict.issues.some((i) => i.id === 'rpm_header_only'));
  assert.ok(strict.issues.every((i) => i.ignored === undefined));

  // A payload change counts: the header is not all that differs, the build date is still named as ignored.
  const c = verify([`${d}/a.rpm`, `${d}/c.rpm`]);
  assert.equal(c.verdict, 'UNREPRODUCIBLE');
  assert.ok(!c.issues.some((i) => i.id === 'rpm_header_only'), c.issues.map((i) => i.id).join());
  assert.equal(c.issues.find((i) => i.id === 'build_date_in_package_metadata')?.ignored, true);
  assert.ok(c.unexplained.length > 0);
});
