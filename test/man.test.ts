// Compressed man pages need no format of their own: gzip's header, then the
// groff source as text, as diffoscope shows them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { diffoscopeJson, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('gzip') ? 'gzip missing' : false);
const child = (d: JsonNode | null | undefined, name: string) => d?.details?.find((c) => c.source1 === name);
const page = (what: string) => `.TH FOO 1 2020-01-01\n.SH NAME\nfoo \\- do things\n.SH DESCRIPTION\nFoo does ${what}.\n.SH SEE ALSO\nbar(1)\n`;

test('a gzip -9 man page: the changed line of the groff source, and the header mtime without -n', { skip }, (t) => {
  const d = workdir(t);
  sh(d, 'mkdir a b');
  writeFileSync(join(d, 'a/foo.1'), page('one thing'));
  writeFileSync(join(d, 'b/foo.1'), page('two things'));
  sh(d, 'touch -d 2020-01-01 a/foo.1 && touch -d 2021-01-01 b/foo.1 && gzip -9 a/foo.1 b/foo.1');
  const { code, json } = reproveJson(`${d}/a/foo.1.gz`, `${d}/b/foo.1.gz`);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'gzip');
  const header = child(json, 'gzip header')!;
  assert.deepEqual(header['reprove_changes'], [{ field: 'mtime', value1: '1577836800 (2020-01-01 00:00:00)', value2: '1609459200 (2021-01-01 00:00:00)' }]);
  const content = child(json, 'foo.1')!;
  assert.equal(content['reprove_format'], 'text');
  assert.match(content.unified_diff!, /\n \.SH DESCRIPTION\n-Foo does one thing\.\n\+Foo does two things\.\n/);
  if (haveCommand('diffoscope')) assert.deepEqual([...memberPaths(json)].sort(), [...memberPaths(diffoscopeJson(`${d}/a/foo.1.gz`, `${d}/b/foo.1.gz`))].sort());
});

test('gzip -n of the same page: identical, whatever the source mtime', { skip }, (t) => {
  const d = workdir(t);
  sh(d, 'mkdir a b');
  writeFileSync(join(d, 'a/foo.1'), page('one thing'));
  writeFileSync(join(d, 'b/foo.1'), page('one thing'));
  sh(d, 'touch -d 2020-01-01 a/foo.1 && touch -d 2021-01-01 b/foo.1 && gzip -9n a/foo.1 b/foo.1');
  assert.equal(reproveJson(`${d}/a/foo.1.gz`, `${d}/b/foo.1.gz`).code, 0);
});
