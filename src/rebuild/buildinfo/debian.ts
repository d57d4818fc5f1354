// Debian's .buildinfo (deb822, usually PGP-clearsigned) parsed into a BuildEnv:
// what dpkg-genbuildinfo recorded about a build (the source and binary versions,
// the architectures, the .debs with their digests, Build-Path, Build-Date, every
// installed package at its exact version, the environment variables). The file is
// untrusted: every field is checked against Debian policy's grammar and a length
// cap, and a field that fails is a BuildInfoError naming it. Nothing here runs a
// program; the backend passes the values it gets as program arguments only.
// The PGP signature is not verified (the file's digest is checked by whoever
// fetched it); its armour is removed and dash-escaping undone.
import { BuildInfoError, type BuildEnv, type ExpectedArtifact, type RecordedPackage } from './build-env.js';

/** Caps on what a .buildinfo may hold; generous for real files (the largest in Debian list a few thousand packages). */
export const DEBIAN_BUILDINFO_LIMITS = {
  fileBytes: 4 * 1024 * 1024,
  lineChars: 16 * 1024,
  /** A field's value, for fields other than the lists. */
  fieldChars: 4096,
  /** Installed-Build-Depends, Checksums-*, Binary, Environment. */
  listChars: 2 * 1024 * 1024,
  packages: 20_000,
  artifacts: 10_000,
  environment: 200,
  buildPathChars: 1024,
};

/** Debian policy 5.6.1: lower case letters, digits, + - . ; at least two characters, starting alphanumeric. */
export const DEBIAN_PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]{1,127}$/;
/** Debian policy 5.6.12: [epoch:]upstream_version[-debian_revision]. */
export const DEBIAN_VERSION = /^(?:[0-9]{1,9}:)?[0-9][A-Za-z0-9.+~]*(?:-[A-Za-z0-9.+~]+)*$/;
/** An architecture name (amd64, arm64, all, source, linux-any...). */
export const DEBIAN_ARCH = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A file name of the build's output: plain, one component, no leading dot. */
const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9+.~_%-]{0,254}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Characters a Build-Path may hold: what real build paths use, nothing a tool could read as an option or pattern. */
const PATH_COMPONENT = /^[A-Za-z0-9+._~@,=-]{1,255}$/;

/** True for a valid Debian version of at most 256 characters. */
export function isDebianVersion(v: string): boolean {
  return v.length <= 256 && DEBIAN_VERSION.test(v);
}

/** Removes PGP clear-signing armour; the body as it was before signing. Text without armour is returned as it is. */
export function stripClearsign(text: string, file: string): string {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (lines[i] !== '-----BEGIN PGP SIGNED MESSAGE-----') {
    if (text.includes('-----BEGIN PGP')) throw new BuildInfoError('Cannot read the .buildinfo: PGP armour in an unexpected place', file);
    return text;
  }
  i++;
  // Armour headers (Hash: ...) up to the first empty line.
  while (i < lines.length && lines[i] !== '') {
    if (!/^[A-Za-z-]+: /.test(lines[i]!)) throw new BuildInfoError('Cannot read the .buildinfo: a malformed armour header in its PGP signature', file);
    i++;
  }
  i++;
  const body: string[] = [];
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '-----BEGIN PGP SIGNATURE-----') {
      if (!lines.slice(i + 1).some((x) => x === '-----END PGP SIGNATURE-----')) throw new BuildInfoError('Cannot read the .buildinfo: its PGP signature has no end', file);
      return body.join('\n') + '\n';
    }
    if (l.startsWith('- ')) body.push(l.slice(2));
    else if (l.startsWith('-')) throw new BuildInfoError('Cannot read the .buildinfo: a line starting with "-" that is not dash-escaped inside the signed text', file);
    else body.push(l);
  }
  throw new BuildInfoError('Cannot read the .buildinfo: signed text without a PGP signature', file);
}

