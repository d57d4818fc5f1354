// Known-cause detectors, each on a real pair that shows the cause and on one
// that does not; and `reprove explain` on stored diffoscope and reprove reports.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { haveCommand, reprove, reproveJson, sh, workdir, skipOutsideCi } from './helpers.js';

interface Issue {
  id: string;
  confidence: string;
  fix: string;
  evidence: string[];
}

/** The known causes reprove names for A vs B, and what it leaves unexplained. */
function causes(a: string, b: string): { ids: string[]; issues: Issue[]; unexplained: string[] } {
  const { json } = reproveJson(a, b);
  const issues = (json?.['reprove_issues'] as Issue[] | undefined) ?? [];
  return { ids: issues.map((i) => i.id).sort(), issues, unexplained: (json?.['reprove_unexplained'] as string[] | undefined) ?? [] };
}

test('timestamps_in_gzip_headers: gzip without -n, and not for gzip -n with other content', (t) => {
  const d = workdir(t);
  sh(d, `printf 'same\\n' > f && touch -d 2020-01-01 f && gzip -nc f > a.gz && gzip -c < f > /dev/null && cp f g && gzip -k g && mv g.gz b.gz`);
  sh(d, `printf 'other\\n' > h && gzip -nc h > c.gz`);
  const yes = causes(`${d}/a.gz`, `${d}/b.gz`);
  assert.ok(yes.ids.includes('timestamps_in_gzip_headers'), yes.ids.join());
  assert.match(yes.issues.find((i) => i.id === 'timestamps_in_gzip_headers')!.fix, /gzip -n/);
  const no = causes(`${d}/a.gz`, `${d}/c.gz`);
  assert.ok(!no.ids.includes('timestamps_in_gzip_headers'));
  assert.ok(no.unexplained.length > 0, 'a content change is unexplained');
});

test('timestamps_in_tarball, random_order_in_tarball, users_and_groups_in_tarball: each on its own pair', (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && printf 1 > t/a && printf 2 > t/b && touch -d 2020-01-01 t/a t/b`);
  const tar = (name: string, opts: string, files = 'a b') => sh(d, `tar --format=gnu ${opts} -cf ${name} -C t ${files}`);
  tar('base.tar', '--mtime=@0 --owner=0 --group=0 --numeric-owner');
  tar('time.tar', '--mtime=@86400 --owner=0 --group=0 --numeric-owner');
  tar('order.tar', '--mtime=@0 --owner=0 --group=0 --numeric-owner', 'b a');
  tar('owner.tar', '--mtime=@0 --owner=1000 --group=1000 --numeric-owner');
  assert.deepEqual(causes(`${d}/base.tar`, `${d}/time.tar`).ids, ['timestamps_in_tarball']);
  assert.deepEqual(causes(`${d}/base.tar`, `${d}/order.tar`).ids, ['random_order_in_tarball']);
  assert.deepEqual(causes(`${d}/base.tar`, `${d}/owner.tar`).ids, ['users_and_groups_in_tarball']);
  for (const c of [causes(`${d}/base.tar`, `${d}/time.tar`), causes(`${d}/base.tar`, `${d}/order.tar`), causes(`${d}/base.tar`, `${d}/owner.tar`)]) assert.deepEqual(c.unexplained, []);
});

test('different_due_to_umask: 0664 vs 0644 is a umask, 0600 vs 0644 is not', (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && printf 1 > t/a && chmod 644 t/a && tar --mtime=@0 -cf a.tar -C t a && chmod 664 t/a && tar --mtime=@0 -cf b.tar -C t a && chmod 600 t/a && tar --mtime=@0 -cf c.tar -C t a`);
  assert.deepEqual(causes(`${d}/a.tar`, `${d}/b.tar`).ids, ['different_due_to_umask']);
  const no = causes(`${d}/a.tar`, `${d}/c.tar`);
  assert.deepEqual(no.ids, []);
  assert.equal(no.unexplained.length, 1);
});

