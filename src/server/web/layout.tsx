// The frame of every page (header navigation, main landmark, footer with the
// page's JSON) and the small pieces pages share: a verdict label, times, sizes,
// the link to a package. Every value is rendered as escaped text by hono/jsx.
import type { Child, FC } from 'hono/jsx';
import type { PackageSummary } from '../../api/schemas.js';
import { visible } from './security.js';

export const SITE = 'reprove';

export const VERDICT_TEXT: Record<string, string> = {
  BIT_IDENTICAL: 'bit-identical',
  IDENTICAL_EXCEPT_SIGNATURE: 'identical but the signature',
  REPRODUCIBLE: 'reproducible under policy',
  UNREPRODUCIBLE: 'unreproducible',
  FTBFS: 'fails to build',
  ERROR: 'error',
  UNKNOWN: 'not built yet',
  queued: 'queued',
};

/** A class name for a verdict from the fixed table only: a verdict string from the database never reaches an attribute unchecked. */
export function verdictClass(v: string | null): string {
  const k = v ?? 'UNKNOWN';
  return k in VERDICT_TEXT ? `v-${k}` : 'v-UNKNOWN';
}

export const Verdict: FC<{ verdict: string | null }> = ({ verdict }) => (
  <span class={`verdict ${verdictClass(verdict)}`}>{VERDICT_TEXT[verdict ?? 'UNKNOWN'] ?? visible(String(verdict))}</span>
);

export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export const Time: FC<{ ms: number | null | undefined }> = ({ ms }) =>
  ms === null || ms === undefined ? <span>—</span> : <time datetime={new Date(Number(ms)).toISOString()}>{time(ms)}</time>;

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function share(n: number, total: number): string {
  return total === 0 ? '—' : `${((100 * n) / total).toFixed(1)} %`;
}

/** A query string from the set values (each value URL-encoded). */
export function qs(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export const PackageLink: FC<{ pkg: Pick<PackageSummary, 'id' | 'name' | 'version'>; withVersion?: boolean }> = ({ pkg, withVersion }) => (
  <a class="name" href={`/packages/${Number(pkg.id)}`}>
    <bdi>{visible(pkg.name)}</bdi>
    {withVersion ? <> <bdi class="muted">{visible(pkg.version)}</bdi></> : null}
  </a>
);

export const Layout: FC<{ title: string; json?: string; feeds?: { title: string; href: string }[]; children?: Child }> = ({ title, json, feeds, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${visible(title)} — ${SITE}`}</title>
      <link rel="stylesheet" href="/static/style.css" />
      {(feeds ?? []).map((f) => (
        <link rel="alternate" type="application/atom+xml" title={f.title} href={f.href} />
      ))}
    </head>
    <body>
      <a class="skip" href="#main">Skip to content</a>
      <header class="site">
        <nav aria-label="Site">
          <a class="brand" href="/">{SITE}</a>
          <a href="/">Overview</a>
          <a href="/packages">Packages</a>
          <a href="/causes">Known causes</a>
          <a href="/queue">Queue</a>
          <a href="/workers">Workers</a>
        </nav>
      </header>
      <main id="main">{children}</main>
      <footer class="site">
        Reproducible-builds results of this rebuilder.
        {json ? (
          <>
            {' '}This page as <a href={json}>JSON</a>.
          </>
        ) : null}{' '}
        The <a href="/api/v1/openapi.json">API</a>.
      </footer>
    </body>
  </html>
);

/** The whole document as a string. */
export async function render(node: Child): Promise<string> {
  const out = await (node as unknown as { toString(): string | Promise<string> }).toString();
  return `<!DOCTYPE html>${out}`;
}