/** One deb822 paragraph: field name (lower case: deb822 names are case-insensitive) → value (continuation lines joined with "\n", each without its leading space). */
export function parseDeb822Paragraph(text: string, file: string): Map<string, string> {
  const fields = new Map<string, string>();
  const seen = new Set<string>();
  let current: string | undefined;
  let paragraphs = 0;
  let inParagraph = false;
  for (const line of text.split('\n')) {
    if (line.length > DEBIAN_BUILDINFO_LIMITS.lineChars) throw new BuildInfoError(`Cannot read the .buildinfo: a line of ${line.length} characters (at most ${DEBIAN_BUILDINFO_LIMITS.lineChars})`, file, current);
    if (line.trim() === '') {
      inParagraph = false;
      current = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (!inParagraph) {
      paragraphs++;
      inParagraph = true;
      if (paragraphs > 1) throw new BuildInfoError('Cannot read the .buildinfo: more than one paragraph', file);
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current === undefined) throw new BuildInfoError('Cannot read the .buildinfo: a continuation line before any field', file);
      const prev = fields.get(current.toLowerCase())!;
      const cont = line.slice(1);
      const next = prev + '\n' + (cont === '.' ? '' : cont);
      if (next.length > DEBIAN_BUILDINFO_LIMITS.listChars) throw new BuildInfoError(`Cannot read the .buildinfo: a value longer than ${DEBIAN_BUILDINFO_LIMITS.listChars} characters`, file, current);
      fields.set(current.toLowerCase(), next);
      continue;
    }
    const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,63}):(.*)$/.exec(line);
    if (!m) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(line.slice(0, 80))} is neither a field nor a continuation line`, file);
    const name = m[1]!;
    const key = name.toLowerCase();
    if (seen.has(key)) throw new BuildInfoError('Cannot read the .buildinfo: the field appears twice', file, name);
    seen.add(key);
    current = name;
    fields.set(key, m[2]!.trim());
  }
  if (paragraphs === 0) throw new BuildInfoError('Cannot read the .buildinfo: it holds no field', file);
  return fields;
}

function lines(v: string): string[] {
  return v
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** "name (= version)" or "name:arch (= version)", the form dpkg-genbuildinfo writes in Installed-Build-Depends. */
function parseInstalled(entry: string, file: string): RecordedPackage {
  const field = 'Installed-Build-Depends';
  const m = /^([^\s:(]+)(?::([^\s(]+))?\s*\(\s*=\s*([^\s)]+)\s*\)$/.exec(entry);
  if (!m) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(entry.slice(0, 120))} is not "name (= version)"`, file, field);
  const [, name, arch, version] = m as unknown as [string, string, string | undefined, string];
  if (!DEBIAN_PACKAGE_NAME.test(name)) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(name.slice(0, 130))} is not a Debian package name`, file, field);
  if (!isDebianVersion(version)) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(version.slice(0, 260))} (of ${name}) is not a Debian version`, file, field);
  if (arch !== undefined && !DEBIAN_ARCH.test(arch)) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(arch.slice(0, 70))} (of ${name}) is not an architecture name`, file, field);
  return { name, version, ...(arch !== undefined ? { architecture: arch } : {}) };
}

/** A value in double quotes with only \" escaped, as dpkg-genbuildinfo writes Environment (a backslash is otherwise itself). */
function parseEnvLine(line: string, file: string): [string, string] {
  const field = 'Environment';
  const m = /^([^=\s]+)="(.*)"$/.exec(line);
  if (!m) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(line.slice(0, 120))} is not NAME="value"`, file, field);
  const name = m[1]!;
  if (!ENV_NAME.test(name)) throw new BuildInfoError(`Cannot read the .buildinfo: ${JSON.stringify(name.slice(0, 130))} is not a variable name`, file, field);
  let value = '';
  const raw = m[2]!;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && raw[i + 1] === '"') {
      value += raw[++i];
    } else if (c === '"') {
      throw new BuildInfoError(`Cannot read the .buildinfo: an unescaped quote in the value of ${name}`, file, field);
    } else value += c;
  }
  if (value.length > DEBIAN_BUILDINFO_LIMITS.fieldChars) throw new BuildInfoError(`Cannot read the .buildinfo: the value of ${name} is longer than ${DEBIAN_BUILDINFO_LIMITS.fieldChars} characters`, file, field);
  return [name, value];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An RFC 2822 date ("Sun, 02 Jan 2022 12:00:00 +0000") as seconds since the epoch. */
