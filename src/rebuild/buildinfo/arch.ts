// Arch Linux's .BUILDINFO, the file makepkg writes into every package: the
// package's name and full version, the PKGBUILD's SHA-256, the packager, the
// build date (SOURCE_DATE_EPOCH), the directories it was built in, makepkg's
// BUILDENV and OPTIONS, and every package installed in the build root
// (`installed = name-version-arch`). Parsed into the shape every distribution
// shares (BuildEnv), with each installed package resolved to the URL it would be
// fetched from (archive.archlinux.org's layout by default).
//
// The file comes from a published package, so from anyone: every field is
// checked against Arch's rules and tighter ones where the value reaches a path,
// an environment variable or makepkg.conf (names, versions, absolute paths
// without "." or "..", lengths, no control characters, valid UTF-8). A field that
// fails is a BuildInfoError naming it; nothing is run with a file that fails.
import type { BuildEnv, RecordedPackage } from './build-env.js';
import { BuildInfoError } from './build-env.js';
import { capture } from '../capture.js';
import { which } from '../which.js';

/** archive.archlinux.org's layout: packages/<first letter>/<name>/<name>-<version>-<arch>.pkg.tar.zst. */
export const ARCH_ARCHIVE_PATTERN = 'https://archive.archlinux.org/packages/{first}/{name}/{name}-{version}-{arch}.pkg.tar.zst';

/** Largest .BUILDINFO read, in bytes (Arch's biggest are a few hundred KiB). */
export const MAX_BUILDINFO_BYTES = 1 << 20;
/** Most `installed` entries accepted. */
export const MAX_INSTALLED = 20_000;
const MAX_LINE = 8192;
const MAX_PATH = 1024;
const MAX_TEXT = 512;

export interface ArchInstalled {
  name: string;
  /** epoch:pkgver-pkgrel */
  version: string;
  arch: string;
  /** The archive URL pattern filled in. */
  url: string;
}

export interface ArchBuildInfo {
  format: number;
  pkgname: string;
  pkgbase: string;
  /** epoch:pkgver-pkgrel, as makepkg writes it (no epoch when it is 0). */
  pkgver: string;
  pkgarch: string;
  pkgbuild_sha256sum?: string;
  packager?: string;
  builddate: number;
  builddir: string;
  startdir?: string;
  buildtool?: string;
  buildtoolver?: string;
  buildenv: string[];
  options: string[];
  installed: ArchInstalled[];
}

export interface ArchParseOptions {
  /** URL pattern for installed packages: {first}, {name}, {version}, {arch} are replaced; default ARCH_ARCHIVE_PATTERN. */
  archive?: string;
}

// Arch's rules (makepkg's lint_pkgname, lint_pkgver, lint_pkgrel, lint_epoch), and
// for pkgver a tighter set than "no ':', '/', '-' or white space": letters, digits
// and . _ + ~ only, so that a version can never carry shell or path syntax.
const NAME = /^[A-Za-z0-9@_+][A-Za-z0-9@._+-]{0,127}$/;
const PKGVER = /^[A-Za-z0-9._+~]{1,128}$/;
const PKGREL = /^[0-9]{1,9}(\.[0-9]{1,9})?$/;
const EPOCH = /^[0-9]{1,9}$/;
const ARCH = /^[A-Za-z0-9_]{1,32}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BUILDTOOL = /^[A-Za-z0-9@_+][A-Za-z0-9@._+-]{0,63}$/;
const BUILDTOOLVER = /^[A-Za-z0-9._+~:-]{1,64}$/;
/** One BUILDENV or OPTIONS word: makepkg's are lower-case words, "!" negating. */
const SETTING = /^!?[A-Za-z0-9_-]{1,64}$/;
/** Characters a recorded directory may have: it becomes BUILDDIR and a directory reprove creates. */
const PATH_CHARS = /^\/[A-Za-z0-9._+@~/-]*$/;
const DIGITS = /^[0-9]{1,15}$/;

const SINGLE = ['format', 'pkgname', 'pkgbase', 'pkgver', 'pkgarch', 'pkgbuild_sha256sum', 'packager', 'builddate', 'builddir', 'startdir', 'buildtool', 'buildtoolver'] as const;
const LISTS = ['buildenv', 'options', 'installed'] as const;
const REQUIRED = ['pkgname', 'pkgbase', 'pkgver', 'pkgarch', 'builddate', 'builddir'] as const;

