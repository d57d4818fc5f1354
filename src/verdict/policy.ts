// Reproducibility policies are data: which differences a format allows, each
// with the reason it is safe. A rule matches a node by name or a field change
// by field (and optionally by the node and member it is in).

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

const RPM_SIGNATURE_REASON = 'the signature header holds signatures and digests over the header and payload; it differs whenever they do, and the payload and header are compared on their own';

export const builtinPolicies: Policy[] = [
  {
    name: 'rpm',
    description: "Fedora's definition: the signature header and the fields that record when and where the build ran (and hashes over them) may differ; the payload must be identical.",
    appliesTo: { format: 'rpm' },
    default: true,
    ignoreNodes: [{ node: '^signature header$', reason: RPM_SIGNATURE_REASON }],
    ignoreFields: [
      { field: 'BUILDTIME', node: '^header$', reason: 'records when the build ran' },
      { field: 'BUILDHOST', node: '^header$', reason: 'records which machine ran the build' },
      { field: 'COOKIE', node: '^header$', reason: 'build host and time, joined' },
      { field: 'OPTFLAGS', node: '^header$', reason: 'compiler flags of the build host configuration; the code they produce is compared in the payload' },
      { field: 'SOURCEPKGID', node: '^header$', reason: 'digest of the source package, which differs when the srpm was rebuilt too' },
      { field: 'HEADERIMMUTABLE', node: '^header$', reason: 'the immutable-region trailer: it changes with any header field, including the allowed ones' },
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
    appliesTo: { format: 'rpm' },
    default: false,
    ignoreNodes: [],
    ignoreFields: [
      { field: 'PLATFORM', node: '^header$', reason: 'names the build platform string' },
      { field: 'SOURCERPM', node: '^header$', reason: 'names the source package file' },
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

/** Checks the shape of policies read from a file, with the failing entry named. */
export function parsePolicies(text: string, source: string): Policy[] {
  const data = JSON.parse(text) as unknown;
  const list = Array.isArray(data) ? data : (data as { policies?: unknown }).policies;
  if (!Array.isArray(list)) throw new Error(`Cannot read policies from ${source}: expected a list or {"policies": [...]}`);
  return list.map((p: Partial<Policy>, i) => {
    if (typeof p.name !== 'string') throw new Error(`Cannot read policy ${i} of ${source}: no name`);
    const rules = [...(p.ignoreNodes ?? []), ...(p.ignoreFields ?? [])];
    for (const r of rules) {
      if (typeof r.reason !== 'string' || !r.reason) throw new Error(`Cannot read policy ${p.name} of ${source}: every rule needs a reason`);
      for (const re of [(r as NodeRule).node, (r as FieldRule).member].filter((x): x is string => typeof x === 'string')) new RegExp(re);
    }
    return {
      name: p.name,
      description: p.description ?? '',
      appliesTo: p.appliesTo ?? {},
      default: p.default ?? true,
      ignoreNodes: p.ignoreNodes ?? [],
      ignoreFields: p.ignoreFields ?? [],
    };
  });
}