export function parseRfc2822(value: string): number | undefined {
  const m = /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? ([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!);
  const [day, year, hh, mm, ss, oh, om] = [m[1], m[3], m[4], m[5], m[6] ?? '0', m[8], m[9]].map(Number) as number[];
  if (month < 0 || day! < 1 || day! > 31 || hh! > 23 || mm! > 59 || ss! > 60 || om! > 59) return undefined;
  const utc = Date.UTC(year!, month, day!, hh!, mm!, ss!) / 1000;
  const offset = (oh! * 60 + om!) * 60 * (m[7] === '-' ? -1 : 1);
  return utc - offset;
}

/** Checks a Build-Path: absolute, normalised, made of plain components. */
export function checkBuildPath(value: string, file: string): string {
  const field = 'Build-Path';
  if (value.length > DEBIAN_BUILDINFO_LIMITS.buildPathChars) throw new BuildInfoError(`Cannot use the .buildinfo: the build path is longer than ${DEBIAN_BUILDINFO_LIMITS.buildPathChars} characters`, file, field);
  if (!value.startsWith('/')) throw new BuildInfoError(`Cannot use the .buildinfo: the build path ${JSON.stringify(value)} is not absolute`, file, field);
  const parts = value.slice(1).split('/');
  if (parts.some((p) => p === '..' || p === '.')) throw new BuildInfoError(`Cannot use the .buildinfo: the build path ${JSON.stringify(value)} has a "." or ".." component`, file, field);
  if (parts.some((p) => !PATH_COMPONENT.test(p))) throw new BuildInfoError(`Cannot use the .buildinfo: the build path ${JSON.stringify(value)} has an empty component or characters outside A-Z a-z 0-9 + . _ ~ @ , = -`, file, field);
  if (parts.length < 2) throw new BuildInfoError(`Cannot use the .buildinfo: the build path ${JSON.stringify(value)} is a top-level directory (the .debs are written to its parent)`, file, field);
  if (['proc', 'sys', 'dev', 'srv'].includes(parts[0]!)) throw new BuildInfoError(`Cannot use the .buildinfo: the build path ${JSON.stringify(value)} is under /${parts[0]}, which the rebuild needs for itself`, file, field);
  if (parts.some((p) => p.startsWith('-'))) throw new BuildInfoError(`Cannot use the .buildinfo: the build path ${JSON.stringify(value)} has a component starting with "-"`, file, field);
  return value;
}

/** Decodes the bytes of a .buildinfo: UTF-8, no control characters other than tab and newline. */
export function decodeBuildinfo(bytes: Uint8Array, file: string): string {
  if (bytes.length > DEBIAN_BUILDINFO_LIMITS.fileBytes) throw new BuildInfoError(`Cannot read the .buildinfo: ${bytes.length} bytes (at most ${DEBIAN_BUILDINFO_LIMITS.fileBytes})`, file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BuildInfoError('Cannot read the .buildinfo: it is not valid UTF-8', file);
  }
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029\ufeff]/.exec(text);
  if (bad) {
    const before = text.slice(0, bad.index);
    const lineNo = before.split('\n').length;
    const fieldMatch = /(?:^|\n)([A-Za-z0-9-]+):[^\n]*(?:\n[ \t][^\n]*)*$/.exec(before);
    throw new BuildInfoError(`Cannot read the .buildinfo: control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} on line ${lineNo}`, file, fieldMatch?.[1]);
  }
  return text;
}

