// Koji's record of a Fedora build's buildroot, parsed into a BuildEnv. Koji's hub
// answers `getBuildrootListing(buildrootID)` with the exact RPMs that were
// installed in the mock chroot, one object per RPM:
//   { rpm_id, name, version, release, epoch (int or null), arch, build_id,
//     external_repo_id, external_repo_name, is_update }
// That listing alone does not say which build it belongs to, nor the defines the
// rebuilder must repeat, so reprove reads a small wrapper (written by the koji
// source, or by hand):
//   {
//     "build": { "name", "version", "release", "epoch"?, "arch"?,
//                "buildtime"?, "source_date_epoch"?,
//                "defines"?: { "_buildhost", "distribution", "packager", "vendor", "bugurl", ... } },
//     "buildroot": [ getBuildrootListing's entries, each optionally with
//                    "build_name"/"build_version"/"build_release" (the source package
//                    that produced it: koji's package directory), "payloadhash"
//                    (koji's MD5 of header and payload), "sha256", "url" ]
//   }
// A bare array (the hub's answer as it is) is read too; the build's metadata then
// comes from the SRPM and the published RPMs. Every field is untrusted: names,
// versions and architectures must match RPM's grammar (nothing that could be a
// path component like "..", no control characters, no shell or macro syntax),
// sizes are capped, and the first bad field is a BuildInfoError naming it.
import { BuildInfoError, type BuildEnv, type RecordedPackage } from './build-env.js';

/** Where koji keeps a build's RPMs: {build_name}/{build_version}/{build_release} are the source package's, the rest the RPM's own. */
export const DEFAULT_KOJI_PACKAGE_URL = 'https://kojipkgs.fedoraproject.org/packages/{build_name}/{build_version}/{build_release}/{arch}/{name}-{version}-{release}.{arch}.rpm';

export const KOJI_LIMITS = {
  /** Bytes of a listing file. */
  fileBytes: 64 * 1024 * 1024,
  /** RPMs in one buildroot (Fedora's largest hold a few thousand). */
  entries: 50_000,
  name: 200,
  version: 128,
  arch: 32,
  defines: 64,
  defineValue: 1024,
  url: 2048,
} as const;

/** One RPM of the buildroot, validated. */
export interface KojiRpm {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string;
  /** The source package whose build produced this RPM (koji's directory); the RPM's own name/version/release when not recorded. */
  build: { name: string; version: string; release: string; recorded: boolean };
  rpmId?: number;
  buildId?: number;
  /** koji's payloadhash: MD5 (hex) of the RPM's main header and payload, as rpm's SIGMD5. */
  payloadhash?: string;
  sha256?: string;
  /** Where to fetch it: the entry's own URL, else the package URL pattern filled in. */
  url: string;
  /** Not built by this koji (koji's external repositories). */
  externalRepo?: string;
}

export interface KojiBuild {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch?: string;
  /** BUILDTIME of the original build, seconds. */
  buildtime?: number;
  /** SOURCE_DATE_EPOCH the original build ran with (Fedora's: from the changelog). */
  sourceDateEpoch?: number;
  /** Where sourceDateEpoch comes from when the listing did not record it ("the SRPM's latest changelog entry"). */
  sourceDateEpochFrom?: string;
  /** rpm macros the original build ran with (_buildhost, distribution, packager, vendor, bugurl...). */
  defines: Record<string, string>;
}

export interface KojiBuildroot {
  /** Absent when the file is a bare listing: the caller takes it from the SRPM and the published RPMs. */
  build?: KojiBuild;
  rpms: KojiRpm[];
}

export interface KojiParseOptions {
  /** The package URL pattern ({name} {version} {release} {epoch} {arch} {build_name} {build_version} {build_release}); default kojipkgs. */
  packageUrl?: string;
}

/** An RPM name: starts with a letter, digit or _, then letters, digits and . _ + - (never "." or ".."). */
export const RPM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
/** An RPM version or release: no "-", starts with a letter or digit. */
export const RPM_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+~^]*$/;
export const RPM_ARCH = /^[A-Za-z0-9_]+$/;
/** A macro name usable with --define. */
export const MACRO_NAME = /^_{0,2}[A-Za-z][A-Za-z0-9_]{0,63}$/;
const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