type Single = (typeof SINGLE)[number];

/** Control characters other than the line feed that ends each line (and a carriage return before it). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** Checks one version `[epoch:]pkgver-pkgrel`; the reason it is not one, or undefined. */
export function badArchVersion(v: string): string | undefined {
  const dash = v.lastIndexOf('-');
  if (dash < 0) return 'has no "-pkgrel"';
  const rel = v.slice(dash + 1);
  let ver = v.slice(0, dash);
  if (!PKGREL.test(rel)) return `pkgrel ${JSON.stringify(rel)} is not a number`;
  const colon = ver.indexOf(':');
  if (colon >= 0) {
    if (!EPOCH.test(ver.slice(0, colon))) return `epoch ${JSON.stringify(ver.slice(0, colon))} is not a number`;
    ver = ver.slice(colon + 1);
  }
  if (!PKGVER.test(ver)) return `pkgver ${JSON.stringify(ver.slice(0, 64))} has characters other than letters, digits and . _ + ~ (or is empty or too long)`;
  return undefined;
}

/** Why a recorded directory cannot be used, or undefined. */
export function badRecordedPath(p: string): string | undefined {
  if (p.length > MAX_PATH) return `is longer than ${MAX_PATH} characters`;
  if (!p.startsWith('/')) return 'is not an absolute path';
  if (!PATH_CHARS.test(p)) return 'has characters other than letters, digits, "/" and . _ + @ ~ -';
  const parts = p.split('/').slice(1);
  if (parts.includes('..')) return 'has a ".." component';
  if (parts.includes('.')) return 'has a "." component';
  if (p !== '/' && parts.slice(0, -1).includes('')) return 'has an empty component ("//")';
  return undefined;
}

/** The pattern filled in for one package; each value is percent-encoded but for the characters Arch's file names use. */
export function archiveUrl(pattern: string, name: string, version: string, arch: string): string {
  const enc = (s: string) => s.replace(/[^A-Za-z0-9._~:@+-]/g, (c) => encodeURIComponent(c));
  return pattern.replaceAll('{first}', enc(name[0]!)).replaceAll('{name}', enc(name)).replaceAll('{version}', enc(version)).replaceAll('{arch}', enc(arch));
}

