// HTML report: escaping of hostile strings, structure (nested members, side by
// side rows, cut markers), speed on a large diff, and the real CLI output.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { node, type Difference } from '../src/compare/difference.js';
import { escapeAttribute, escapeText, textOf } from '../src/present/escape.js';
import { renderHtml, ROWS_SHOWN } from '../src/present/html.js';
import { reprove, sh, workdir } from './helpers.js';

const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '</details>', "' onmouseover='alert(1)"];
const UNICODE = 'emoji 😀 ancient 𓀀 rtl\u202egnp.exe nul\u0000 zwsp\u200b lone\ud800x bom\ufeff';

/** Every tag in the page: what any hostile string could have added shows up here. */
function tags(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase());
}

/** Text content of an HTML fragment, with the entities this presenter emits decoded. */
function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function hostileTree(): Difference {
  const bad = HOSTILE.join(' ');
  const leaf = node(`${bad} ${UNICODE}`, `${HOSTILE[1]} renamed`, {
    kind: 'content',
    format: HOSTILE[0],
    comments: [`note ${bad}\nsecond line ${UNICODE}`],
    unifiedDiff: [`@@ -1,3 +1,3 @@ ${HOSTILE[2]}`, ` ${HOSTILE[0]}`, `-${HOSTILE[1]}`, `+${HOSTILE[2]} ${UNICODE}`, ` ${HOSTILE[3]}`, ''].join('\n'),
    changes: [{ member: HOSTILE[0], field: HOSTILE[1], value1: HOSTILE[2], value2: UNICODE }],
  });
  // A kind read from a hostile JSON report is any string at all.
  const weird = node('x', 'x', { kind: HOSTILE[1] as Difference['kind'], comments: [HOSTILE[2]] });
  return node(`a${HOSTILE[0]}.tar`, `b${HOSTILE[1]}.tar`, { details: [node(HOSTILE[2], HOSTILE[2], { kind: 'artifact', details: [leaf, weird] })] });
}