type Obj = Record<string, unknown>;

class Reader {
  constructor(readonly file: string) {}

  fail(field: string, message: string): never {
    throw new BuildInfoError(`Cannot use the koji buildroot listing: ${message}`, this.file, field);
  }

  str(o: Obj, key: string, field: string, pattern: RegExp, max: number, what: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(field, `${field} is ${v === undefined ? 'missing' : `not a string (${typeof v})`}`);
    if (v.length > max) this.fail(field, `${field} is ${v.length} characters long, over the cap of ${max}`);
    if (!pattern.test(v)) this.fail(field, `${field} ${JSON.stringify(v)} is not ${what}`);
    return v;
  }

  optStr(o: Obj, key: string, field: string, pattern: RegExp, max: number, what: string): string | undefined {
    return o[key] === undefined || o[key] === null ? undefined : this.str(o, key, field, pattern, max, what);
  }

  epoch(o: Obj, key: string, field: string): number | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    // koji answers an integer; a string of digits (as rpm prints it) is read too.
    const n = typeof v === 'string' && /^[0-9]{1,10}$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0x7fffffff) this.fail(field, `${field} ${JSON.stringify(v)} is not a whole number from 0 to 2147483647 or null`);
    return n;
  }

  seconds(o: Obj, key: string, field: string): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) this.fail(field, `${field} ${JSON.stringify(v)} is not a whole number of seconds since 1970 that fits RPM's 32 bits`);
    return v;
  }

  id(o: Obj, key: string, field: string): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(field, `${field} ${JSON.stringify(v)} is not a whole number`);
    return v;
  }

  object(v: unknown, field: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `${field} is not an object`);
    return v as Obj;
  }
}

/** The text of a listing file, refusing what is too large or not UTF-8. */
export function decodeListing(bytes: Uint8Array, file: string): string {
  if (bytes.length > KOJI_LIMITS.fileBytes) throw new BuildInfoError(`Cannot use the koji buildroot listing: ${bytes.length} bytes, over the cap of ${KOJI_LIMITS.fileBytes}`, file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BuildInfoError('Cannot use the koji buildroot listing: it is not valid UTF-8', file);
  }
}

