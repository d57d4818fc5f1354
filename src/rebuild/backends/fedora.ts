// The `fedora` backend: what the Fedora rebuilder (fedora-repro-build) does for a
// koji build. From the build's buildroot listing (rebuild/buildinfo/koji.ts) it
// recreates the buildroot: every listed RPM fetched and checked (SHA-256 when the
// listing has it, else koji's payloadhash, the MD5 of header and payload, and
// always the name, version, release and arch in the RPM's own header), a
// repository made from exactly those RPMs with `createrepo_c`, its comps
// `buildsys-build` group listing them all, and a mock configuration that includes
// the release's configuration (fedora-41-x86_64) with that repository as its only
// one, `use_bootstrap` off, and the original build's defines (_buildhost,
// distribution, packager, vendor, bugurl). mock then rebuilds the SRPM there.
// Where mock or the release's configuration is missing (a Debian worker: no Fedora
// repository to make a bootstrap from), the SRPM is rebuilt with `rpmbuild
// --rebuild` on the host with the same defines and times, and the result says the
// buildroot was not recreated.
//
// Times: rpm up to 4.19 takes BUILDTIME from SOURCE_DATE_EPOCH only
// (%use_source_date_epoch_as_buildtime), the same value it clamps file mtimes to.
// SOURCE_DATE_EPOCH is the listing's, else BUILDTIME when the published RPM's
// newest file mtime is its BUILDTIME (built with %use_source_date_epoch_as_buildtime),
// else left to rpm's %source_date_epoch_from_changelog as Fedora builds; BUILDTIME is
// the listing's, else the published RPM's. BUILDTIME is reproduced when the two
// agree; otherwise the mtimes (the payload) win and the result says BUILDTIME could
// not be set.
//
// The job's recipe: { srpm: { url, sha256 }, config: "fedora-41-x86_64",
// defines?: { name: value } } (the operator's defines win over the listing's); the
// job's buildinfo is the listing. Values from the listing reach rpm as macro
// bodies with % doubled (no macro or %(shell) expansion), and the mock
// configuration as escaped Python literals; nothing goes through a shell.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { artifactFromPath, OpenFiles } from '../../compare/artifact.js';
import { readRpm, tagValues, type RpmPackage } from '../../formats/rpm-parser.js';
import { FetchError } from '../../worker/fetch.js';
import { failedBeforeBuild, type Backend, type BuildEnvironment, type BuildLimits, type BuildOutcome, type BuildRequest, type InputFetcher } from '../backend.js';
import { BuildInfoError } from '../buildinfo/build-env.js';
import { evr, KOJI_LIMITS, MACRO_NAME, parseKojiBuildroot, rpmFileName, type KojiBuild, type KojiBuildroot, type KojiRpm } from '../buildinfo/koji.js';
import { LogSink } from '../log-sink.js';
import { runSandboxed, SandboxError, type SandboxResult } from '../sandbox.js';
import { which } from '../which.js';

export interface FedoraRecipe {
  srpm: { url: string; sha256: string };
  /** The release's mock configuration, e.g. fedora-41-x86_64. */
  config: string;
  defines?: Record<string, string>;
}

export interface FedoraOptions {
  /** Package URL pattern for buildroot RPMs without a URL of their own (default kojipkgs). */
  packageUrl?: string;
  /** Where the release configurations live (default /etc/mock). */
  mockConfigDir?: string;
  /** 'auto' (default): mock when it and the release's configuration are installed; false: always rpmbuild on the host. */
  mock?: 'auto' | false;
  /** Whether buildroot RPMs without a SHA-256 may be read from file:// URLs. */
  allowFileUrls?: boolean;
  /** Largest buildroot RPM fetched, bytes. */
  maxFetchBytes?: number;
}

const CONFIG_NAME = /^[a-z0-9][a-z0-9._+-]{0,99}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** The defines the Fedora rebuilder repeats, read from the published RPM when the listing does not record them. */
const HEADER_DEFINES: [tag: string, macro: string][] = [
  ['BUILDHOST', '_buildhost'],
  ['DISTRIBUTION', 'distribution'],
  ['PACKAGER', 'packager'],
  ['VENDOR', 'vendor'],
  ['BUGURL', 'bugurl'],
];