test('the escaping module, as the website will call it', () => {
  assert.equal(escapeText(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeText('plain text 😀'), 'plain text 😀');
  // Newlines: shown as \x0a unless kept; invisible characters become visible escapes in a marked span.
  assert.equal(escapeText('a\nb'), 'a<span class="cc">\\x0a</span>b');
  assert.equal(escapeText('a\nb', true), 'a\nb');
  assert.equal(escapeText('rtl\u202egnp nul\u0000 lone\ud800x'), 'rtl<span class="cc">\\u202e</span>gnp nul<span class="cc">\\x00</span> lone<span class="cc">\\ud800</span>x');
  // Attribute values: no markup at all, not even the span.
  assert.equal(escapeAttribute(`"><img src=x>\u202e\n`), '&quot;&gt;&lt;img src=x&gt;\\u202e\\x0a');
  for (const h of [...HOSTILE, UNICODE]) {
    assert.doesNotMatch(escapeAttribute(h), /["<>'\u0000\u202e\n]/);
    assert.doesNotMatch(escapeText(h).replace(/<span class="cc">|<\/span>/g, ''), /[<>"'\u0000\u202e]/);
  }
  // Anything read from a stored report becomes text without throwing.
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.deepEqual([textOf('s'), textOf(undefined), textOf(null), textOf(3), textOf(false), textOf({ a: [1] }), textOf(cyclic), textOf(10n)], ['s', '', '', '3', 'false', '{"a":[1]}', '', '']);
});

test('every untrusted string is escaped', () => {
  const html = renderHtml(hostileTree());
  // The page has </details> of its own: that one is checked by the balance below.
  for (const h of HOSTILE) if (h !== '</details>') assert.ok(!html.includes(h), `unescaped: ${h}`);
  assert.ok(html.includes('&lt;/details&gt;'));
  for (const bad of ['<script', '<img', 'javascript:']) assert.ok(!html.toLowerCase().includes(bad), bad);
  // Only the presenter's own tags: nothing injected, and no </details> beyond the ones it opened.
  const t = tags(html);
  const allowed = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'table', 'tr', 'th', 'td', 'nav', 'p', 'strong', 'details', 'summary', 'ol', 'li', 'a', 'span', 'main', 'section', 'div', 'colgroup', 'col', 'tbody', 'thead', '!doctype']);
  for (const x of t) assert.ok(allowed.has(x), `unexpected tag ${x}`);
  assert.equal(html.match(/<details[ >]/g)!.length, html.match(/<\/details>/g)!.length);
  // Attributes hold only quoted, escaped values: no quote inside a value breaks out.
  for (const m of html.matchAll(/<(?!\/|!)[^>]*>/g)) {
    const attrs = m[0].replace(/^<[a-zA-Z0-9]+/, '').replace(/>$/, '');
    assert.match(attrs, /^(\s+[a-z-]+(="[^"<>]*")?)*\s*$/, `odd attributes in ${m[0]}`);
    const known = ['id', 'class', 'href', 'title', 'open', 'colspan', 'lang', 'charset', 'http-equiv', 'content', 'name'];
    for (const a of attrs.matchAll(/\s+([a-z-]+)(?:="[^"]*")?/g)) assert.ok(known.includes(a[1]!), `attribute ${a[1]} in ${m[0]}`);
  }
  // ids and hrefs come from indexes only; classes from a fixed table.
  for (const m of html.matchAll(/\b(id|href)="([^"]*)"/g)) assert.match(m[2]!, /^#?d\d+$/);
  for (const m of html.matchAll(/\bclass="([^"]*)"/g)) assert.match(m[1]!, /^[a-z0-9 -]+$/);
  assert.ok(html.includes('k-other'), 'unknown kind gets a fixed class');
  // Strings stay readable once unescaped, astral characters intact, invisible ones shown.
  assert.ok(text(html).includes(HOSTILE[0]!));
  assert.ok(html.includes('😀') && html.includes('𓀀'));
  assert.ok(!html.includes('\u202e') && html.includes('\\u202e'));
  assert.ok(!html.includes('\u0000') && html.includes('\\x00'));
  assert.ok(!html.includes('\u200b') && !html.includes('\ufeff'));
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(html), 'no lone surrogate');
  // The page declares a CSP that forbids scripts and loads nothing.
  assert.ok(html.includes(`content="default-src 'none'; style-src 'unsafe-inline'"`));
  assert.ok(!/https?:|<link|<script/i.test(html));
});

test('nested members give nested details; side-by-side rows line up', () => {
  const diff = [
    '@@ -10,6 +10,5 @@',
    ' same',
    '-old a',
    '-old b',
    '-old c',
    '+new a',
    '+new b',
    ' tail',
    '-[ 40 lines removed ]',
    '+added',
    ' end',
    '\\ No newline at end of file',
    '',
  ].join('\n');
  const leaf = node('inner.txt', 'inner.txt', { kind: 'content', unifiedDiff: diff, comments: ['a note'] });
  const mid = node('pkg.tar', 'pkg.tar', { kind: 'artifact', format: 'tar', details: [leaf], changes: [{ member: 'inner.txt', field: 'mtime', value1: '2020', value2: '2021' }] });
  const root = node('a.tgz', 'b.tgz', { details: [mid] });
  const html = renderHtml(root);

  // pkg.tar's details contains inner.txt's details.
  const outer = html.indexOf('<details class="node" id="d1"');
  const inner = html.indexOf('<details class="node" id="d2"');
  assert.ok(outer > 0 && inner > outer);
  const between = html.slice(outer, inner);
  assert.ok(!between.includes('</details>'), 'inner member is inside the outer one');
  assert.ok(html.includes('href="#d1"') && html.includes('href="#d2"'));
  assert.match(html, /<strong>2<\/strong> differing members/);

  const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => m[1]!);
  const diffRows = rows.filter((r) => r.includes('class="ln"'));
  const cells = (r: string) => [...r.matchAll(/<td class="([a-z]+)">(.*?)<\/td>/g)].map((m) => [m[1], text(m[2]!)]);
  assert.deepEqual(cells(diffRows[0]!), [['ln', '10'], ['ctx', 'same'], ['ln', '10'], ['ctx', 'same']]);
  assert.deepEqual(cells(diffRows[1]!), [['ln', '11'], ['del', 'old a'], ['ln', '11'], ['add', 'new a']]);
  assert.deepEqual(cells(diffRows[2]!), [['ln', '12'], ['del', 'old b'], ['ln', '12'], ['add', 'new b']]);
  assert.deepEqual(cells(diffRows[3]!), [['ln', '13'], ['del', 'old c'], ['ln', ''], ['empty', '']]);
  assert.deepEqual(cells(diffRows[4]!), [['ln', '14'], ['ctx', 'tail'], ['ln', '13'], ['ctx', 'tail']]);
  // The cut marker stands for 40 old lines: numbering resumes after them.
  assert.deepEqual(cells(diffRows[5]!), [['ln', ''], ['cut', '[ 40 lines removed ]'], ['ln', '14'], ['add', 'added']]);
  assert.deepEqual(cells(diffRows[6]!), [['ln', '55'], ['ctx', 'end'], ['ln', '15'], ['ctx', 'end']]);
  assert.equal(cells(diffRows[7]!)[1]![0], 'nonl');
  // What changed inside a pair is marked.
  assert.ok(diffRows[1]!.includes('old <span class="x">a</span>') || diffRows[1]!.includes('<span class="x">old</span> a'));
  assert.match(html, /<tr class="hunk"><td colspan="4">@@ -10,6 \+10,5 @@<\/td><\/tr>/);
  assert.match(html, /<p class="note">a note<\/p>/);
  assert.match(html, /<table class="changes">.*<td>inner.txt<\/td><td>mtime<\/td><td class="v1">2020<\/td><td class="v2">2021<\/td>/s);
  assert.match(html, /<span class="badge fmt">tar<\/span>/);
});

test('a 100 000-line diff renders and folds most of it', () => {
  const lines = ['@@ -1,100000 +1,100000 @@'];
  for (let i = 0; i < 50_000; i++) lines.push(`-old line ${i} <${i}>`, `+new line ${i} <${i}>`);
  const root = node('a', 'b', { details: [node('big.txt', 'big.txt', { kind: 'content', unifiedDiff: lines.join('\n') + '\n' })] });
  const html = renderHtml(root);
  // Large member starts collapsed; beyond the first rows, the rest sits in collapsed chunks.
  assert.match(html, /<details class="node" id="d1"><summary>/);
  assert.ok(html.includes(`Rows ${ROWS_SHOWN + 1}–`));
  assert.ok(!/<details class="more" open/.test(html));
  assert.ok(html.includes('<span class="x">new</span> line 49999 &lt;49999&gt;'));
});

test('reprove diff --html writes a self-contained page', (t) => {
  const dir = workdir(t);
  sh(
    dir,
    `mkdir -p a/p b/p
     printf 'one\\n<b>two</b> & "three"\\nfour\\n' > a/p/x.txt
     printf 'one\\n<b>TWO</b> & "three"\\nfour\\n' > b/p/x.txt
     echo same > a/p/s; echo same > b/p/s
     touch -d 2020-01-01 a/p/*; touch -d 2021-01-01 b/p/*
     tar czf a.tar.gz --owner=0 --group=0 -C a p
     tar czf b.tar.gz --owner=0 --group=0 -C b p`,
  );
  const out = join(dir, 'report.html');
  const r = reprove(['diff', '--html', out, join(dir, 'a.tar.gz'), join(dir, 'b.tar.gz')]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(existsSync(out));
  const html = readFileSync(out, 'utf8');
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(html.includes('&lt;b&gt;<span class="x">TWO</span>&lt;/b&gt; &amp; &quot;three&quot;'), 'changed line, escaped');
  assert.ok(!html.includes('<b>'));
  assert.ok(!/<script|<link|https?:\/\/|src=/i.test(html));
  assert.ok(html.includes('mtime') && html.includes('p/x.txt'));
});
