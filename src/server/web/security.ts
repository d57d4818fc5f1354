// The website's defences against hostile package data: every page is sent with a
// Content-Security-Policy that allows no script, no inline style and no foreign
// resource, so even markup that slipped through escaping could do nothing; a URL
// from a package reaches an href only when it is http(s); bidirectional control
// characters are shown as visible code points so a name cannot pretend to be
// another. Escaping itself is hono/jsx's: every string in a template is text.

/** The policy of every page (the stylesheet and badges are the only resources). */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Reprove's HTML report and raw logs: shown on their own URL in a sandbox (no script, no forms, unique origin); the report's own <style> is allowed. */
export const SANDBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** The URL when it is absolute http or https, else undefined (javascript:, data:, relative tricks). */
export function safeHref(url: string | null | undefined): string | undefined {
  if (typeof url !== 'string' || url.length > 4096) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return parsed.href;
}

// Bidi embeddings, overrides and isolates, marks, and other invisible format characters.
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** Text with invisible and direction-changing characters shown as <U+XXXX> (escaped later by the template like any text). */
export function visible(s: string): string {
  return s.replace(INVISIBLE, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/** Query-string value: one string or nothing (repeated keys keep the first). */
export function one(v: unknown): string | undefined {
  if (Array.isArray(v)) return one(v[0]);
  return typeof v === 'string' && v !== '' ? v : undefined;
}
