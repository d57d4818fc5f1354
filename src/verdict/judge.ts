// Judging a difference tree under policies: every piece of evidence (a field
// change, a diff without structured changes, a comment that says the bytes
// differ) is either allowed by a rule, and marked ignored with its reason, or
// it makes the artifact unreproducible. Nothing allowed is hidden.
import { followsFromContent, type Difference, type FieldChange } from '../compare/difference.js';
import type { FieldRule, NodeRule, Policy } from './policy.js';

export interface Evidence {
  /** Node names from the artifact down to the node holding it. */
  path: string[];
  field?: string;
  member?: string;
  value1?: string;
  value2?: string;
  /** Why it is allowed (only on ignored evidence). */
  reason?: string;
}

export interface Judgement {
  /** True when every difference is allowed. */
  reproducible: boolean;
  ignored: Evidence[];
  blocking: Evidence[];
}

interface CompiledRules {
  nodes: { re: RegExp; rule: NodeRule; policy: string }[];
  fields: { rule: FieldRule; node?: RegExp; member?: RegExp; policy: string }[];
}

function compile(policies: Policy[]): CompiledRules {
  return {
    nodes: policies.flatMap((p) => p.ignoreNodes.map((rule) => ({ re: new RegExp(rule.node), rule, policy: p.name }))),
    fields: policies.flatMap((p) =>
      p.ignoreFields.map((rule) => ({
        rule,
        policy: p.name,
        ...(rule.node ? { node: new RegExp(rule.node) } : {}),
        ...(rule.member ? { member: new RegExp(rule.member) } : {}),
      })),
    ),
  };
}

function fieldRule(rules: CompiledRules, nodeName: string, c: FieldChange): { reason: string; policy: string } | undefined {
  for (const r of rules.fields) {
    if (r.rule.field !== '*' && r.rule.field !== c.field) continue;
    if (r.node && !r.node.test(nodeName)) continue;
    if (r.member && !(c.member !== undefined && r.member.test(c.member))) continue;
    return { reason: r.rule.reason, policy: r.policy };
  }
  return undefined;
}

/** Judges `root` (the node of one artifact) and marks what the policies allow. */
export function judge(root: Difference, policies: Policy[]): Judgement {
  const rules = compile(policies);
  const ignored: Evidence[] = [];
  const blocking: Evidence[] = [];
  const visit = (d: Difference, path: string[], siblings: ReadonlySet<string>) => {
    const here = [...path, d.source1];
    const nodeRule = rules.nodes.find((r) => r.re.test(d.source1));
    if (nodeRule && path.length > 0) {
      d.ignored = `${nodeRule.rule.reason} (policy ${nodeRule.policy})`;
      ignored.push({ path: here, reason: d.ignored });
      return;
    }
    if (d.changes?.length) {
      // A node with structured changes: they are its complete content.
      for (const c of d.changes) {
        // A member's size or digest in a listing follows from its content, judged in its own node.
        if (followsFromContent(c, siblings)) continue;
        const ev: Evidence = { path: here, field: c.field, ...(c.member !== undefined ? { member: c.member } : {}), ...(c.value1 !== undefined ? { value1: c.value1 } : {}), ...(c.value2 !== undefined ? { value2: c.value2 } : {}) };
        const allowed = fieldRule(rules, d.source1, c);
        if (allowed) {
          c.ignored = `${allowed.reason} (policy ${allowed.policy})`;
          ignored.push({ ...ev, reason: c.ignored });
        } else blocking.push(ev);
      }
    } else if (d.unifiedDiff || (d.details.length === 0 && path.length > 0)) {
      blocking.push({ path: here });
    }
    for (const s of d.statements ?? []) blocking.push({ path: here, field: s.comment });
    const names = new Set(d.details.map((c) => c.source1));
    for (const child of d.details) visit(child, here, names);
  };
  visit(root, [], new Set());
  if (ignored.length === 0 && blocking.length === 0) blocking.push({ path: [root.source1], field: 'bytes differ' });
  return { reproducible: blocking.length === 0, ignored, blocking };
}