/** The recipe, or what is wrong with it. */
export function parseFedoraRecipe(value: unknown): FedoraRecipe | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the recipe is not an object';
  const r = value as Record<string, unknown>;
  const s = r['srpm'] as Record<string, unknown> | null | undefined;
  if (typeof s !== 'object' || s === null) return 'recipe.srpm is not an object';
  if (typeof s['url'] !== 'string' || !s['url']) return 'recipe.srpm.url is not a string';
  if (typeof s['sha256'] !== 'string' || !SHA256.test(s['sha256'])) return 'recipe.srpm.sha256 is not a lower-case hex SHA-256';
  if (typeof r['config'] !== 'string' || !CONFIG_NAME.test(r['config'])) return 'recipe.config is not a mock configuration name like fedora-41-x86_64';
  const out: FedoraRecipe = { srpm: { url: s['url'], sha256: s['sha256'] }, config: r['config'] };
  if (r['defines'] !== undefined) {
    const d = r['defines'] as Record<string, unknown> | null;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'recipe.defines is not an object';
    out.defines = {};
    for (const [k, v] of Object.entries(d)) {
      if (!MACRO_NAME.test(k)) return `recipe.defines has the key ${JSON.stringify(k.slice(0, 80))}, not an rpm macro name`;
      const why = badDefineValue(v);
      if (why) return `recipe.defines.${k} ${why}`;
      out.defines[k] = v as string;
    }
  }
  return out;
}

/** Why a define's value cannot be used, or undefined. */
export function badDefineValue(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'is not a string';
  if (v.length > KOJI_LIMITS.defineValue) return `is over ${KOJI_LIMITS.defineValue} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v)) return 'holds a control character';
  if (/\{[{%#]|[}%#]\}/.test(v)) return 'holds template syntax ({{, {%, {#)';
  return undefined;
}

/** A macro body that rpm expands to exactly `value`: % doubled, so no macro or %(shell) in it runs. */
export const macroBody = (value: string) => value.replace(/%/g, '%%');

/** A Python string literal for `s` that only printable ASCII makes up (everything else escaped). */
export function pyString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (/[A-Za-z0-9 ._:/@+=,()<>!?*&^$~;|%[\]-]/.test(ch)) out += ch;
    else if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + "'";
}

/** What the rebuild sets for time: SOURCE_DATE_EPOCH, the rpm macros, and what it reproduces or cannot. */
export function timePlan(build: KojiBuild): { env: Record<string, string>; macros: Record<string, string>; reproduced: string[]; notReproduced: string[] } {
  const { buildtime, sourceDateEpoch: sde } = build;
  const macros: Record<string, string> = { clamp_mtime_to_source_date_epoch: '1' };
  const from = build.sourceDateEpochFrom ? ` (from ${build.sourceDateEpochFrom})` : '';
  if (sde === undefined) {
    // As Fedora builds: rpm takes SOURCE_DATE_EPOCH from the changelog, as the original did.
    macros['source_date_epoch_from_changelog'] = '1';
    return {
      env: {},
      macros,
      reproduced: [],
      notReproduced: [
        `SOURCE_DATE_EPOCH of the original build: not recorded; taken from the changelog (%source_date_epoch_from_changelog, as Fedora builds)`,
        buildtime === undefined ? 'BUILDTIME of the original build: not recorded; it is the time of the rebuild' : `BUILDTIME ${buildtime}: rpm takes BUILDTIME only from SOURCE_DATE_EPOCH, which is left to the changelog for the file mtimes`,
      ],
    };
  }
  if (buildtime !== undefined && sde === buildtime) {
    macros['use_source_date_epoch_as_buildtime'] = '1';
    return { env: { SOURCE_DATE_EPOCH: String(sde) }, macros, reproduced: [`BUILDTIME and SOURCE_DATE_EPOCH ${sde}${from} (%use_source_date_epoch_as_buildtime, file mtimes clamped to it)`], notReproduced: [] };
  }
  return {
    env: { SOURCE_DATE_EPOCH: String(sde) },
    macros,
    reproduced: [`SOURCE_DATE_EPOCH=${sde}${from}, file mtimes clamped to it`],
    notReproduced: [
      buildtime === undefined
        ? 'BUILDTIME of the original build: not recorded; it is the time of the rebuild'
        : `BUILDTIME ${buildtime}: rpm takes BUILDTIME only from SOURCE_DATE_EPOCH, which must stay ${sde} for the file mtimes`,
    ],
  };
}

/** The comps file whose buildsys-build group installs every listed RPM. */
export function compsXml(rpms: readonly KojiRpm[]): string {
  const names = [...new Set(rpms.map((r) => r.name))].sort();
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">',
    '<comps>',
    '  <group>',
    '    <id>buildsys-build</id>',
    '    <name>Buildsystem building group</name>',
    '    <description>The buildroot of the original koji build, recreated by reprove</description>',
    '    <default>true</default>',
    '    <uservisible>false</uservisible>',
    '    <packagelist>',
    // Names match RPM_NAME: nothing in them needs XML escaping.
    ...names.map((n) => `      <packagereq type="mandatory">${n}</packagereq>`),
    '    </packagelist>',
    '  </group>',
    '</comps>',
    '',
  ].join('\n');
}

export interface MockConfigInput {
  /** Absolute path of the release's configuration. */
  include: string;
  /** The chroot's name. */
  root: string;
  /** The repository made from the buildroot's RPMs. */
  repoDir: string;
  /** rpm macros, by name without %: values as the original build had them. */
  macros: Record<string, string>;
  /** Environment variables of the build in the chroot. */
  environment: Record<string, string>;
}

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;

/** The mock configuration: the release's, with the buildroot repository as its only one. */
export function mockConfig(c: MockConfigInput): string {
  if (!SAFE_PATH.test(c.repoDir) || c.repoDir.split('/').includes('..')) throw new Error(`Cannot write a mock configuration for the repository ${JSON.stringify(c.repoDir)}: use a path of letters, digits and ._/+-`);
  const dnf = [
    '[main]',
    'keepcache=1',
    'reposdir=/dev/null',
    'gpgcheck=0',
    'assumeyes=1',
    'install_weak_deps=0',
    'best=1',
    'metadata_expire=0',
    'protected_packages=',
    '',
    '[reprove-buildroot]',
    'name=the buildroot of the original koji build',
    `baseurl=file://${c.repoDir}`,
    'enabled=1',
    'gpgcheck=0',
    'skip_if_unavailable=False',
    '',
  ].join('\n');
  const lines = [
    '# Written by reprove: the buildroot of the original koji build, and nothing else.',
    `include(${pyString(c.include)})`,
    `config_opts['root'] = ${pyString(c.root)}`,
    "config_opts['use_bootstrap'] = False",
    "config_opts['use_bootstrap_image'] = False",
    "config_opts['chroot_setup_cmd'] = 'install @buildsys-build'",
    "config_opts['package_manager'] = 'dnf'",
    `config_opts['dnf.conf'] = """\n${dnf}"""`,
    ...Object.entries(c.macros).map(([k, v]) => `config_opts['macros'][${pyString(`%${k}`)}] = ${pyString(macroBody(v))}`),
    ...Object.entries(c.environment).map(([k, v]) => `config_opts['environment'][${pyString(k)}] = ${pyString(v)}`),
    '',
  ];
  return lines.join('\n');
}

