// Reproducibility policies are data: which differences a format allows, each
// with the reason it is safe. A rule matches a node by name or a field change
// by field (and optionally by the node and member it is in).
import { readFile } from 'node:fs/promises';
import { ReproveError } from '../compare/errors.js';
import { exactly, FORMAT, NODE } from '../formats/names.js';

export interface NodeRule {
  /** Regular expression over the node's name (source1). */
  node: string;
  reason: string;
}

export interface FieldRule {
  /** Field name as in the report's changes ("BUILDTIME", "builddate"), or "*" for any. */
  field: string;
  /** Regular expression the name of the node holding the change must match. */
  node?: string;
  /** Regular expression the change's member must match. */
  member?: string;
  reason: string;
}

export interface Policy {
  name: string;
  description: string;
  /** Which top-level artifacts it applies to: a format name and/or a file-name pattern. */
  appliesTo: { format?: string; name?: string };
  /** Whether it is used without being asked for (--policy NAME selects the others). */
  default: boolean;
  ignoreNodes: NodeRule[];
  ignoreFields: FieldRule[];
}

/** The pattern of the RPM main header's node. */
const RPM_HEADER = exactly(NODE.rpmHeader);

const RPM_SIGNATURE_REASON = 'the signature header holds signatures and digests over the header and payload; it differs whenever they do, and the payload and header are compared on their own';

export const builtinPolicies: Policy[] = [
  {
    name: 'rpm',
    description: "Fedora's definition: the signature header and the fields that record when and where the build ran (and hashes over them) may differ; the payload must be identical.",
    appliesTo: { format: FORMAT.rpm },
    default: true,
    ignoreNodes: [{ node: exactly(NODE.rpmSignatureHeader), reason: RPM_SIGNATURE_REASON }],
    ignoreFields: [
      { field: 'BUILDTIME', node: RPM_HEADER, reason: 'records when the build ran' },
      { field: 'BUILDHOST', node: RPM_HEADER, reason: 'records which machine ran the build' },
      { field: 'COOKIE', node: RPM_HEADER, reason: 'build host and time, joined' },
      { field: 'OPTFLAGS', node: RPM_HEADER, reason: 'compiler flags of the build host configuration; the code they produce is compared in the payload' },
      { field: 'SOURCEPKGID', node: RPM_HEADER, reason: 'digest of the source package, which differs when the srpm was rebuilt too' },
      { field: 'HEADERIMMUTABLE', node: RPM_HEADER, reason: 'the immutable-region trailer: it changes with any header field, including the allowed ones' },
      // The digests the signature header holds, should a presenter show them as main-header fields.
      ...['SIGSIZE', 'SIGMD5', 'SHA1HEADER', 'SHA256HEADER', 'RSAHEADER', 'DSAHEADER', 'SIGPGP', 'SIGGPG', 'PGP', 'GPG', 'LONGSIGSIZE', 'SIGLEMD5_1', 'SIGLEMD5_2', 'OPENPGP', 'VERITYSIGNATURES', 'VERITYSIGNATUREALGO', 'RESERVEDSPACE'].map((field) => ({
        field,
        reason: 'signature or digest over the header, which differs when the allowed fields do',
      })),
    ],
  },
  {
    name: 'rpm-platform',
    description: 'Also allow PLATFORM and SOURCERPM to differ (rebuilds on another distribution release or from a renamed source package).',
    appliesTo: { format: FORMAT.rpm },
    default: false,
    ignoreNodes: [],
    ignoreFields: [
      { field: 'PLATFORM', node: RPM_HEADER, reason: 'names the build platform string' },
      { field: 'SOURCERPM', node: RPM_HEADER, reason: 'names the source package file' },
    ],
  },
  {
    name: 'arch-buildinfo',
    description: 'Allow the .PKGINFO/.BUILDINFO fields that record only the build time and host, and the .MTREE entries of those two files that follow from them.',
    appliesTo: { name: '\\.pkg\\.tar(\\.[a-z0-9]+)?$' },
    default: false,
    ignoreNodes: [],
    ignoreFields: [
      { field: 'builddate', node: '(^|/)\\.(PKGINFO|BUILDINFO)$', reason: 'records when the build ran' },
      { field: 'buildhost', node: '(^|/)\\.(PKGINFO|BUILDINFO)$', reason: 'records which machine ran the build' },
      { field: '*', node: '\\.MTREE', member: '(^|/)\\.(PKGINFO|BUILDINFO)$', reason: 'digests and sizes of .PKGINFO/.BUILDINFO, which differ only in the allowed fields' },
    ],
  },
  {
    name: 'debian-buildinfo',
    description: 'Allow the .buildinfo fields that record only the build time and host.',
    appliesTo: { name: '\\.buildinfo$' },
    default: false,
    ignoreNodes: [],
    ignoreFields: [
      { field: 'Build-Date', reason: 'records when the build ran' },
      { field: 'Build-Host', reason: 'records which machine ran the build' },
    ],
  },
];

/** The policies that apply to an artifact: the default ones plus those asked for by name. */
export function policiesFor(all: Policy[], format: string | undefined, name: string, selected: string[], strict: boolean): Policy[] {
  if (strict) return [];
  return all.filter((p) => {
    if (!p.default && !selected.includes(p.name)) return false;
    if (p.appliesTo.format && p.appliesTo.format !== format) return false;
    if (p.appliesTo.name && !new RegExp(p.appliesTo.name).test(name)) return false;
    return true;
  });
}

