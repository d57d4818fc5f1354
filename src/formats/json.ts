// JSON: compared normalised (keys sorted, 4-space indent, as diffoscope), and
// as raw text when only formatting or key order differs.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { textDifference, type Difference } from '../compare/difference.js';
import { compareText, readText } from './text.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** The normalised form of a JSON text, or null when it is not JSON (or too deep to normalise). */
export function normaliseJson(text: string): string | null {
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)), null, 4) + '\n';
  } catch {
    return null;
  }
}

async function compareJson(a: Artifact, b: Artifact, ctx: Context): Promise<Difference> {
  const [ta, tb] = await settleAll([readText(a, ctx), readText(b, ctx)]);
  const na = ta && !ta.cut ? normaliseJson(ta.text) : null;
  const nb = tb && !tb.cut ? normaliseJson(tb.text) : null;
  if (na === null || nb === null) {
    const d = await compareText(a, b, ctx);
    d.comments.unshift(`${na === null ? a.name : b.name} is not valid JSON; compared as text`);
    return d;
  }
  const normalised = await textDifference(ctx, a.name, b.name, na, nb, { format: 'json' });
  if (normalised) return normalised;
  const raw = await compareText(a, b, ctx);
  raw.comments.unshift('Only formatting or key order differs (the normalised JSON is identical)');
  return raw;
}

export const jsonFormat: Format = {
  name: FORMAT.json,
  // A JSON document starts with an object or an array; if it does not parse, it is compared as text.
  magic: (head) => /^\s*[[{]/.test(head.toString('latin1', 0, 256)),
  fileName: /\.json$/i,
  compare: compareJson,
};
