// More known causes from Debian's list, each on a pair of generated files that
// shows it and on one that does not.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { reproveJson, sh, workdir } from './helpers.js';

function causes(a: string, b: string): { ids: string[]; unexplained: string[] } {
  const { json } = reproveJson(a, b);
  return {
    ids: ((json?.['reprove_issues'] as { id: string }[] | undefined) ?? []).map((i) => i.id).sort(),
    unexplained: (json?.['reprove_unexplained'] as string[] | undefined) ?? [],
  };
}

/** Writes two trees a/ and b/ with the given files, and returns their paths. */
function trees(d: string, files: Record<string, [string, string]>): [string, string] {
  for (const [name, [x, y]] of Object.entries(files)) {
    for (const [side, text] of [['a', x], ['b', y]] as const) {
      const p = join(d, side, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
  }
  sh(d, 'find a b -exec touch -h -d 2020-01-01 {} +');
  return [join(d, 'a'), join(d, 'b')];
}

test('paths_vary_due_to_usrmerge: /bin/sed vs /usr/bin/sed, but not /bin/sed vs /bin/awk', (t) => {
  const d = workdir(t);
  const [a, b] = trees(d, { 'config.mk': ['SED = /bin/sed\nGREP = /bin/grep\n', 'SED = /usr/bin/sed\nGREP = /usr/bin/grep\n'] });
  assert.deepEqual(causes(a, b), { ids: ['paths_vary_due_to_usrmerge'], unexplained: [] });
  const [c, e] = trees(join(d, 'n'), { 'config.mk': ['SED = /bin/sed\n', 'SED = /bin/awk\n'] });
  assert.deepEqual(causes(c, e).ids, []);
});

test('captures_shell_variable_in_autofoo_script: SHELL=/bin/bash vs /bin/sh in libtool, but not another variable', (t) => {
  const d = workdir(t);
  const [a, b] = trees(d, { libtool: ["#! /bin/sh\nSHELL='/bin/bash'\nmacro_version=2.4.7\n", "#! /bin/sh\nSHELL='/bin/sh'\nmacro_version=2.4.7\n"] });
  assert.deepEqual(causes(a, b), { ids: ['captures_shell_variable_in_autofoo_script'], unexplained: [] });
  const [c, e] = trees(join(d, 'n'), { libtool: ["SHELL='/bin/sh'\nmacro_version=2.4.6\n", "SHELL='/bin/sh'\nmacro_version=2.4.7\n"] });
  assert.deepEqual(causes(c, e).ids, []);
});

test('randomness_in_documentation_generated_by_sphinx: object addresses in HTML, but not changed text', (t) => {
  const d = workdir(t);
  const [a, b] = trees(d, { 'html/api.html': ['<dd>default: &lt;object object at 0x7f3a2c1d9e40&gt;</dd>\n', '<dd>default: &lt;object object at 0x7f91bb0a3e70&gt;</dd>\n'] });
  assert.deepEqual(causes(a, b), { ids: ['randomness_in_documentation_generated_by_sphinx'], unexplained: [] });
  const [c, e] = trees(join(d, 'n'), { 'html/api.html': ['<dd>default: 1</dd>\n', '<dd>default: 2</dd>\n'] });
  assert.deepEqual(causes(c, e).ids, []);
});

test('records_build_flags and captures_build_path_via_assert: build paths in recorded CFLAGS and assert messages', (t) => {
  const d = workdir(t);
  const [a, b] = trees(d, {
    'lib/pkgconfig/x.pc': ['Cflags: -I/usr/include\nbuildflags=-g -O2 -ffile-prefix-map=/build/x-1a2b=. -Wall\n', 'Cflags: -I/usr/include\nbuildflags=-g -O2 -ffile-prefix-map=/build/x-9z8y=. -Wall\n'],
    'share/x/strings.txt': ['x: /build/x-1a2b/src/main.c:42: main: Assertion `n > 0` failed.\n', 'x: /build/x-9z8y/src/main.c:42: main: Assertion `n > 0` failed.\n'],
  });
  const c = causes(a, b);
  assert.ok(c.ids.includes('records_build_flags'), c.ids.join());
  assert.ok(c.ids.includes('captures_build_path_via_assert'), c.ids.join());
  assert.deepEqual(c.unexplained, []);
  const [x, y] = trees(join(d, 'n'), { 'lib/pkgconfig/x.pc': ['buildflags=-g -O2 -Wall\n', 'buildflags=-g -O3 -Wall\n'] });
  assert.deepEqual(causes(x, y).ids, []);
});

test('random_order_in_documentation_generated_by_javadoc: class-use pages with permuted entries', (t) => {
  const d = workdir(t);
  const page = (order: string[]) => `<ul>\n${order.map((c) => `<li><a href="../${c}.html">${c}</a></li>`).join('\n')}\n</ul>\n`;
  const [a, b] = trees(d, { 'api/org/x/class-use/Thing.html': [page(['Alpha', 'Beta', 'Gamma']), page(['Gamma', 'Alpha', 'Beta'])] });
  assert.deepEqual(causes(a, b), { ids: ['random_order_in_documentation_generated_by_javadoc'], unexplained: [] });
  const [c, e] = trees(join(d, 'n'), { 'notes.txt': ['alpha\nbeta\ngamma\n', 'gamma\nalpha\nbeta\n'] });
  assert.deepEqual(causes(c, e).ids, ['random_order_in_generated_files']);
});

test('randomness_in_r_rdb_rds_databases and ocaml_captures_build_path: by the kind of file that differs', (t) => {
  const d = workdir(t);
  const [a, b] = trees(d, { 'R/x/R/x.rdb': ['\x00\x01serialised one', '\x00\x01serialised two'], 'ocaml/x.cmt': ['Caml1999T030/build/a/x.ml', 'Caml1999T030/build/bb/x.ml'] });
  const c = causes(a, b);
  assert.ok(c.ids.includes('randomness_in_r_rdb_rds_databases'), c.ids.join());
  assert.ok(c.ids.includes('ocaml_captures_build_path'), c.ids.join());
  assert.deepEqual(c.unexplained, []);
  const [x, y] = trees(join(d, 'n'), { 'R/x/R/x.R': ['f <- 1\n', 'f <- 2\n'] });
  assert.deepEqual(causes(x, y).ids, []);
});