/** Why an archive URL pattern cannot be used, or undefined. */
export function badArchivePattern(pattern: string): string | undefined {
  if (pattern.length > 2048) return 'is longer than 2048 characters';
  if (!/^(https?|file):\/\//.test(pattern)) return 'is not an http(s):// or file:// URL';
  if (!pattern.includes('{name}') || !pattern.includes('{version}')) return 'has no {name} or no {version}';
  if (CONTROL.test(pattern) || /\s/.test(pattern)) return 'has white space or control characters';
  return undefined;
}

/** Parses the text (or bytes) of a .BUILDINFO; `file` names it in errors. Throws BuildInfoError. */
export function parseArchBuildInfo(data: string | Buffer, file: string, options: ArchParseOptions = {}): ArchBuildInfo {
  const fail = (message: string, field?: string): never => {
    throw new BuildInfoError(message, file, field);
  };
  const pattern = options.archive ?? ARCH_ARCHIVE_PATTERN;
  const badPattern = badArchivePattern(pattern);
  if (badPattern) fail(`Cannot use the archive URL pattern ${JSON.stringify(pattern.slice(0, 200))}: it ${badPattern}`);

  let text: string;
  if (typeof data === 'string') text = data;
  else {
    if (data.length > MAX_BUILDINFO_BYTES) fail(`Cannot read the .BUILDINFO: it is larger than ${MAX_BUILDINFO_BYTES} bytes`);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      // Say which line, so the field can be named.
      const lines = data.toString('latin1').split('\n');
      let offset = 0;
      for (const line of lines) {
        const bytes = data.subarray(offset, offset + line.length);
        offset += line.length + 1;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          const key = /^([a-z_]{1,32}) = /.exec(line)?.[1];
          fail('Cannot read the .BUILDINFO: it is not valid UTF-8', key);
        }
      }
      fail('Cannot read the .BUILDINFO: it is not valid UTF-8');
    }
  }
  if (text!.length > MAX_BUILDINFO_BYTES) fail(`Cannot read the .BUILDINFO: it is larger than ${MAX_BUILDINFO_BYTES} bytes`);

  const single = new Map<Single, string>();
  const lists: Record<(typeof LISTS)[number], string[]> = { buildenv: [], options: [], installed: [] };
  const lines = text!.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_0-9]{1,64}) = (.*)$/s.exec(line);
    if (!m) fail(`Cannot read the .BUILDINFO line ${i + 1}: ${JSON.stringify(line.slice(0, 80))} is not "key = value"`);
    const [, key, value] = m as unknown as [string, string, string];
    if (line.length > MAX_LINE) fail(`Cannot use the .BUILDINFO line ${i + 1}: it is longer than ${MAX_LINE} characters`, key);
    if (CONTROL.test(value)) fail(`Cannot use the .BUILDINFO line ${i + 1}: the value has control characters`, key);
    if ((LISTS as readonly string[]).includes(key)) {
      const list = lists[key as (typeof LISTS)[number]];
      if (list.length >= MAX_INSTALLED) fail(`Cannot use the .BUILDINFO: more than ${MAX_INSTALLED} ${key} entries`, key);
      // makepkg writes "key = " for an empty array: no entry.
      if (value !== '') list.push(value);
    } else if ((SINGLE as readonly string[]).includes(key)) {
      if (single.has(key as Single)) fail(`Cannot use the .BUILDINFO: ${key} appears twice (line ${i + 1})`, key);
      single.set(key as Single, value);
    }
    // Other keys (a later format's) are not used; their lines were checked all the same.
  }
  for (const key of REQUIRED) if (!single.get(key)) fail(`Cannot use the .BUILDINFO: ${key} is missing or empty`, key);

  const get = (key: Single) => single.get(key);
  const check = (key: Single, ok: (v: string) => string | undefined) => {
    const v = get(key);
    if (v === undefined || (v === '' && !(REQUIRED as readonly string[]).includes(key))) return undefined;
    const why = ok(v);
    if (why) fail(`Cannot use ${key} ${JSON.stringify(v.slice(0, 100))}${v.length > 100 ? '...' : ''}: it ${why}`, key);
    return v;
  };
  const re = (r: RegExp, what: string) => (v: string) => (r.test(v) ? undefined : what);

  const format = check('format', re(/^[0-9]{1,3}$/, 'is not a format number')) ?? '1';
  const pkgname = check('pkgname', re(NAME, "is not an Arch package name (letters, digits and @ . _ + -, not starting with - or ., at most 128)"))!;
  const pkgbase = check('pkgbase', re(NAME, "is not an Arch package name (letters, digits and @ . _ + -, not starting with - or ., at most 128)"))!;
  const pkgver = check('pkgver', badArchVersion)!;
  const pkgarch = check('pkgarch', re(ARCH, 'is not an architecture name (letters, digits, _)'))!;
  const sum = check('pkgbuild_sha256sum', re(SHA256, 'is not a lower-case hex SHA-256'));
  const packager = check('packager', (v) => (v.length > MAX_TEXT ? `is longer than ${MAX_TEXT} characters` : undefined));
  const builddate = check('builddate', re(DIGITS, 'is not a whole number of seconds'))!;
  const builddir = check('builddir', badRecordedPath)!;
  const startdir = check('startdir', badRecordedPath);
  const buildtool = check('buildtool', re(BUILDTOOL, 'is not a program name'));
  const buildtoolver = check('buildtoolver', re(BUILDTOOLVER, 'is not a version (letters, digits and . _ + ~ : -, at most 64)'));

  for (const key of ['buildenv', 'options'] as const)
    for (const v of lists[key]) if (!SETTING.test(v)) fail(`Cannot use ${key} entry ${JSON.stringify(v.slice(0, 100))}: it is not a makepkg setting word (letters, digits, _ and -, optionally after "!")`, key);

  const installed: ArchInstalled[] = lists.installed.map((entry) => {
    const bad = (why: string): never => fail(`Cannot use installed entry ${JSON.stringify(entry.slice(0, 100))}: ${why}`, 'installed');
    // name-[epoch:]pkgver-pkgrel-arch: the last three "-" separate the parts (names may contain "-", versions not).
    const parts = entry.split('-');
    if (parts.length < 4) bad('it is not name-version-pkgrel-arch');
    const arch = parts.pop()!;
    const rel = parts.pop()!;
    const ver = parts.pop()!;
    const name = parts.join('-');
    if (!NAME.test(name)) bad(`${JSON.stringify(name.slice(0, 100))} is not an Arch package name`);
    const version = `${ver}-${rel}`;
    const whyVersion = badArchVersion(version);
    if (whyVersion) bad(`its version ${whyVersion}`);
    if (!ARCH.test(arch)) bad(`${JSON.stringify(arch.slice(0, 40))} is not an architecture name`);
    return { name, version, arch, url: archiveUrl(pattern, name, version, arch) };
  });

  return {
    format: Number(format),
    pkgname,
    pkgbase,
    pkgver,
    pkgarch,
    ...(sum ? { pkgbuild_sha256sum: sum } : {}),
    ...(packager !== undefined ? { packager } : {}),
    builddate: Number(builddate),
    builddir,
    ...(startdir ? { startdir } : {}),
    ...(buildtool ? { buildtool } : {}),
    ...(buildtoolver ? { buildtoolver } : {}),
    buildenv: lists.buildenv,
    options: lists.options,
    installed,
  };
}

