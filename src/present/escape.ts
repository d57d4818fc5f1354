// HTML escaping of untrusted strings: everything in a report comes from the
// compared packages (names, link targets, diff lines, comments) or from a stored
// JSON report, and may be hostile. The HTML report uses these, and so will the
// website, so that every page escapes the same way: text only ever reaches element
// content or a double-quoted attribute value, through one of the functions here.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
// C0/C1 controls (not tab/newline), bidi and zero-width controls, BOM, lone
// surrogates: shown as visible escapes so names cannot spoof or hide text.
const INVISIBLE = '[\\0-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const NEEDS_TEXT = new RegExp(`[&<>"']|${INVISIBLE}`);
const TEXT_RE = new RegExp(`[&<>"']|${INVISIBLE}`, 'g');
const TEXT_NL_RE = new RegExp(`[&<>"'\\n]|${INVISIBLE}`, 'g');

/** The visible escape of an invisible character: \x1b, \u202e. */
function codeOf(c: string): string {
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * Escapes untrusted text for element content; newlines are kept only when asked.
 * Invisible characters become `<span class="cc">\xNN</span>` (the page styles `.cc`).
 */
export function escapeText(s: string, keepNewlines = false): string {
  if (!NEEDS_TEXT.test(s) && (keepNewlines || !s.includes('\n'))) return s;
  return s.replace(keepNewlines ? TEXT_RE : TEXT_NL_RE, (c) => ENTITIES[c] ?? `<span class="cc">${codeOf(c)}</span>`);
}

/** Escapes untrusted text for a double-quoted attribute value (no markup possible there: invisible characters as plain \xNN). */
export function escapeAttribute(s: string): string {
  return s.replace(TEXT_NL_RE, (c) => ENTITIES[c] ?? codeOf(c));
}

/** Any value as text, never throwing: values read from a stored JSON report can be anything at all. */
export function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}
