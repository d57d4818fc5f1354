// Badges: /badge/DISTRO/NAME.svg, a flat shields-style label "reproducible |
// verdict" in the verdict's colour. For a package in several suites or
// architectures the worst current verdict is shown. Text widths are estimated
// from a per-character table (no font on the server); every text is escaped.
import { type App } from '../context.js';
import type { WebDeps } from './context.js';
import { packageByName } from './reads.js';

const COLOUR: Record<string, string> = {
  BIT_IDENTICAL: '#4c1',
  IDENTICAL_EXCEPT_SIGNATURE: '#4c1',
  REPRODUCIBLE: '#97ca00',
  UNREPRODUCIBLE: '#e05d44',
  FTBFS: '#fe7d37',
  ERROR: '#9f9f9f',
  UNKNOWN: '#9f9f9f',
  'not found': '#9f9f9f',
};
const TEXT: Record<string, string> = {
  BIT_IDENTICAL: 'bit-identical',
  IDENTICAL_EXCEPT_SIGNATURE: 'identical but the signature',
  REPRODUCIBLE: 'reproducible',
  UNREPRODUCIBLE: 'unreproducible',
  FTBFS: 'fails to build',
  ERROR: 'error',
  UNKNOWN: 'pending',
  'not found': 'not found',
};
/** Worst first. */
const RANK = ['UNREPRODUCIBLE', 'FTBFS', 'ERROR', 'UNKNOWN', 'REPRODUCIBLE', 'IDENTICAL_EXCEPT_SIGNATURE', 'BIT_IDENTICAL'];

const xml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Approximate width of 11px Verdana text. */
const width = (s: string) => Math.round([...s].reduce((w, c) => w + (/[il.,:;|!']/.test(c) ? 3.5 : /[mwMW]/.test(c) ? 10 : /[A-Z]/.test(c) ? 7.5 : 6.5), 0)) + 10;

export function badgeSvg(label: string, message: string, colour: string): string {
  const lw = width(label);
  const mw = width(message);
  const w = lw + mw;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${xml(`${label}: ${message}`)}"><title>${xml(`${label}: ${message}`)}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${colour}"/><rect width="${w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${xml(label)}</text><text x="${lw / 2}" y="14">${xml(label)}</text><text x="${lw + mw / 2}" y="15" fill="#010101" fill-opacity=".3">${xml(message)}</text><text x="${lw + mw / 2}" y="14">${xml(message)}</text></g></svg>`;
}

export function badgeRoutes(app: App, { store }: WebDeps): void {
  app.get('/badge/:distribution/:file', { schema: { hide: true } }, async (request, reply) => {
    const { distribution, file } = request.params as { distribution: string; file: string };
    let state = 'not found';
    if (file.endsWith('.svg')) {
      const versions = (await packageByName(store, distribution, file.slice(0, -4))).filter((p) => p.leftArchiveAt === null);
      if (versions.length > 0) state = RANK.find((v) => versions.some((p) => (p.latestVerdict ?? 'UNKNOWN') === v)) ?? 'UNKNOWN';
    }
    reply.header('content-type', 'image/svg+xml; charset=utf-8');
    reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=3600');
    reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    return reply.send(badgeSvg('reproducible builds', TEXT[state]!, COLOUR[state]!));
  });
}