/** A define's value as the original build had it: printable, single line, capped. */
function defineValue(r: Reader, v: unknown, field: string): string {
  if (typeof v !== 'string') r.fail(field, `${field} is not a string`);
  if (v.length > KOJI_LIMITS.defineValue) r.fail(field, `${field} is ${v.length} characters long, over the cap of ${KOJI_LIMITS.defineValue}`);
  if (CONTROL.test(v)) r.fail(field, `${field} holds a control character`);
  // mock renders its configuration with Jinja: template syntax in a value would be run.
  if (/\{[{%#]|[}%#]\}/.test(v)) r.fail(field, `${field} holds template syntax ({{, {%, {#)`);
  return v;
}

function fillPattern(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\{([a-z_]+)\}/g, (whole, key: string) => (key in values ? encodeURIComponent(values[key]!) : whole));
}

function checkUrl(r: Reader, url: string, field: string): string {
  if (url.length > KOJI_LIMITS.url) r.fail(field, `${field} is ${url.length} characters long, over the cap of ${KOJI_LIMITS.url}`);
  if (CONTROL.test(url)) r.fail(field, `${field} holds a control character`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    r.fail(field, `${field} ${JSON.stringify(url)} is not a URL`);
  }
  if (!['https:', 'http:', 'file:'].includes(parsed.protocol)) r.fail(field, `${field} ${JSON.stringify(url)} is not an http(s):// or file:// URL`);
  // The parser resolves dot segments (also %2e%2e) away: a listing that writes them is refused as it is written.
  const segments = url.replace(/^[a-z]+:\/\/[^/]*/i, '').split(/[/?#]/);
  if (segments.some((s) => /^(\.|%2e){1,2}$/i.test(s))) r.fail(field, `${field} ${JSON.stringify(url)} has a "." or ".." path component`);
  return url;
}

function parseBuild(r: Reader, o: Obj): KojiBuild {
  const build: KojiBuild = {
    name: r.str(o, 'name', 'build.name', RPM_NAME, KOJI_LIMITS.name, 'an RPM name'),
    version: r.str(o, 'version', 'build.version', RPM_VERSION, KOJI_LIMITS.version, 'an RPM version'),
    release: r.str(o, 'release', 'build.release', RPM_VERSION, KOJI_LIMITS.version, 'an RPM release'),
    epoch: r.epoch(o, 'epoch', 'build.epoch'),
    defines: {},
  };
  const arch = r.optStr(o, 'arch', 'build.arch', RPM_ARCH, KOJI_LIMITS.arch, 'an architecture name');
  if (arch !== undefined) build.arch = arch;
  const buildtime = r.seconds(o, 'buildtime', 'build.buildtime');
  if (buildtime !== undefined) build.buildtime = buildtime;
  const sde = r.seconds(o, 'source_date_epoch', 'build.source_date_epoch');
  if (sde !== undefined) build.sourceDateEpoch = sde;
  if (o['defines'] !== undefined) {
    const d = r.object(o['defines'], 'build.defines');
    const keys = Object.keys(d);
    if (keys.length > KOJI_LIMITS.defines) r.fail('build.defines', `build.defines has ${keys.length} entries, over the cap of ${KOJI_LIMITS.defines}`);
    for (const k of keys) {
      if (!MACRO_NAME.test(k)) r.fail(`build.defines`, `build.defines has the key ${JSON.stringify(k.slice(0, 80))}, not an rpm macro name`);
      build.defines[k] = defineValue(r, d[k], `build.defines.${k}`);
    }
  }
  return build;
}

function parseEntry(r: Reader, o: Obj, i: number, pattern: string): KojiRpm {
  const f = (k: string) => `buildroot[${i}].${k}`;
  const name = r.str(o, 'name', f('name'), RPM_NAME, KOJI_LIMITS.name, 'an RPM name');
  const version = r.str(o, 'version', f('version'), RPM_VERSION, KOJI_LIMITS.version, 'an RPM version');
  const release = r.str(o, 'release', f('release'), RPM_VERSION, KOJI_LIMITS.version, 'an RPM release');
  const epoch = r.epoch(o, 'epoch', f('epoch'));
  const arch = r.str(o, 'arch', f('arch'), RPM_ARCH, KOJI_LIMITS.arch, 'an architecture name');
  if (arch === 'src') r.fail(f('arch'), `${f('arch')} is "src": a source package cannot be installed in a buildroot`);
  const bName = r.optStr(o, 'build_name', f('build_name'), RPM_NAME, KOJI_LIMITS.name, 'an RPM name');
  const bVersion = r.optStr(o, 'build_version', f('build_version'), RPM_VERSION, KOJI_LIMITS.version, 'an RPM version');
  const bRelease = r.optStr(o, 'build_release', f('build_release'), RPM_VERSION, KOJI_LIMITS.version, 'an RPM release');
  const recorded = bName !== undefined && bVersion !== undefined && bRelease !== undefined;
  if (!recorded && (bName ?? bVersion ?? bRelease) !== undefined) r.fail(f('build_name'), `${f('build_name')}, build_version and build_release come together`);
  const build = { name: bName ?? name, version: bVersion ?? version, release: bRelease ?? release, recorded };
  const rpm: KojiRpm = { name, version, release, epoch, arch, build, url: '' };
  const rpmId = r.id(o, 'rpm_id', f('rpm_id')) ?? r.id(o, 'id', f('id'));
  if (rpmId !== undefined) rpm.rpmId = rpmId;
  const buildId = r.id(o, 'build_id', f('build_id'));
  if (buildId !== undefined) rpm.buildId = buildId;
  const payloadhash = r.optStr(o, 'payloadhash', f('payloadhash'), HEX(32), 32, 'a lower-case hex MD5');
  if (payloadhash !== undefined) rpm.payloadhash = payloadhash;
  const sha256 = r.optStr(o, 'sha256', f('sha256'), HEX(64), 64, 'a lower-case hex SHA-256');
  if (sha256 !== undefined) rpm.sha256 = sha256;
  const ext = o['external_repo_name'];
  if (ext !== undefined && ext !== null && ext !== 'INTERNAL') {
    rpm.externalRepo = r.str(o, 'external_repo_name', f('external_repo_name'), /^[A-Za-z0-9][A-Za-z0-9._+-]*$/, KOJI_LIMITS.name, 'a repository name');
  }
  if (o['url'] !== undefined && o['url'] !== null) {
    if (typeof o['url'] !== 'string') r.fail(f('url'), `${f('url')} is not a string`);
    rpm.url = checkUrl(r, o['url'], f('url'));
  } else {
    const values = { name, version, release, arch, epoch: epoch === null ? '' : String(epoch), build_name: build.name, build_version: build.version, build_release: build.release };
    rpm.url = checkUrl(r, fillPattern(pattern, values), f('url'));
  }
  return rpm;
}

/** Parses a listing (the wrapper or a bare getBuildrootListing answer). */
export function parseKojiBuildroot(input: string | Uint8Array, file: string, options: KojiParseOptions = {}): KojiBuildroot {
  const text = typeof input === 'string' ? input : decodeListing(input, file);
  if (text.length > KOJI_LIMITS.fileBytes) throw new BuildInfoError(`Cannot use the koji buildroot listing: ${text.length} characters, over the cap of ${KOJI_LIMITS.fileBytes}`, file);
  const r = new Reader(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BuildInfoError(`Cannot use the koji buildroot listing: it is not JSON (${(e as Error).message})`, file);
  }
  const pattern = options.packageUrl ?? DEFAULT_KOJI_PACKAGE_URL;
  let list: unknown;
  let build: KojiBuild | undefined;
  if (Array.isArray(json)) list = json;
  else {
    const o = r.object(json, 'the top level');
    for (const k of Object.keys(o)) if (k !== 'build' && k !== 'buildroot') r.fail(k, `unknown key ${JSON.stringify(k.slice(0, 80))} at the top level (build and buildroot are known)`);
    if (o['build'] !== undefined) build = parseBuild(r, r.object(o['build'], 'build'));
    list = o['buildroot'];
    if (!Array.isArray(list)) r.fail('buildroot', 'buildroot is not an array');
  }
  const entries = list as unknown[];
  if (entries.length === 0) r.fail('buildroot', 'the buildroot lists no RPM');
  if (entries.length > KOJI_LIMITS.entries) r.fail('buildroot', `the buildroot lists ${entries.length} RPMs, over the cap of ${KOJI_LIMITS.entries}`);
  const rpms: KojiRpm[] = [];
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const rpm = parseEntry(r, r.object(e, `buildroot[${i}]`), i, pattern);
    const key = `${rpm.name}.${rpm.arch}`;
    const before = seen.get(key);
    if (before !== undefined) r.fail(`buildroot[${i}]`, `buildroot[${i}] lists ${key} a second time (first at buildroot[${before}])`);
    seen.set(key, i);
    rpms.push(rpm);
  });
  return build ? { build, rpms } : { rpms };
}

export const evr = (p: { epoch: number | null; version: string; release: string }) => `${p.epoch !== null ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
/** The RPM's file name, as koji and createrepo name it. */
export const rpmFileName = (p: { name: string; version: string; release: string; arch: string }) => `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`;

/** The BuildEnv of a parsed buildroot; `build` when the file had none (from the SRPM and the published RPMs). */
export function kojiBuildEnv(root: KojiBuildroot, build: KojiBuild | undefined = root.build): BuildEnv {
  const packages: RecordedPackage[] = root.rpms.map((p) => ({ name: p.name, version: evr(p), architecture: p.arch, url: p.url }));
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(build?.defines ?? {})) settings[k] = v;
  const env: BuildEnv = {
    distribution: 'fedora',
    source: build ? { name: build.name, version: evr(build) } : { name: '(unknown)', version: '(unknown)' },
    architecture: build?.arch ?? root.rpms.find((p) => p.arch !== 'noarch')?.arch ?? 'noarch',
    packages,
    environment: build?.sourceDateEpoch !== undefined ? { SOURCE_DATE_EPOCH: String(build.sourceDateEpoch) } : {},
    settings,
    expected: [],
  };
  if (build?.buildtime !== undefined) env.buildDate = build.buildtime;
  return env;
}