/** Built-in policies, overridden (by name) or extended by a policy file's list. */
export function mergePolicies(base: Policy[], overrides: Policy[]): Policy[] {
  const byName = new Map(base.map((p) => [p.name, p]));
  for (const p of overrides) byName.set(p.name, p);
  return [...byName.values()];
}

/** A policy file that cannot be used: names the file and the field (memberPath: file, policy, rule, field). */
export class PolicyError extends ReproveError {
  constructor(message: string, where: readonly string[]) {
    super('invalid-policy', message, where);
    this.name = 'PolicyError';
  }
  override describe(): string {
    return `${this.message} (${this.memberPath.join(' -> ')})`;
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks the shape of policies read from `source` (a file name), naming the failing policy, rule and field. */
export function parsePolicies(text: string, source: string): Policy[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(`Cannot read policies: not JSON (${(e as Error).message})`, [source]);
  }
  const list = Array.isArray(data) ? data : isRecord(data) ? data['policies'] : undefined;
  if (!Array.isArray(list)) throw new PolicyError('Cannot read policies: expected a list or {"policies": [...]}', [source]);
  return list.map((p: unknown, i) => {
    const at = (...rest: string[]) => [source, `policies[${i}]`, ...rest];
    if (!isRecord(p)) throw new PolicyError('Cannot read policy: not an object', at());
    if (typeof p['name'] !== 'string' || !p['name']) throw new PolicyError('Cannot read policy: no name', at('name'));
    const name = p['name'];
    const optionalString = (x: unknown, field: string, where: string[]) => {
      if (x !== undefined && typeof x !== 'string') throw new PolicyError(`Cannot read policy ${name}: ${field} must be a string`, where);
    };
    const regex = (x: unknown, field: string, where: string[]) => {
      optionalString(x, field, where);
      if (typeof x !== 'string') return;
      try {
        new RegExp(x);
      } catch (e) {
        throw new PolicyError(`Cannot read policy ${name}: ${field} is not a regular expression (${(e as Error).message})`, where);
      }
    };
    optionalString(p['description'], 'description', at('description'));
    if (p['default'] !== undefined && typeof p['default'] !== 'boolean') throw new PolicyError(`Cannot read policy ${name}: default must be true or false`, at('default'));
    const appliesTo = p['appliesTo'] ?? {};
    if (!isRecord(appliesTo)) throw new PolicyError(`Cannot read policy ${name}: appliesTo must be an object`, at('appliesTo'));
    optionalString(appliesTo['format'], 'appliesTo.format', at('appliesTo', 'format'));
    regex(appliesTo['name'], 'appliesTo.name', at('appliesTo', 'name'));
    const rules = (key: 'ignoreNodes' | 'ignoreFields') => {
      const list = p[key] ?? [];
      if (!Array.isArray(list)) throw new PolicyError(`Cannot read policy ${name}: ${key} must be a list`, at(key));
      return list.map((r: unknown, j) => {
        const where = (field?: string) => at(`${key}[${j}]`, ...(field ? [field] : []));
        if (!isRecord(r)) throw new PolicyError(`Cannot read policy ${name}: a rule is not an object`, where());
        if (typeof r['reason'] !== 'string' || !r['reason']) throw new PolicyError(`Cannot read policy ${name}: every rule needs a reason`, where('reason'));
        if (key === 'ignoreNodes' && typeof r['node'] !== 'string') throw new PolicyError(`Cannot read policy ${name}: a node rule needs a node pattern`, where('node'));
        if (key === 'ignoreFields' && (typeof r['field'] !== 'string' || !r['field'])) throw new PolicyError(`Cannot read policy ${name}: a field rule needs a field`, where('field'));
        regex(r['node'], 'node', where('node'));
        regex(r['member'], 'member', where('member'));
        return r;
      });
    };
    return {
      name,
      description: (p['description'] as string | undefined) ?? '',
      appliesTo: appliesTo as Policy['appliesTo'],
      default: (p['default'] as boolean | undefined) ?? true,
      ignoreNodes: rules('ignoreNodes') as unknown as NodeRule[],
      ignoreFields: rules('ignoreFields') as unknown as FieldRule[],
    };
  });
}

/** Reads a policy file (see parsePolicies). */
export async function loadPolicyFile(path: string): Promise<Policy[]> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new PolicyError(`Cannot read policies: ${e.message}`, [path]);
  });
  return parsePolicies(text, path);
}

/**
 * The policies named by `names`, each a built-in policy's name or a policy file:
 * all known policies (built-in ones replaced by a file's of the same name) and
 * the names to apply besides the default ones.
 */
export async function resolvePolicies(names: readonly string[], base: Policy[] = builtinPolicies): Promise<{ policies: Policy[]; selected: string[] }> {
  let policies = base;
  const selected: string[] = [];
  for (const n of names) {
    if (base.some((b) => b.name === n)) selected.push(n);
    else {
      const loaded = await loadPolicyFile(n);
      policies = mergePolicies(policies, loaded);
      selected.push(...loaded.map((l) => l.name));
    }
  }
  return { policies, selected };
}