// ---- reading RPM headers

async function readPackage(path: string): Promise<RpmPackage> {
  const files = new OpenFiles();
  try {
    return await readRpm(await artifactFromPath(files, path, basename(path)));
  } finally {
    await files.closeAll();
  }
}

const one = (p: RpmPackage, tag: string) => tagValues(p.header, tag)[0];

/** The build's name, version, release and epoch from its SRPM. */
export async function buildFromSrpm(srpm: string): Promise<KojiBuild> {
  const p = await readPackage(srpm);
  if (p.header.byName.has('SOURCERPM')) throw new BuildInfoError('Cannot rebuild: this is a binary RPM, not a source RPM', srpm, 'SOURCERPM');
  const name = one(p, 'NAME');
  const version = one(p, 'VERSION');
  const release = one(p, 'RELEASE');
  if (!name || !version || !release) throw new BuildInfoError('Cannot rebuild: the SRPM has no name, version or release', srpm, 'NAME');
  const epoch = one(p, 'EPOCH');
  return { name, version, release, epoch: epoch === undefined ? null : Number(epoch), defines: {} };
}

/** Fills what the listing did not record from a published binary RPM: BUILDTIME and the defines. */
export async function completeFromPublished(build: KojiBuild, rpm: string): Promise<KojiBuild> {
  const p = await readPackage(rpm);
  const out: KojiBuild = { ...build, defines: { ...build.defines } };
  if (out.buildtime === undefined && one(p, 'BUILDTIME') !== undefined) out.buildtime = Number(one(p, 'BUILDTIME'));
  // Files clamped to BUILDTIME: the original ran with SOURCE_DATE_EPOCH = BUILDTIME (%use_source_date_epoch_as_buildtime).
  const mtimes = tagValues(p.header, 'FILEMTIMES').map(Number);
  if (out.sourceDateEpoch === undefined && out.buildtime !== undefined && mtimes.length && Math.max(...mtimes) === out.buildtime) {
    out.sourceDateEpoch = out.buildtime;
    out.sourceDateEpochFrom = 'the published RPM, whose newest file mtime is its BUILDTIME';
  }
  if (out.arch === undefined && one(p, 'ARCH') !== undefined && one(p, 'ARCH') !== 'noarch') out.arch = one(p, 'ARCH')!;
  for (const [tag, macro] of HEADER_DEFINES) {
    const v = one(p, tag);
    if (v === undefined || macro in out.defines) continue;
    const why = badDefineValue(v);
    if (why) throw new BuildInfoError(`Cannot repeat the original build's ${tag}: it ${why}`, rpm, tag);
    out.defines[macro] = v;
  }
  return out;
}

