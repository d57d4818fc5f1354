// diffoscope's JSON schema, key for key and in its order (comments and details
// left out when empty, unified_diff always present), so tools written for
// diffoscope read reprove's reports. reprove's own data rides in extra keys.
import type { Difference } from '../compare/difference.js';
import { ReproveError } from '../compare/errors.js';

export const JSON_FORMAT_VERSION = 1;

type JsonNode = Record<string, unknown>;

/**
 * The report in pieces, node by node, so a large one is written without being built
 * as one string: the same text JSON.stringify gives for the whole tree.
 */
export function* jsonChunks(root: Difference, extra: Record<string, unknown> = {}): Generator<string> {
  const str = JSON.stringify;
  function* node(d: Difference, head: string): Generator<string> {
    let out = `${head}"source1":${str(d.source1)},"source2":${str(d.source2)}`;
    if (d.comments.length) out += `,"comments":${str(d.comments)}`;
    if (d.hasInternalLinenos) out += ',"has_internal_linenos":true';
    out += `,"unified_diff":${str(d.unifiedDiff ?? null)}`;
    if (d.details.length) {
      yield out + ',"details":[';
      for (let i = 0; i < d.details.length; i++) yield* node(d.details[i]!, i ? ',{' : '{');
      out = ']';
    }
    if (d.kind) out += `,"reprove_kind":${str(d.kind)}`;
    if (d.format) out += `,"reprove_format":${str(d.format)}`;
    if (d.changes?.length) out += `,"reprove_changes":${str(d.changes)}`;
    if (d.ignored) out += `,"reprove_ignored":${str(d.ignored)}`;
    if (d.issues) out += `,"reprove_issues":${str(d.issues)}`;
    if (d.unexplained) out += `,"reprove_unexplained":${str(d.unexplained)}`;
    yield out + (d === root ? '' : '}');
  }
  yield* node(root, `{"diffoscope-json-version":${JSON_FORMAT_VERSION},`);
  let tail = '';
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) tail += `,${str(k)}:${str(v)}`;
  yield tail + '}\n';
}

export function renderJson(root: Difference, extra: Record<string, unknown> = {}): string {
  return [...jsonChunks(root, extra)].join('');
}

/** Nesting deeper than this is refused: no report reprove or diffoscope writes comes near it. */
const MAX_DEPTH = 10_000;

/** What a JSON value is, for a message: "null", "an array", "a number". */
function shape(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function isNode(v: unknown): v is JsonNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const CHANGE_KEYS = ['member', 'field', 'value1', 'value2', 'ignored'] as const;

/**
 * Reads a diffoscope or reprove JSON report back into a Difference tree. `name` (the
 * file it was read from) starts the member path of the errors, a malformed ReproveError
 * whose message says where in the JSON (details[0].details[3]) and whose member path
 * names the nodes above it. Iterative, so a deeply nested report cannot exhaust the stack.
 */
export function parseJsonReport(text: string, name = 'report'): Difference {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new ReproveError('malformed', (e as Error).message, [name]);
  }
  const version = isNode(root) ? root['diffoscope-json-version'] : undefined;
  if (!isNode(root) || version !== JSON_FORMAT_VERSION) throw new ReproveError('malformed', `not a diffoscope JSON report (diffoscope-json-version is ${String(version)})`, [name]);

  /** A node being read: its place is kept as a link to its parent, and spelled out only for an error. */
  interface Place {
    parent?: Place;
    index: number;
    source1: string;
  }
  const where = (p: Place): string => {
    const parts: string[] = [];
    for (let q: Place | undefined = p; q?.parent; q = q.parent) parts.push(`details[${q.index}]`);
    return parts.reverse().join('.');
  };
  const pathOf = (p: Place): string[] => {
    const names: string[] = [];
    for (let q: Place | undefined = p; q?.parent; q = q.parent) names.push(q.source1 || `details[${q.index}]`);
    return [name, ...names.reverse()];
  };

  const fromJson = (j: JsonNode, place: Place): Difference => {
    const fail = (message: string) => {
      const at = where(place);
      return new ReproveError('malformed', `${at ? `${at}: ` : ''}${message}`, pathOf(place));
    };
    const d: Difference = {
      source1: String(j['source1'] ?? ''),
      source2: String(j['source2'] ?? ''),
      comments: Array.isArray(j['comments']) ? j['comments'].map(String) : [],
      details: [],
    };
    if (typeof j['unified_diff'] === 'string') d.unifiedDiff = j['unified_diff'];
    if (j['has_internal_linenos'] === true) d.hasInternalLinenos = true;
    if (typeof j['reprove_kind'] === 'string') d.kind = j['reprove_kind'] as Difference['kind'];
    if (typeof j['reprove_format'] === 'string') d.format = j['reprove_format'];
    const changes = j['reprove_changes'];
    if (Array.isArray(changes)) {
      // Readers of the tree (explain, the verdict) take these as FieldChange: strings, a field always.
      changes.forEach((c: unknown, k) => {
        if (!isNode(c)) throw fail(`reprove_changes[${k}] is ${shape(c)}, not an object`);
        if (typeof c['field'] !== 'string') throw fail(`reprove_changes[${k}] has no field name (field is ${shape(c['field'])})`);
        for (const key of CHANGE_KEYS)
          if (c[key] !== undefined && typeof c[key] !== 'string') throw fail(`reprove_changes[${k}].${key} is ${shape(c[key])}, not a string`);
      });
      d.changes = changes as Difference['changes'];
    }
    if (typeof j['reprove_ignored'] === 'string') d.ignored = j['reprove_ignored'];
    return d;
  };

  // Depth first in document order, with an explicit stack instead of recursion.
  const rootPlace: Place = { index: 0, source1: '' };
  const top = fromJson(root, rootPlace);
  const stack: { j: JsonNode; d: Difference; place: Place; depth: number }[] = [{ j: root, d: top, place: rootPlace, depth: 0 }];
  while (stack.length) {
    const { j, d, place, depth } = stack.pop()!;
    const details = j['details'];
    if (!Array.isArray(details)) continue;
    if (depth >= MAX_DEPTH) throw new ReproveError('malformed', 'report nested too deeply', pathOf(place));
    const next: typeof stack = [];
    details.forEach((c: unknown, index) => {
      if (!isNode(c)) throw new ReproveError('malformed', `${where({ parent: place, index, source1: '' })} is ${shape(c)}, not an object`, pathOf(place));
      const childPlace: Place = { parent: place, index, source1: String(c['source1'] ?? '') };
      const child = fromJson(c, childPlace);
      d.details.push(child);
      next.push({ j: c, d: child, place: childPlace, depth: depth + 1 });
    });
    for (let k = next.length - 1; k >= 0; k--) stack.push(next[k]!);
  }
  return top;
}
