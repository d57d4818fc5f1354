// gettext .mo catalogs: built with msgfmt at test time (and, for what msgfmt
// no longer writes, such as POT-Creation-Date or big-endian files, by a small
// writer here), compared as the PO text msgunfmt prints, with the header
// entry's fields as structured changes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Artifact } from '../src/compare/artifact.js';
import { createContext } from '../src/compare/compare.js';
import { defaultFormats } from '../src/formats/registry.js';
import { readMo } from '../src/formats/gettext.js';
import { diffoscopeJson, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('msgfmt') ? 'msgfmt missing' : false);
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;

const child = (d: JsonNode | null, name: string) => d?.details?.find((c) => c.source1 === name);
const names = (d: JsonNode | null) => (d?.details ?? []).map((c) => c.source1);

function po({ revised = '2020-01-02 00:00+0000', hello = 'Hallo' } = {}): string {
  return `msgid ""
msgstr ""
"Project-Id-Version: foo 1.0\\n"
"POT-Creation-Date: 2020-01-01 00:00+0000\\n"
"PO-Revision-Date: ${revised}\\n"
"Language: de\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Hello"
msgstr "${hello}"

msgctxt "menu"
msgid "Open"
msgstr "Öffnen"

msgid "one file"
msgid_plural "%d files"
msgstr[0] "eine Datei"
msgstr[1] "%d Dateien"

msgid "Line one\\nline \\"two\\"\\n"
msgstr "Zeile eins\\nZeile \\"zwei\\"\\n"

#, c-format
msgid "%<PRIu64> bytes"
msgstr "%<PRIu64> Bytes"
`;
}

/** A .mo file of static strings, sorted as msgfmt sorts them, in either byte order. */
function mo(entries: [string, string][], bigEndian = false): Buffer {
  const sorted = [...entries].sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const n = sorted.length;
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (bigEndian) b.writeUInt32BE(v);
    else b.writeUInt32LE(v);
    return b;
  };
  const strings: Buffer[] = [];
  let at = 28 + 16 * n;
  const table = (pick: 0 | 1) =>
    sorted.map((e) => {
      const s = Buffer.from(e[pick]);
      strings.push(s, Buffer.alloc(1));
      const entry = Buffer.concat([u32(s.length), u32(at)]);
      at += s.length + 1;
      return entry;
    });
  const orig = table(0);
  const trans = table(1);
  return Buffer.concat([u32(0x950412de), u32(0), u32(n), u32(28), u32(28 + 8 * n), u32(0), u32(28 + 16 * n), ...orig, ...trans, ...strings]);
}

const header = (pot: string) => `Project-Id-Version: foo 1.0\nPOT-Creation-Date: ${pot}\nContent-Type: text/plain; charset=UTF-8\n`;

test('msgfmt catalogs differing in a translation and in PO-Revision-Date', { skip }, (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.po'), po());
  writeFileSync(join(d, 'b.po'), po({ revised: '2022-02-02 12:00+0000', hello: 'Guten Tag' }));
  sh(d, 'msgfmt -o a.mo a.po && msgfmt -o b.mo b.po');
  const { code, json } = reproveJson(`${d}/a.mo`, `${d}/b.mo`);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'gettext');
  // Same number of strings: the file header is equal.
  assert.deepEqual(names(json), ['gettext catalog']);
  const catalog = child(json, 'gettext catalog')!;
  assert.deepEqual(catalog['reprove_changes'], [{ field: 'PO-Revision-Date', value1: '2020-01-02 00:00+0000', value2: '2022-02-02 12:00+0000' }]);
  assert.match(catalog.unified_diff!, /\n-"PO-Revision-Date: 2020-01-02 00:00\+0000\\n"\n\+"PO-Revision-Date: 2022-02-02 12:00\+0000\\n"\n/);
  assert.match(catalog.unified_diff!, /\n msgid "Hello"\n-msgstr "Hallo"\n\+msgstr "Guten Tag"\n/);
  if (!noDiffoscope) assert.deepEqual([...memberPaths(json)].sort(), [...memberPaths(diffoscopeJson(`${d}/a.mo`, `${d}/b.mo`))].sort());
});