// ---- the buildroot's RPMs

export type BuildrootFetcher = (rpm: KojiRpm, dest: string) => Promise<void>;

/** Checks a fetched buildroot RPM: its own header names the listed NEVRA, and its payloadhash matches when recorded. */
export async function checkBuildrootRpm(path: string, rpm: KojiRpm): Promise<void> {
  const p = await readPackage(path);
  const got = { name: one(p, 'NAME'), epoch: one(p, 'EPOCH') ?? null, version: one(p, 'VERSION'), release: one(p, 'RELEASE'), arch: p.header.byName.has('SOURCERPM') ? one(p, 'ARCH') : 'src' };
  const want = { name: rpm.name, epoch: rpm.epoch === null ? null : String(rpm.epoch), version: rpm.version, release: rpm.release, arch: rpm.arch };
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${rpmFileName(rpm)} is not the listed package: its header says ${got.name} ${got.epoch ?? ''}${got.epoch ? ':' : ''}${got.version}-${got.release} ${got.arch}`);
  if (rpm.payloadhash) {
    const md5 = createHash('md5');
    await pipeline(createReadStream(path, { start: p.header.offset }), async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) md5.update(c);
    });
    const hex = md5.digest('hex');
    if (hex !== rpm.payloadhash) throw new Error(`${rpmFileName(rpm)}: payloadhash mismatch: koji recorded ${rpm.payloadhash}, the file's header and payload hash to ${hex}`);
  }
}

/** Fetches a URL without a known SHA-256 (checked afterwards by checkBuildrootRpm). */
async function fetchUnhashed(url: string, dest: string, what: string, o: { allowFileUrls?: boolean; maxBytes: number; signal: AbortSignal }): Promise<void> {
  const parsed = new URL(url);
  const part = `${dest}.part`;
  let source: Readable;
  if (parsed.protocol === 'file:') {
    if (!o.allowFileUrls) throw new FetchError(what, url, 'file:// URLs are not allowed here');
    const st = await stat(fileURLToPath(parsed)).catch((e: Error) => {
      throw new FetchError(what, url, e.message);
    });
    if (!st.isFile()) throw new FetchError(what, url, 'not a regular file');
    if (st.size > o.maxBytes) throw new FetchError(what, url, `${st.size} bytes, over the cap of ${o.maxBytes}`);
    source = createReadStream(fileURLToPath(parsed));
  } else if (parsed.protocol === 'https:' || parsed.protocol === 'http:') {
    const res = await fetch(parsed, { redirect: 'follow', signal: o.signal }).catch((e: Error & { cause?: Error }) => {
      throw new FetchError(what, url, e.cause?.message ?? e.message);
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new FetchError(what, url, `HTTP ${res.status} ${res.statusText}`);
    }
    source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  } else throw new FetchError(what, url, `unsupported URL scheme ${parsed.protocol}`);
  let bytes = 0;
  try {
    await pipeline(
      source,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          bytes += c.length;
          if (bytes > o.maxBytes) throw new Error(`over the cap of ${o.maxBytes} bytes`);
          yield c;
        }
      },
      createWriteStream(part, { flags: 'wx' }),
      { signal: o.signal },
    );
    await rename(part, dest);
  } catch (e) {
    await rm(part, { force: true });
    throw e instanceof FetchError ? e : new FetchError(what, url, (e as Error).message);
  }
}

