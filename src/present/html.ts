// Self-contained HTML report in diffoscope's layout: one collapsible <details>
// per member, comments as notes, unified diffs side by side. No script and no
// external resources, so it works under the strict CSP it declares. Every
// string in the tree is untrusted (it comes from the compared packages): it
// only ever reaches element text or a quoted attribute, always escaped (escape.ts); ids,
// classes and hrefs are built from indexes and fixed tables only.
import type { Difference, FieldChange } from '../compare/difference.js';
import { escapeAttribute, escapeText, textOf } from './escape.js';

/** Diff rows shown before the rest is folded into collapsed chunks. */
export const ROWS_SHOWN = 400;
/** Rows per folded chunk, so opening one stays fast. */
const ROWS_PER_CHUNK = 5000;
/** Members deeper than this start collapsed. */
const OPEN_DEPTH = 3;
/** A member whose diff has more lines than this starts collapsed. */
const LARGE_LINES = 2000;
/** Rows the sections open on load may show in total; later ones start collapsed. */
const OPEN_BUDGET = 20_000;
const TOC_MAX = 2000;
const CHANGES_SHOWN = 100;

// Classes for known kinds only: a kind read from a hostile JSON report never reaches an attribute.
const KIND_CLASS: Record<string, string> = {
  artifact: 'k-artifact',
  'file-list': 'k-list',
  metadata: 'k-meta',
  header: 'k-meta',
  content: 'k-content',
  binary: 'k-binary',
  order: 'k-meta',
  limit: 'k-limit',
};
/** Kinds that are views of a member (listings, headers) rather than members. */
const VIEW_KINDS = new Set(['file-list', 'metadata', 'header', 'order', 'limit']);

function countLines(s: string | undefined): number {
  if (!s) return 0;
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return s.endsWith('\n') ? n : n + 1;
}

// ---------------------------------------------------------------------------
// Side-by-side diff

type Item = { t: 'line'; no: number | null; text: string } | { t: 'cut'; n: number } | { t: 'nonl' };

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const CUT_RE = /^\[ (\d+) lines removed \]$/;

function lineNo(n: number | null): string {
  return n === null ? '' : String(n);
}

