// diffoscope's JSON schema, key for key and in its order (comments and details
// left out when empty, unified_diff always present), so tools written for
// diffoscope read reprove's reports. reprove's own data rides in extra keys.
import type { Difference } from '../compare/difference.js';

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

/** Reads a diffoscope or reprove JSON report back into a Difference tree. */
export function parseJsonReport(text: string): Difference {
  const fromJson = (j: JsonNode, depth: number): Difference => {
    if (depth > 10_000) throw new Error('report nested too deeply');
    const d: Difference = {
      source1: String(j['source1'] ?? ''),
      source2: String(j['source2'] ?? ''),
      comments: Array.isArray(j['comments']) ? j['comments'].map(String) : [],
      details: Array.isArray(j['details']) ? (j['details'] as JsonNode[]).map((c) => fromJson(c, depth + 1)) : [],
    };
    if (typeof j['unified_diff'] === 'string') d.unifiedDiff = j['unified_diff'];
    if (j['has_internal_linenos'] === true) d.hasInternalLinenos = true;
    if (typeof j['reprove_kind'] === 'string') d.kind = j['reprove_kind'] as Difference['kind'];
    if (typeof j['reprove_format'] === 'string') d.format = j['reprove_format'];
    if (Array.isArray(j['reprove_changes'])) d.changes = j['reprove_changes'] as Difference['changes'];
    if (typeof j['reprove_ignored'] === 'string') d.ignored = j['reprove_ignored'];
    return d;
  };
  const root = JSON.parse(text) as JsonNode;
  if (root['diffoscope-json-version'] !== JSON_FORMAT_VERSION) throw new Error(`not a diffoscope JSON report (diffoscope-json-version is ${String(root['diffoscope-json-version'])})`);
  return fromJson(root, 0);
}