/** The fetcher of buildroot RPMs: the request's (SHA-256 checked) when the listing has a SHA-256, else our own; then checkBuildrootRpm. */
export function buildrootFetcher(fetchInput: InputFetcher | undefined, o: { allowFileUrls?: boolean; maxBytes?: number; signal: AbortSignal }): BuildrootFetcher {
  return async (rpm, dest) => {
    const what = `buildroot RPM ${rpmFileName(rpm)}`;
    if (rpm.sha256 && fetchInput) await fetchInput(rpm.url, rpm.sha256, dest, what);
    else await fetchUnhashed(rpm.url, dest, what, { ...o, maxBytes: o.maxBytes ?? 4 * 1024 ** 3 });
    try {
      await checkBuildrootRpm(dest, rpm);
    } catch (e) {
      await rm(dest, { force: true });
      throw new FetchError(what, rpm.url, (e as Error).message);
    }
  };
}

export interface PreparedBuildroot {
  repoDir: string;
  configPath: string;
  config: string;
  /** Buildroot RPMs checked only by name, version, release and arch (no digest recorded). */
  unhashed: number;
}

/** Fetches and checks every listed RPM into `<workDir>/repo`, writes comps.xml, runs createrepo_c, writes `<workDir>/mock.cfg`. */
export async function prepareMockBuildroot(p: {
  root: KojiBuildroot;
  build: KojiBuild;
  config: string;
  mockConfigDir?: string;
  macros: Record<string, string>;
  environment: Record<string, string>;
  workDir: string;
  fetchRpm: BuildrootFetcher;
  log: LogSink;
  signal: AbortSignal;
  limits: BuildLimits;
}): Promise<PreparedBuildroot> {
  const repoDir = join(p.workDir, 'repo');
  await mkdir(repoDir, { recursive: true });
  let unhashed = 0;
  for (const rpm of p.root.rpms) {
    if (p.signal.aborted) throw new Error('aborted');
    await p.fetchRpm(rpm, join(repoDir, rpmFileName(rpm)));
    if (!rpm.sha256 && !rpm.payloadhash) unhashed++;
  }
  p.log.note(`buildroot: ${p.root.rpms.length} RPMs fetched and checked (${p.root.rpms.length - unhashed} by digest)`);
  await writeFile(join(repoDir, 'comps.xml'), compsXml(p.root.rpms));
  const run = await runSandboxed({
    argv: ['createrepo_c', '--groupfile', 'comps.xml', '--no-database', '.'],
    cwd: repoDir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: p.workDir, LANG: 'C.UTF-8' },
    log: p.log,
    signal: p.signal,
    ...(p.limits.timeoutMs !== undefined ? { timeoutMs: p.limits.timeoutMs } : {}),
  });
  if (run.exitCode !== 0) throw new Error(`createrepo_c failed (${run.stopped ?? (run.signal ? `signal ${run.signal}` : `exit code ${run.exitCode}`)})`);
  const hash = createHash('sha256').update(JSON.stringify(p.root.rpms.map((r) => rpmFileName(r)))).digest('hex').slice(0, 12);
  const config = mockConfig({
    include: join(p.mockConfigDir ?? '/etc/mock', `${p.config}.cfg`),
    root: `reprove-${p.build.name.slice(0, 60)}-${hash}`,
    repoDir,
    macros: p.macros,
    environment: p.environment,
  });
  const configPath = join(p.workDir, 'mock.cfg');
  await writeFile(configPath, config);
  return { repoDir, configPath, config, unhashed };
}

// ---- the rebuild

export interface RebuildParams {
  root: KojiBuildroot;
  /** The build, complete (from the listing, the SRPM and the published RPMs). */
  build: KojiBuild;
  srpm: string;
  config: string;
  /** Extra defines (the recipe's), over the build's. */
  defines?: Record<string, string>;
  outDir: string;
  workDir: string;
  log: LogSink;
  signal: AbortSignal;
  limits?: BuildLimits;
  fetchRpm: BuildrootFetcher;
  options?: FedoraOptions;
  /** Whether the SRPM mock rebuilds is an artifact too (when a .src.rpm was published). */
  keepSrpm?: boolean;
}