test('timestamps_in_file_content and captures_build_path in generated text, together on one line', (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.h'), '/* generated */\n#define BUILD_DATE "Mon Jan  1 12:00:00 UTC 2024"\n#define SRCDIR "/tmp/build-a/src"\nconst char *v = "built 2024-01-01 12:00:00 in /tmp/build-a/src";\n#define VERSION 1\n');
  writeFileSync(join(d, 'b.h'), '/* generated */\n#define BUILD_DATE "Tue Mar  5 08:30:00 UTC 2024"\n#define SRCDIR "/tmp/build-bb/src"\nconst char *v = "built 2024-03-05 08:30:00 in /tmp/build-bb/src";\n#define VERSION 1\n');
  writeFileSync(join(d, 'c.h'), '/* generated */\n#define BUILD_DATE "Mon Jan  1 12:00:00 UTC 2024"\n#define SRCDIR "/tmp/build-a/src"\nconst char *v = "built 2024-01-01 12:00:00 in /tmp/build-a/src";\n#define VERSION 2\n');
  const yes = causes(`${d}/a.h`, `${d}/b.h`);
  assert.deepEqual(yes.ids, ['captures_build_path', 'timestamps_in_file_content']);
  assert.deepEqual(yes.unexplained, []);
  const no = causes(`${d}/a.h`, `${d}/c.h`);
  assert.deepEqual(no.ids, []);
  assert.equal(no.unexplained.length, 1);
});

test('captures_kernel_version: uname -r in the output', (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.txt'), 'Compiled on Linux 6.1.0-13-amd64 x86_64\n');
  writeFileSync(join(d, 'b.txt'), 'Compiled on Linux 6.1.0-18-amd64 x86_64\n');
  writeFileSync(join(d, 'c.txt'), 'Compiled on Linux with gcc 12\n');
  assert.deepEqual(causes(`${d}/a.txt`, `${d}/b.txt`).ids, ['captures_kernel_version']);
  assert.deepEqual(causes(`${d}/a.txt`, `${d}/c.txt`).ids, []);
});

test('random_order_in_generated_files: the same lines permuted, but not different lines', (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.txt'), 'header\nalpha\nbeta\ngamma\ndelta\nfooter\n');
  writeFileSync(join(d, 'b.txt'), 'header\ngamma\nalpha\ndelta\nbeta\nfooter\n');
  writeFileSync(join(d, 'c.txt'), 'header\ngamma\nalpha\ndelta\nepsilon\nfooter\n');
  const yes = causes(`${d}/a.txt`, `${d}/b.txt`);
  assert.deepEqual(yes.ids, ['random_order_in_generated_files']);
  assert.deepEqual(yes.unexplained, []);
  assert.deepEqual(causes(`${d}/a.txt`, `${d}/c.txt`).ids, []);
});

test('reprove explain reads a diffoscope report: gzip header time and file-list times', { skip: skipOutsideCi(haveCommand('diffoscope') ? false : 'diffoscope is not installed') }, (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && printf 1 > t/a && touch -d 2020-01-01 t/a && tar --format=gnu -cf x.tar -C t a && touch -d 2020-01-01 x.tar && gzip -k x.tar && mv x.tar.gz a.tar.gz && touch -d 2021-01-01 t/a && tar --format=gnu -cf x.tar -C t a && touch -d 2021-01-01 x.tar && gzip -k x.tar && mv x.tar.gz b.tar.gz`);
  sh(d, `diffoscope --json report.json a.tar.gz b.tar.gz || test $? = 1`);
  const r = reprove(['explain', '--json', `${d}/report.json`]);
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout) as { findings: Issue[]; unexplainedCount: number };
  assert.deepEqual(e.findings.map((f) => f.id).sort(), ['timestamps_in_gzip_headers', 'timestamps_in_tarball']);
  assert.equal(e.unexplainedCount, 0);
});

test('reprove explain on a reprove report gives the same causes as diff', (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && printf 1 > t/a && printf 2 > t/b && tar --mtime=@0 -cf a.tar -C t a b && tar --mtime=@0 -cf b.tar -C t b a`);
  reprove(['diff', '--json', `${d}/r.json`, `${d}/a.tar`, `${d}/b.tar`]);
  const r = reprove(['explain', `${d}/r.json`]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^random_order_in_tarball \(high confidence, 1 item\)/);
  assert.match(r.stdout, /every difference is explained/);
  assert.equal(reprove(['explain', `${d}/a.tar`]).code, 2);
});