/** Splits two changed lines into common prefix, changed middle and common suffix, without cutting a surrogate pair. */
function inlineDiff(a: string, b: string): [string, string] {
  const max = Math.min(a.length, b.length);
  let p = 0;
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  if (p > 0 && p < max && isLow(a.charCodeAt(p)) && isLow(b.charCodeAt(p))) p--;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  if (s > 0 && isLow(a.charCodeAt(a.length - s))) s--;
  // Little in common (a hex dump row, a rewritten line): marking nearly all of it is only noise.
  if ((p + s) * 5 < Math.min(a.length, b.length) || p + s === 0) return [escapeText(a), escapeText(b)];
  const mark = (x: string) => {
    const mid = x.slice(p, x.length - s);
    return escapeText(x.slice(0, p)) + (mid ? `<span class="x">${escapeText(mid)}</span>` : '') + escapeText(x.slice(x.length - s));
  };
  return [mark(a), mark(b)];
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

class DiffTable {
  readonly rows: string[] = [];
  private dels: Item[] = [];
  private adds: Item[] = [];
  private last: ' ' | '-' | '+' | '' = '';
  private oldNo: number | null = null;
  private newNo: number | null = null;

  constructor(private readonly linenos: boolean) {}

  private cell(it: Item | undefined, cls: 'del' | 'add', html?: string): string {
    const ln = this.linenos ? `<td class="ln">${it?.t === 'line' ? lineNo(it.no) : ''}</td>` : '';
    if (!it) return `${ln}<td class="empty"></td>`;
    if (it.t === 'cut') return `${ln}<td class="cut">[ ${it.n} lines removed ]</td>`;
    if (it.t === 'nonl') return `${ln}<td class="nonl">\\ No newline at end of file</td>`;
    return `${ln}<td class="${cls}">${html ?? escapeText(it.text)}</td>`;
  }

  private flush(): void {
    const n = Math.max(this.dels.length, this.adds.length);
    for (let i = 0; i < n; i++) {
      const d = this.dels[i];
      const a = this.adds[i];
      // Changed pairs are aligned on one row, with what changed inside them marked.
      const [dh, ah] = d?.t === 'line' && a?.t === 'line' ? inlineDiff(d.text, a.text) : [undefined, undefined];
      this.rows.push(`<tr>${this.cell(d, 'del', dh)}${this.cell(a, 'add', ah)}</tr>`);
    }
    this.dels = [];
    this.adds = [];
  }

  private full(cls: string, html: string): void {
    this.rows.push(`<tr class="${cls}"><td colspan="${this.linenos ? 4 : 2}">${html}</td></tr>`);
  }

  add(line: string): void {
    const c = line[0];
    const rest = line.slice(1);
    if (c === ' ') {
      this.flush();
      const ln = (n: number | null) => (this.linenos ? `<td class="ln">${lineNo(n)}</td>` : '');
      const h = escapeText(rest);
      this.rows.push(`<tr>${ln(this.oldNo)}<td class="ctx">${h}</td>${ln(this.newNo)}<td class="ctx">${h}</td></tr>`);
      if (this.oldNo !== null) this.oldNo++;
      if (this.newNo !== null) this.newNo++;
      this.last = ' ';
    } else if (c === '-' || c === '+') {
      if (c === '-' && this.adds.length) this.flush();
      const cut = CUT_RE.exec(rest);
      const n = cut ? Number(cut[1]) : 1;
      if (c === '-') {
        this.dels.push(cut ? { t: 'cut', n } : { t: 'line', no: this.oldNo, text: rest });
        if (this.oldNo !== null) this.oldNo += n;
      } else {
        this.adds.push(cut ? { t: 'cut', n } : { t: 'line', no: this.newNo, text: rest });
        if (this.newNo !== null) this.newNo += n;
      }
      this.last = c;
    } else if (c === '\\') {
      if (this.last === '-') this.dels.push({ t: 'nonl' });
      else if (this.last === '+') this.adds.push({ t: 'nonl' });
      else {
        this.flush();
        this.rows.push(`<tr>${this.cell({ t: 'nonl' }, 'del')}${this.cell({ t: 'nonl' }, 'add')}</tr>`);
      }
    } else {
      this.flush();
      const h = HUNK_RE.exec(line);
      if (h) {
        // An empty side's header names the line before it (GNU diff), hence + 1.
        this.oldNo = Number(h[1]) + (h[2] === '0' ? 1 : 0);
        this.newNo = Number(h[3]) + (h[4] === '0' ? 1 : 0);
        this.full('hunk', escapeText(line));
      } else {
        this.oldNo = this.newNo = null;
        this.full('other', escapeText(line));
      }
      this.last = '';
    }
  }

  finish(): string[] {
    this.flush();
    return this.rows;
  }
}

function tableOpen(linenos: boolean): string {
  const cols = linenos ? '<col class="ln"><col><col class="ln"><col>' : '<col><col>';
  return `<table class="diff${linenos ? '' : ' nolinenos'}"><colgroup>${cols}</colgroup><tbody>`;
}

function renderDiff(diff: string, linenos: boolean): string {
  const t = new DiffTable(linenos);
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const l of lines) t.add(l);
  const rows = t.finish();
  const open = tableOpen(linenos);
  const out = [open, rows.slice(0, ROWS_SHOWN).join('\n'), '</tbody></table>'];
  // The rest goes in collapsed chunks: the page stays light, each chunk opens on its own.
  for (let i = ROWS_SHOWN; i < rows.length; i += ROWS_PER_CHUNK) {
    const end = Math.min(rows.length, i + ROWS_PER_CHUNK);
    out.push(
      `<details class="more"><summary>Rows ${i + 1}–${end} of ${rows.length}</summary>`,
      open,
      rows.slice(i, end).join('\n'),
      '</tbody></table></details>',
    );
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------
// Tree

function changesTable(changes: FieldChange[]): string {
  const row = (c: FieldChange) =>
    `<tr><td>${escapeText(textOf(c.member))}</td><td>${escapeText(textOf(c.field))}</td><td class="v1">${escapeText(textOf(c.value1))}</td><td class="v2">${escapeText(textOf(c.value2))}</td></tr>`;
  const head = '<table class="changes"><thead><tr><th>member</th><th>field</th><th>value 1</th><th>value 2</th></tr></thead><tbody>';
  const out = [head, changes.slice(0, CHANGES_SHOWN).map(row).join('\n'), '</tbody></table>'];
  if (changes.length > CHANGES_SHOWN) {
    out.push(`<details class="more"><summary>${changes.length - CHANGES_SHOWN} more changes</summary>`, head, changes.slice(CHANGES_SHOWN).map(row).join('\n'), '</tbody></table></details>');
  }
  return out.join('\n');
}

function names(d: Difference): string {
  if (d.source1 === d.source2) return `<span class="name" title="${escapeAttribute(d.source1)}">${escapeText(d.source1)}</span>`;
  return `<span class="name s1" title="${escapeAttribute(d.source1)}">${escapeText(d.source1)}</span> <span class="arrow">→</span> <span class="name s2" title="${escapeAttribute(d.source2)}">${escapeText(d.source2)}</span>`;
}

function badges(d: Difference, lines: number): string {
  let out = '';
  if (typeof d.kind === 'string') out += ` <span class="badge ${KIND_CLASS[d.kind] ?? 'k-other'}">${escapeText(d.kind)}</span>`;
  if (typeof d.format === 'string') out += ` <span class="badge fmt">${escapeText(d.format)}</span>`;
  if (lines) out += ` <span class="size">${lines} diff line${lines === 1 ? '' : 's'}</span>`;
  const sub = d.details.length;
  if (sub) out += ` <span class="size">${sub} item${sub === 1 ? '' : 's'}</span>`;
  return out;
}

/** The node's own content: notes, changes, diff. */
function body(d: Difference): string {
  const out: string[] = [];
  for (const c of d.comments) out.push(`<p class="note">${escapeText(textOf(c), true)}</p>`);
  if (typeof d.ignored === 'string') out.push(`<p class="note ignored">ignored by policy: ${escapeText(d.ignored)}</p>`);
  if (Array.isArray(d.changes) && d.changes.length) out.push(changesTable(d.changes));
  if (typeof d.unifiedDiff === 'string' && d.unifiedDiff) out.push(renderDiff(d.unifiedDiff, !d.hasInternalLinenos));
  return out.join('\n');
}

interface Entry {
  index: number;
  depth: number;
  path: string[];
  node: Difference;
}

/** The page in pieces: head, contents and causes first, then one member's section at a time. */
export function* htmlChunks(root: Difference): Generator<string> {
  // Number the nodes first: ids and TOC links come from these indexes only.
  const entries: Entry[] = [];
  const index = new Map<Difference, number>();
  const number = (d: Difference, depth: number, path: string[]) => {
    index.set(d, entries.length);
    entries.push({ index: entries.length, depth, path, node: d });
    for (const c of d.details) number(c, depth + 1, [...path, c.source1 === c.source2 ? c.source1 : `${c.source1} → ${c.source2}`]);
  };
  number(root, 0, []);

  let budget = OPEN_BUDGET;
  let out: string[] = [];
  const flush = () => {
    const chunk = out.join('\n') + '\n';
    out = [];
    return chunk;
  };
  function* visit(d: Difference, depth: number, visible: boolean): Generator<string> {
    const i = index.get(d)!;
    const lines = countLines(d.unifiedDiff);
    const large = lines > LARGE_LINES || (d.changes?.length ?? 0) > 10 * CHANGES_SHOWN;
    const cost = Math.min(lines, ROWS_SHOWN) + 1;
    const open = depth <= OPEN_DEPTH && !large && (!visible || budget >= cost);
    if (open && visible) budget -= cost;
    out.push(`<details class="node" id="d${i}"${open ? ' open' : ''}><summary>${names(d)}${badges(d, lines)}</summary><div class="body">`);
    const b = body(d);
    if (b) out.push(b);
    yield flush();
    for (const c of d.details) yield* visit(c, depth + 1, visible && open);
    out.push('</div></details>');
  }

  const members = entries.filter((e) => e.depth > 0 && !VIEW_KINDS.has(String(e.node.kind))).length;
  const title = `${root.source1} vs ${root.source2}`;
  out.push(
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>reprove: ${escapeText(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    '<header><h1>reprove report</h1><table class="sources">',
    `<tr><th>source1</th><td>${escapeText(root.source1)}</td></tr>`,
    `<tr><th>source2</th><td>${escapeText(root.source2)}</td></tr>`,
    '</table></header>',
    '<nav class="summary">',
    `<p><strong>${members}</strong> differing member${members === 1 ? '' : 's'}, <strong>${entries.length - 1}</strong> difference${entries.length === 2 ? '' : 's'} in all.</p>`,
  );
  if (entries.length > 1) {
    out.push(`<details class="toc"${entries.length <= 200 ? ' open' : ''}><summary>Contents</summary><ol>`);
    for (const e of entries.slice(1, TOC_MAX + 1)) {
      const parents = e.path.slice(0, -1).map((p) => `<span class="parent">${escapeText(p)} /</span> `).join('');
      const kind = typeof e.node.kind === 'string' ? ` <span class="badge ${KIND_CLASS[e.node.kind] ?? 'k-other'}">${escapeText(e.node.kind)}</span>` : '';
      out.push(`<li class="depth${Math.min(e.depth, 8)}"><a href="#d${e.index}">${parents}<span class="leaf">${escapeText(e.path[e.path.length - 1] ?? '')}</span></a>${kind}</li>`);
    }
    out.push('</ol>');
    if (entries.length - 1 > TOC_MAX) out.push(`<p class="note">${entries.length - 1 - TOC_MAX} more not listed.</p>`);
    out.push('</details>');
  }
  if (Array.isArray(root.issues) && root.issues.length) {
    out.push('<section class="causes"><h2>Known causes</h2><ul>');
    for (const i of root.issues) out.push(`<li><strong>${escapeText(textOf(i.id))}</strong> <span class="size">${escapeText(textOf(i.confidence))} confidence${i.ignored === true ? ' (ignored by policy)' : ''}</span><br>fix: ${escapeText(textOf(i.fix))}</li>`);
    out.push('</ul>');
    if (Array.isArray(root.unexplained) && root.unexplained.length) {
      out.push(`<p class="note">Not explained by any known cause (${root.unexplained.length}):</p><ul>`);
      for (const u of root.unexplained) out.push(`<li>${escapeText(textOf(u))}</li>`);
      out.push('</ul>');
    } else out.push('<p class="note">Every difference is explained by the causes above.</p>');
    out.push('</section>');
  }
  out.push('</nav><main>');
  const rootBody = body(root);
  if (rootBody) out.push(`<section class="root" id="d0">${rootBody}</section>`);
  for (const c of root.details) yield* visit(c, 1, true);
  out.push('</main></body></html>');
  yield flush();
}

export function renderHtml(root: Difference): string {
  return [...htmlChunks(root)].join('');
}

const CSS = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg2:#f6f8fa;--del:#ffebe9;--delx:#ffb3ad;--add:#e6ffec;--addx:#9be9a8;--hunk:#ddf4ff;--note:#fff8c5}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:#fff}
h1{font-size:1.3rem;margin:0 0 .5rem}
table{border-collapse:collapse}
.sources th{text-align:left;padding:.1rem 1rem .1rem 0;color:var(--muted);font-weight:600}
.sources td,.name,.toc a,.changes td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.summary{margin:.8rem 0 1rem;padding:.5rem .8rem;background:var(--bg2);border:1px solid var(--line);border-radius:6px}
.summary p{margin:.2rem 0}
.toc ol{margin:.3rem 0;padding-left:1.2rem;max-height:40vh;overflow:auto;font-size:13px}
.toc a{color:#0969da;text-decoration:none}.toc a:hover{text-decoration:underline}
.toc .parent{color:var(--muted)}
${[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `.toc .depth${n}{margin-left:${(n - 1) * 0.8}rem}`).join('')}
details.node{margin:.3rem 0;border:1px solid var(--line);border-radius:6px;background:#fff}
details.node>summary{padding:.3rem .6rem;background:var(--bg2);border-radius:6px;cursor:pointer;overflow-wrap:anywhere}
details.node[open]>summary{border-bottom:1px solid var(--line);border-radius:6px 6px 0 0}
details.node>.body{padding:.4rem .6rem .4rem 1rem}
.name{font-weight:600}
.s1{color:#a40e26}.s2{color:#116329}.arrow{color:var(--muted)}
.badge{display:inline-block;font-size:11px;line-height:1.4;padding:0 .4rem;border-radius:1rem;border:1px solid var(--line);color:var(--muted);vertical-align:1px}
.k-content{background:#ddf4ff;border-color:#54aeff;color:#0550ae}.k-binary{background:#fbefff;border-color:#c297ff;color:#6639ba}
.k-list,.k-meta{background:#fff8c5;border-color:#d4a72c;color:#7d4e00}.k-limit{background:#ffebe9;border-color:#ff8182;color:#a40e26}
.fmt{font-family:ui-monospace,monospace}
.size{font-size:12px;color:var(--muted);margin-left:.3rem}
.note{margin:.3rem 0;padding:.3rem .6rem;background:var(--note);border-left:3px solid #d4a72c;white-space:pre-wrap;overflow-wrap:anywhere}
.changes{margin:.4rem 0;font-size:13px}
.changes th,.changes td{border:1px solid var(--line);padding:.1rem .5rem;text-align:left;vertical-align:top}
.changes th{background:var(--bg2)}.changes .v1{background:var(--del)}.changes .v2{background:var(--add)}
table.diff{width:100%;table-layout:fixed;margin:.4rem 0;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;border:1px solid var(--line)}
table.diff col.ln{width:6ch}
table.diff td{padding:0 .4rem;white-space:pre-wrap;overflow-wrap:anywhere;tab-size:8;vertical-align:top}
table.diff td:empty::after{content:"\\200b"}
table.diff td.ln{text-align:right;color:var(--muted);background:var(--bg2);user-select:none;padding:0 .3rem;overflow:hidden;white-space:nowrap}
table.diff td.del{background:var(--del)}table.diff td.add{background:var(--add)}
table.diff td.del .x{background:var(--delx)}table.diff td.add .x{background:var(--addx)}
table.diff td.empty{background:repeating-linear-gradient(-45deg,#f6f8fa,#f6f8fa 4px,#eaeef2 4px,#eaeef2 8px)}
table.diff td.ctx+td.ln{border-left:1px solid var(--line)}table.diff td.del+td.ln,table.diff td.empty+td.ln,table.diff td.cut+td.ln,table.diff td.nonl+td.ln{border-left:1px solid var(--line)}
table.diff tr.hunk td{background:var(--hunk);color:#0550ae;padding:.1rem .4rem;border-top:1px solid var(--line);border-bottom:1px solid var(--line)}
table.diff tr.other td{color:var(--muted)}
table.diff td.cut{background:#fff1c5;color:#7d4e00;font-style:italic;text-align:center;font-weight:600}
table.diff td.nonl{color:var(--muted);font-style:italic}
.cc{color:#cf222e;border:1px solid #ff8182;border-radius:3px;padding:0 1px;font-family:ui-monospace,monospace;font-size:.9em}
details.more{margin:.2rem 0}details.more>summary{cursor:pointer;color:#0969da;font-size:13px}
`;