function runFailure(run: SandboxResult, what: string, env: BuildEnvironment): BuildOutcome | undefined {
  const base = { exitCode: run.exitCode, signal: run.signal, environment: env };
  if (run.stopped === 'aborted') return { ...base, status: 'aborted', message: `${what} stopped` };
  if (run.stopped === 'timeout') return { ...base, status: 'failed', failureClass: 'ftbfs', message: `${what} reached its time limit and was killed` };
  if (run.exitCode !== 0) return { ...base, status: 'failed', failureClass: 'ftbfs', message: `${what} ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`}` };
  return undefined;
}

/** Regular files named *.rpm below `dir` (rpmbuild's RPMS/<arch>/, mock's result dir). */
async function findRpms(dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth < 2) out.push(...(await findRpms(path, depth + 1)));
    else if (e.isFile() && e.name.endsWith('.rpm')) out.push(path);
  }
  return out.sort();
}

/** Whether mock and the release's configuration are installed, or why not. */
export function mockUsable(config: string, options: FedoraOptions = {}): true | string {
  if (options.mock === false) return 'mock is turned off';
  if (!which('mock')) return 'mock is not installed';
  if (!which('createrepo_c')) return 'createrepo_c is not installed';
  const cfg = join(options.mockConfigDir ?? '/etc/mock', `${config}.cfg`);
  if (!existsSync(cfg)) return `the release's mock configuration ${cfg} is not installed`;
  return true;
}

/** Rebuilds the SRPM in the recreated buildroot (mock) or on the host (rpmbuild); the rebuilt RPMs go to outDir. */
export async function rebuildSrpm(p: RebuildParams): Promise<BuildOutcome> {
  const nevr = `${p.build.name}-${evr(p.build)}`;
  const time = timePlan(p.build);
  const defines: Record<string, string> = { ...p.build.defines, ...(p.defines ?? {}) };
  const env: BuildEnvironment = {
    reproduced: [...Object.entries(defines).map(([k, v]) => `%${k} ${JSON.stringify(v)}`), ...time.reproduced],
    notReproduced: [...time.notReproduced],
  };
  for (const [tag, macro] of HEADER_DEFINES) if (!(macro in defines)) env.notReproduced.push(`%${macro}: the original build's ${tag} is not recorded`);
  const limits = p.limits ?? {};
  const bounds = { ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}), ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}) };
  const home = join(p.workDir, 'home');
  const tmp = join(p.workDir, 'tmp');
  for (const d of [home, tmp]) await mkdir(d, { recursive: true });
  const hostEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TMPDIR: tmp, LANG: 'C.UTF-8', TZ: 'UTC' };
  const macros = { ...defines, ...time.macros };
  const usable = mockUsable(p.config, p.options);
  try {
    if (usable === true) {
      let prepared: PreparedBuildroot;
      try {
        prepared = await prepareMockBuildroot({ root: p.root, build: p.build, config: p.config, macros, environment: time.env, workDir: p.workDir, fetchRpm: p.fetchRpm, log: p.log, signal: p.signal, limits, ...(p.options?.mockConfigDir ? { mockConfigDir: p.options.mockConfigDir } : {}) });
      } catch (e) {
        if (p.signal.aborted) return { status: 'aborted', message: `preparing the buildroot of ${nevr} stopped`, exitCode: null, signal: null, environment: env };
        return failedBeforeBuild('infrastructure', `Cannot recreate the buildroot of ${nevr}: ${(e as Error).message}`, env);
      }
      env.reproduced.unshift(`buildroot: exactly the ${p.root.rpms.length} RPMs of the koji buildroot listing, in a repository of their own (mock ${p.config}, use_bootstrap off)`);
      if (prepared.unhashed) env.notReproduced.push(`buildroot: ${prepared.unhashed} RPMs had no recorded digest and were checked by name, version, release and arch only`);
      const result = join(p.workDir, 'result');
      await mkdir(result, { recursive: true });
      p.log.note(`rebuilding ${nevr} with mock in the recreated buildroot`);
      const run = await runSandboxed({ argv: ['mock', '-r', prepared.configPath, '--rebuild', p.srpm, '--resultdir', result], cwd: p.workDir, env: hostEnv, log: p.log, signal: p.signal, ...bounds });
      const failed = runFailure(run, `mock's rebuild of ${nevr}`, env);
      if (failed) return failed;
      return await collect(await findRpms(result), p, env, run);
    }
    env.notReproduced.unshift(`buildroot: not recreated (${usable}); rebuilt with rpmbuild --rebuild on the host, with the host's packages instead of the ${p.root.rpms.length} listed`);
    const argv = ['rpmbuild', '--rebuild', '--define', `_topdir ${join(p.workDir, 'rpmbuild')}`];
    for (const [k, v] of Object.entries(macros)) argv.push('--define', `${k} ${macroBody(v)}`);
    argv.push(p.srpm);
    p.log.note(`rebuilding ${nevr} with rpmbuild on the host`);
    const run = await runSandboxed({ argv, cwd: p.workDir, env: { ...hostEnv, ...time.env }, log: p.log, signal: p.signal, ...bounds });
    const failed = runFailure(run, `rpmbuild's rebuild of ${nevr}`, env);
    if (failed) return failed;
    return await collect(await findRpms(join(p.workDir, 'rpmbuild', 'RPMS')), p, env, run);
  } catch (e) {
    if (e instanceof SandboxError) return failedBeforeBuild('infrastructure', `Cannot rebuild ${nevr}: ${e.message}`, env);
    throw e;
  }
}