/** The one shape every distribution's build information comes in. `published` names the package file the .BUILDINFO came from. */
export function archBuildEnv(info: ArchBuildInfo, published?: string): BuildEnv {
  const packages: RecordedPackage[] = info.installed.map((p) => ({ name: p.name, version: p.version, architecture: p.arch, url: p.url }));
  const environment: Record<string, string> = { SOURCE_DATE_EPOCH: String(info.builddate) };
  if (info.packager !== undefined) environment['PACKAGER'] = info.packager;
  if (info.buildtool) environment['BUILDTOOL'] = info.buildtool;
  if (info.buildtoolver) environment['BUILDTOOLVER'] = info.buildtoolver;
  const settings: Record<string, string | string[]> = {
    format: String(info.format),
    pkgname: info.pkgname,
    pkgbase: info.pkgbase,
    pkgver: info.pkgver,
    pkgarch: info.pkgarch,
    builddir: info.builddir,
    buildenv: info.buildenv,
    options: info.options,
  };
  for (const k of ['pkgbuild_sha256sum', 'packager', 'startdir', 'buildtool', 'buildtoolver'] as const) if (info[k] !== undefined) settings[k] = info[k]!;
  return {
    distribution: 'archlinux',
    source: { name: info.pkgbase, version: info.pkgver },
    architecture: info.pkgarch,
    packages,
    buildPath: info.builddir,
    environment,
    settings,
    buildDate: info.builddate,
    expected: [{ name: published ? published.slice(published.lastIndexOf('/') + 1) : `${info.pkgname}-${info.pkgver}-${info.pkgarch}` }],
  };
}

export interface ReadPackageOptions extends ArchParseOptions {
  signal?: AbortSignal;
  /** How long bsdtar may take to reach the .BUILDINFO, in milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** Reads and parses the .BUILDINFO inside a .pkg.tar.{zst,xz,gz,bz2} with bsdtar. Throws BuildInfoError. */
export async function readArchBuildInfo(pkgPath: string, options: ReadPackageOptions = {}): Promise<ArchBuildInfo> {
  const file = `${pkgPath.slice(pkgPath.lastIndexOf('/') + 1)}/.BUILDINFO`;
  const bsdtar = which('bsdtar');
  if (!bsdtar) throw new Error(`Cannot read the .BUILDINFO of ${pkgPath}: bsdtar is not installed`);
  // -q: stop at the first .BUILDINFO (makepkg writes it first), so a huge payload is never unpacked.
  const r = await capture({
    argv: [bsdtar, '-x', '-O', '-q', '-f', pkgPath, '.BUILDINFO'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' },
    timeoutMs: options.timeoutMs ?? 60_000,
    maxBytes: MAX_BUILDINFO_BYTES,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (r.stopped === 'overflow') throw new BuildInfoError(`Cannot read the .BUILDINFO: it is larger than ${MAX_BUILDINFO_BYTES} bytes`, file);
  if (r.stopped === 'timeout') throw new BuildInfoError('Cannot read the .BUILDINFO: bsdtar did not reach it within its time limit', file);
  if (r.stopped === 'aborted') throw new Error(`Cannot read the .BUILDINFO of ${pkgPath}: aborted`);
  if (r.exitCode !== 0 || r.stdout.length === 0)
    throw new BuildInfoError(`Cannot read the .BUILDINFO: the package has none or is not a readable archive${r.stderr.trim() ? ` (bsdtar: ${r.stderr.trim().split('\n')[0]})` : ''}`, file);
  return parseArchBuildInfo(r.stdout, file, options);
}