/** Parses the bytes of a Debian .buildinfo; `file` names it in errors. */
export function parseDebianBuildinfo(bytes: Uint8Array, file: string): BuildEnv {
  const fields = parseDeb822Paragraph(stripClearsign(decodeBuildinfo(bytes, file), file), file);
  const get = (name: string) => {
    const v = fields.get(name.toLowerCase());
    if (v === undefined || v === '') throw new BuildInfoError('Cannot use the .buildinfo: a required field is missing or empty', file, name);
    return v;
  };
  const opt = (name: string) => fields.get(name.toLowerCase());
  const short = (name: string, v: string) => {
    if (v.length > DEBIAN_BUILDINFO_LIMITS.fieldChars) throw new BuildInfoError(`Cannot read the .buildinfo: a value of ${v.length} characters (at most ${DEBIAN_BUILDINFO_LIMITS.fieldChars})`, file, name);
    if (v.includes('\n')) throw new BuildInfoError('Cannot read the .buildinfo: this field is a single line', file, name);
    return v;
  };
  // Fields that are one line; the others (lists, Binary-Only-Changes) may span lines up to the list cap.
  for (const name of ['Format', 'Source', 'Version', 'Architecture', 'Build-Origin', 'Build-Architecture', 'Build-Date', 'Build-Path', 'Build-Kernel-Version']) {
    const v = opt(name);
    if (v !== undefined) short(name, v);
  }

  const format = opt('Format');
  if (format !== undefined && !/^1\.\d+$/.test(format)) throw new BuildInfoError(`Cannot use the .buildinfo: format ${JSON.stringify(format)} is not 1.x`, file, 'Format');

  // Source: name, or "name (version)" when the binaries' version differs (binNMU).
  const sourceField = get('Source');
  const sm = /^(\S+)(?:\s+\((\S+)\))?$/.exec(sourceField);
  if (!sm || !DEBIAN_PACKAGE_NAME.test(sm[1]!)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(sourceField.slice(0, 130))} is not a source package name with an optional "(version)"`, file, 'Source');
  const version = get('Version');
  if (!isDebianVersion(version)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(version.slice(0, 260))} is not a Debian version`, file, 'Version');
  const sourceVersion = sm[2] ?? version;
  if (!isDebianVersion(sourceVersion)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(sourceVersion.slice(0, 260))} is not a Debian version`, file, 'Source');

  const archs = get('Architecture').split(/\s+/);
  for (const a of archs) if (!DEBIAN_ARCH.test(a)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(a.slice(0, 70))} is not an architecture name`, file, 'Architecture');
  const buildArch = opt('Build-Architecture') ?? archs.find((a) => a !== 'all' && a !== 'source');
  if (buildArch === undefined) throw new BuildInfoError('Cannot use the .buildinfo: no Build-Architecture, and Architecture names no machine architecture', file, 'Build-Architecture');
  if (!DEBIAN_ARCH.test(buildArch) || buildArch === 'all' || buildArch === 'source') throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(buildArch.slice(0, 70))} is not a machine architecture`, file, 'Build-Architecture');

  const binaries = (opt('Binary') ?? '').split(/\s+/).filter(Boolean);
  for (const b of binaries) if (!DEBIAN_PACKAGE_NAME.test(b)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(b.slice(0, 130))} is not a package name`, file, 'Binary');

  const expected: ExpectedArtifact[] = [];
  const seenNames = new Set<string>();
  for (const l of lines(get('Checksums-Sha256'))) {
    const field = 'Checksums-Sha256';
    const m = /^([0-9a-f]{64})\s+(\d{1,15})\s+(\S+)$/.exec(l);
    if (!m) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(l.slice(0, 120))} is not "sha256 size name"`, file, field);
    const name = m[3]!;
    if (!ARTIFACT_NAME.test(name) || name.includes('..')) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(name.slice(0, 260))} is not a plain file name`, file, field);
    if (seenNames.has(name)) throw new BuildInfoError(`Cannot use the .buildinfo: ${name} is listed twice`, file, field);
    seenNames.add(name);
    if (expected.length >= DEBIAN_BUILDINFO_LIMITS.artifacts) throw new BuildInfoError(`Cannot use the .buildinfo: more than ${DEBIAN_BUILDINFO_LIMITS.artifacts} files`, file, field);
    expected.push({ name, sha256: m[1]!, size: Number(m[2]) });
  }

  const packages: RecordedPackage[] = [];
  const ibd = opt('Installed-Build-Depends');
  if (ibd !== undefined) {
    const entries = ibd
      .split(/,\s*/)
      .map((e) => e.replace(/\s+/g, ' ').trim())
      .filter((e) => e !== '');
    if (entries.length > DEBIAN_BUILDINFO_LIMITS.packages) throw new BuildInfoError(`Cannot use the .buildinfo: more than ${DEBIAN_BUILDINFO_LIMITS.packages} packages`, file, 'Installed-Build-Depends');
    const seen = new Map<string, string>();
    for (const e of entries) {
      const p = parseInstalled(e, file);
      const key = `${p.name}:${p.architecture ?? ''}`;
      if (seen.has(key)) throw new BuildInfoError(`Cannot use the .buildinfo: ${p.name}${p.architecture ? `:${p.architecture}` : ''} is listed twice`, file, 'Installed-Build-Depends');
      seen.set(key, p.version);
      packages.push(p);
    }
  }

  const environment: Record<string, string> = Object.create(null) as Record<string, string>;
  const envField = opt('Environment');
  if (envField !== undefined) {
    const ls = lines(envField);
    if (ls.length > DEBIAN_BUILDINFO_LIMITS.environment) throw new BuildInfoError(`Cannot use the .buildinfo: more than ${DEBIAN_BUILDINFO_LIMITS.environment} variables`, file, 'Environment');
    for (const l of ls) {
      const [k, v] = parseEnvLine(l, file);
      if (Object.prototype.hasOwnProperty.call(environment, k)) throw new BuildInfoError(`Cannot use the .buildinfo: ${k} is set twice`, file, 'Environment');
      environment[k] = v;
    }
  }
  if (environment['SOURCE_DATE_EPOCH'] !== undefined && !/^\d{1,12}$/.test(environment['SOURCE_DATE_EPOCH'])) throw new BuildInfoError(`Cannot use the .buildinfo: SOURCE_DATE_EPOCH ${JSON.stringify(environment['SOURCE_DATE_EPOCH'])} is not a whole number of seconds`, file, 'Environment');

  const settings: Record<string, string | string[]> = {};
  const origin = opt('Build-Origin');
  if (origin !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,63}$/.test(origin)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(origin.slice(0, 70))} is not a vendor name`, file, 'Build-Origin');
    settings['Build-Origin'] = origin;
  }
  settings['Architecture'] = archs;
  /** The binaries' version (differs from the source's for a binNMU). */
  settings['Version'] = version;
  if (binaries.length) settings['Binary'] = binaries;
  const kernel = opt('Build-Kernel-Version');
  if (kernel !== undefined) settings['Build-Kernel-Version'] = kernel;
  const tainted = opt('Build-Tainted-By');
  if (tainted !== undefined) {
    const t = tainted.split(/\s+/).filter(Boolean);
    for (const x of t) if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(x)) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(x.slice(0, 70))} is not a taint name`, file, 'Build-Tainted-By');
    settings['Build-Tainted-By'] = t;
  }

  let buildDate: number | undefined;
  const date = opt('Build-Date');
  if (date !== undefined) {
    buildDate = parseRfc2822(date);
    if (buildDate === undefined) throw new BuildInfoError(`Cannot use the .buildinfo: ${JSON.stringify(date)} is not an RFC 2822 date`, file, 'Build-Date');
  }
  const buildPathField = opt('Build-Path');
  const buildPath = buildPathField !== undefined ? checkBuildPath(buildPathField, file) : undefined;

  return {
    distribution: 'debian',
    source: { name: sm[1]!, version: sourceVersion },
    architecture: buildArch,
    packages,
    ...(buildPath !== undefined ? { buildPath } : {}),
    environment: { ...environment },
    settings,
    ...(buildDate !== undefined ? { buildDate } : {}),
    expected,
  };
}