async function collect(found: string[], p: RebuildParams, env: BuildEnvironment, run: SandboxResult): Promise<BuildOutcome> {
  const wanted = found.filter((f) => p.keepSrpm || !f.endsWith('.src.rpm'));
  if (wanted.length === 0) return { status: 'failed', failureClass: 'ftbfs', message: `the rebuild of ${p.build.name} left no RPM`, exitCode: run.exitCode, signal: run.signal, environment: env };
  const artifacts: string[] = [];
  for (const f of wanted) {
    const dest = join(p.outDir, basename(f));
    await copyFile(f, dest);
    artifacts.push(dest);
  }
  return { status: 'built', artifacts: artifacts.sort(), exitCode: run.exitCode, signal: run.signal, environment: env };
}

/** The build's metadata: the listing's, checked against the SRPM, completed from a published RPM. */
export async function resolveBuild(root: KojiBuildroot, srpm: string, published: string | undefined, listingName: string): Promise<KojiBuild> {
  const fromSrpm = await buildFromSrpm(srpm);
  let build = root.build ?? fromSrpm;
  if (root.build && (root.build.name !== fromSrpm.name || evr(root.build) !== evr(fromSrpm)))
    throw new BuildInfoError(`Cannot rebuild: the listing is for ${root.build.name}-${evr(root.build)}, the SRPM is ${fromSrpm.name}-${evr(fromSrpm)}`, listingName, 'build');
  if (published) build = await completeFromPublished(build, published);
  return build;
}

// ---- `reprove check --buildroot LISTING.json SRPM RPM...`

export interface RebuildFedoraOptions {
  outDir: string;
  workDir: string;
  log: LogSink;
  signal?: AbortSignal;
  limits?: BuildLimits;
  /** The published RPMs: the defines and BUILDTIME the listing lacks are read from the first binary one. */
  published?: string[];
  config?: string;
  defines?: Record<string, string>;
  options?: FedoraOptions;
}

/** One koji build rebuilt from files on disk: the listing, the SRPM, optionally the published RPMs. Throws BuildInfoError on a bad listing, before running anything. */
export async function rebuildFedora(listingPath: string, srpmPath: string, o: RebuildFedoraOptions): Promise<BuildOutcome> {
  const root = parseKojiBuildroot(await readFile(listingPath), listingPath, o.options?.packageUrl !== undefined ? { packageUrl: o.options.packageUrl } : {});
  const published = (o.published ?? []).find((f) => f.endsWith('.rpm') && !f.endsWith('.src.rpm'));
  const build = await resolveBuild(root, srpmPath, published, listingPath);
  const config = o.config ?? `fedora-${/\.fc(\d+)/.exec(build.release)?.[1] ?? 'rawhide'}-${build.arch && build.arch !== 'noarch' ? build.arch : process.arch === 'arm64' ? 'aarch64' : 'x86_64'}`;
  if (!CONFIG_NAME.test(config)) throw new BuildInfoError(`Cannot rebuild: ${JSON.stringify(config)} is not a mock configuration name`, listingPath, 'config');
  const signal = o.signal ?? new AbortController().signal;
  return rebuildSrpm({
    root,
    build,
    srpm: srpmPath,
    config,
    ...(o.defines ? { defines: o.defines } : {}),
    outDir: o.outDir,
    workDir: o.workDir,
    log: o.log,
    signal,
    ...(o.limits ? { limits: o.limits } : {}),
    fetchRpm: buildrootFetcher(undefined, { allowFileUrls: true, signal, ...(o.options?.maxFetchBytes !== undefined ? { maxBytes: o.options.maxFetchBytes } : {}) }),
    ...(o.options ? { options: o.options } : {}),
    keepSrpm: (o.published ?? []).some((f) => f.endsWith('.src.rpm')),
  });
}