test('the catalog text is what msgunfmt prints: contexts, plurals, multi-line and system-dependent strings', { skip: skip || (!haveCommand('msgunfmt') && 'msgunfmt missing') }, async (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.po'), po());
  const expected = sh(d, 'msgfmt -o a.mo a.po && msgunfmt a.mo');
  const ctx = await createContext({ formats: defaultFormats });
  t.after(() => ctx.dispose());
  const artifact = Artifact.fromBuffer('a.mo', Buffer.from(sh(d, 'base64 -w0 a.mo'), 'base64'));
  const catalog = await readMo(artifact, ctx);
  assert.equal(catalog.text, expected);
  assert.equal(catalog.fields['revision'], '0.1');
  assert.equal(catalog.fields['system-dependent strings'], '1');
  assert.match(catalog.text, /\n#, c-format\nmsgid "%<PRIu64> bytes"\nmsgstr "%<PRIu64> Bytes"\n/);
});

test('POT-Creation-Date (which msgfmt leaves out) is a structured change', (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.mo'), mo([['', header('2020-01-01 00:00+0000')], ['Hello', 'Hallo']]));
  writeFileSync(join(d, 'b.mo'), mo([['', header('2024-06-30 09:15+0200')], ['Hello', 'Hallo']]));
  const { code, json } = reproveJson(`${d}/a.mo`, `${d}/b.mo`);
  assert.equal(code, 1);
  assert.deepEqual(child(json, 'gettext catalog')!['reprove_changes'], [{ field: 'POT-Creation-Date', value1: '2020-01-01 00:00+0000', value2: '2024-06-30 09:15+0200' }]);
});

test('a big-endian catalog with the same strings differs only in the file header', (t) => {
  const d = workdir(t);
  const entries: [string, string][] = [['', header('2020-01-01 00:00+0000')], ['Hello', 'Hallo']];
  writeFileSync(join(d, 'le.mo'), mo(entries));
  writeFileSync(join(d, 'be.mo'), mo(entries, true));
  const { code, json } = reproveJson(`${d}/le.mo`, `${d}/be.mo`);
  assert.equal(code, 1);
  assert.deepEqual(names(json), ['mo header']);
  assert.deepEqual(child(json, 'mo header')!['reprove_changes'], [{ field: 'byte order', value1: 'little-endian', value2: 'big-endian' }]);
});

test('hostile counts and offsets are refused before anything is read from them', (t) => {
  const d = workdir(t);
  const good = mo([['', header('2020-01-01 00:00+0000')], ['Hello', 'Hallo']]);
  writeFileSync(join(d, 'a.mo'), good);
  const count = Buffer.from(good);
  count.writeUInt32LE(0xffffffff, 8);
  writeFileSync(join(d, 'count.mo'), count);
  const offset = Buffer.from(good);
  offset.writeUInt32LE(0x7ffffff0, 28 + 8 + 4); // second original string's offset
  writeFileSync(join(d, 'offset.mo'), offset);
  writeFileSync(join(d, 'short.mo'), good.subarray(0, 20));
  const comment = (f: string) => {
    const { code, json, stderr } = reproveJson(`${d}/a.mo`, `${d}/${f}`);
    assert.equal(code, 1);
    assert.doesNotMatch(stderr, /\n\s+at /);
    return json!.comments!.join('\n');
  };
  assert.match(comment('count.mo'), /Cannot compare as gettext: Cannot read the original string table of \S*count\.mo: 4294967295 entries of 8 bytes at offset 28 run past the end \(\d+\)/);
  assert.match(comment('offset.mo'), /Cannot compare as gettext: Cannot read original string 1 of \S*offset\.mo: its 5 bytes at offset 2147483632 run past the end/);
  // 20 bytes: too short for the magic test (28 bytes), so recognised by name and refused.
  assert.match(comment('short.mo'), /Cannot compare as gettext: Cannot read the gettext header of \S*short\.mo: 20 bytes is shorter than its 28 bytes/);
});