// ---- the backend

export function createFedoraBackend(options: FedoraOptions = {}): Backend {
  return {
    name: 'fedora',

    async available() {
      // mock is optional: without it (or createrepo_c) the SRPM is rebuilt on the host, and the result says so.
      return which('rpmbuild') ? true : 'rpmbuild is not installed';
    },

    async build(req: BuildRequest): Promise<BuildOutcome> {
      const { job } = req;
      const pkg = `${job.name} ${job.version} (job ${job.jobId})`;
      const env: BuildEnvironment = { reproduced: [], notReproduced: [] };
      const recipe = parseFedoraRecipe(job.recipe);
      if (typeof recipe === 'string') return failedBeforeBuild('ftbfs', `Cannot build ${pkg} with the fedora backend: ${recipe}`, env);
      if (!job.buildinfo) return failedBeforeBuild('ftbfs', `Cannot build ${pkg} with the fedora backend: the job has no buildroot listing`, env);
      const aborted = (): BuildOutcome => ({ status: 'aborted', message: `fetching the inputs of ${pkg} stopped`, exitCode: null, signal: null, environment: env });
      const inputs = join(req.workDir, 'inputs');
      await mkdir(inputs, { recursive: true });
      const listing = join(inputs, 'buildroot.json');
      const srpm = join(inputs, 'source.src.rpm');
      const firstRpm = job.artifacts.find((a) => a.name.endsWith('.rpm') && !a.name.endsWith('.src.rpm'));
      const published = firstRpm ? join(inputs, 'published.rpm') : undefined;
      try {
        await req.fetch(job.buildinfo.url, job.buildinfo.sha256, listing, `the buildroot listing of ${pkg}`);
        await req.fetch(recipe.srpm.url, recipe.srpm.sha256, srpm, `the SRPM of ${pkg}`);
        if (firstRpm && published) await req.fetch(firstRpm.url, firstRpm.sha256, published, `published RPM ${firstRpm.name} of ${pkg}`);
      } catch (e) {
        if (req.signal.aborted) return aborted();
        return failedBeforeBuild('infrastructure', e instanceof FetchError ? e.message : `Cannot fetch the inputs of ${pkg}: ${(e as Error).message}`, env);
      }
      let root: KojiBuildroot;
      let build: KojiBuild;
      try {
        root = parseKojiBuildroot(await readFile(listing), basename(job.buildinfo.url) || 'buildroot.json', options.packageUrl !== undefined ? { packageUrl: options.packageUrl } : {});
        build = await resolveBuild(root, srpm, published, job.buildinfo.url);
      } catch (e) {
        // The inputs' digests matched: the same inputs fail the same way next time.
        req.log.note(`refused the build info: ${(e as Error).message}`);
        return failedBeforeBuild('ftbfs', `Cannot build ${pkg}: ${(e as Error).message}`, env);
      }
      return rebuildSrpm({
        root,
        build,
        srpm,
        config: recipe.config,
        ...(recipe.defines ? { defines: recipe.defines } : {}),
        outDir: req.outDir,
        workDir: req.workDir,
        log: req.log,
        signal: req.signal,
        limits: req.limits,
        fetchRpm: buildrootFetcher(req.fetch, { signal: req.signal, ...(options.allowFileUrls ? { allowFileUrls: true } : {}), ...(options.maxFetchBytes !== undefined ? { maxBytes: options.maxFetchBytes } : {}) }),
        options,
        keepSrpm: job.artifacts.some((a) => a.name.endsWith('.src.rpm')),
      });
    },
  };
}

export const fedoraBackend = createFedoraBackend();
