// The machinery of the Debian backend, apart from the job: a private apt
// configuration pointing at one archive (the live one or a snapshot), the check
// that every recorded build dependency exists there at its exact version, the
// chroot made by mmdebstrap from exactly those versions and cached as a tarball
// named by the SHA-256 of the sorted package set, and the build inside it with
// dpkg-buildpackage at the recorded path, in fresh namespaces (mount, pid, ipc,
// uts, and network: none, as on Debian's buildds). Every program runs through the
// sandbox (time limit, own process group, capped log); values from the .buildinfo
// reach programs only as arguments or environment values, and the one shell script
// here is fixed text that reads them as "$@".
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RecordedPackage } from '../buildinfo/build-env.js';
import type { LogSink } from '../log-sink.js';
import { runSandboxed, type SandboxResult } from '../sandbox.js';
import { which } from '../which.js';

export const DEFAULT_DEBIAN_ARCHIVE = 'http://deb.debian.org/debian/';
export const DEFAULT_SNAPSHOT_ARCHIVE = 'https://snapshot.debian.org/archive/debian/{timestamp}/';
export const DEFAULT_DEBIAN_SUITES = ['unstable', 'testing', 'stable'];
export const DEFAULT_DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A step that could not be done for a reason outside the package: the archive, the tools, the host. */
export class DebianInfraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DebianInfraError';
  }
}

/** A step the package itself made fail (its build). */
export class DebianBuildError extends Error {
  constructor(
    message: string,
    readonly run?: SandboxResult,
  ) {
    super(message);
    this.name = 'DebianBuildError';
  }
}

/** Stopped by the caller's AbortSignal. */
export class DebianAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DebianAbortedError';
  }
}

export interface RunContext {
  log: LogSink;
  signal: AbortSignal;
  /** Limit per program run (mmdebstrap, apt, the build). */
  timeoutMs?: number;
  memoryBytes?: number;
}

/** Runs a program in the sandbox; a non-zero exit is the error `fail(...)` makes. */
async function run(ctx: RunContext, what: string, argv: string[], cwd: string, env: Record<string, string>, fail: (m: string, r: SandboxResult) => Error = (m) => new DebianInfraError(m), withMemoryLimit = false): Promise<SandboxResult> {
  ctx.log.note(`${what}: ${argv.map((a) => (/^[A-Za-z0-9_./:=,+@%-]+$/.test(a) ? a : JSON.stringify(a))).join(' ').slice(0, 2000)}`);
  const r = await runSandboxed({
    argv,
    cwd,
    env,
    log: ctx.log,
    signal: ctx.signal,
    ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}),
    ...(withMemoryLimit && ctx.memoryBytes !== undefined ? { memoryBytes: ctx.memoryBytes } : {}),
  });
  if (r.stopped === 'aborted') throw new DebianAbortedError(`${what} stopped: aborted`);
  if (r.stopped === 'timeout') throw fail(`${what} reached its time limit and was killed`, r);
  if (r.exitCode !== 0) throw fail(`${what} ${r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`} (see the log)`, r);
  return r;
}

// ---- the archive

export interface ArchiveConfig {
  /** The archive's URL, ending in "/". */
  url: string;
  suites: string[];
  components: string[];
  keyring: string;
  /** Old Release files (snapshots) are past their Valid-Until. */
  snapshot: boolean;
}

const URL_SHAPE = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/(?:[A-Za-z0-9._~%+-]+\/)*$/;
const WORD = /^[a-z0-9][a-z0-9.+-]{0,63}$/;

/** YYYYMMDDTHHMMSSZ, as snapshot.debian.org names its timestamps. */
export function snapshotTimestamp(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The archive to use: the template with {timestamp} filled in from the build date; the reason it is unusable otherwise. */
export function resolveArchive(opts: { archive?: string; snapshot?: boolean; suites?: string[]; components?: string[]; keyring?: string }, buildDate: number | undefined): ArchiveConfig | string {
  const template = opts.archive ?? (opts.snapshot ? DEFAULT_SNAPSHOT_ARCHIVE : DEFAULT_DEBIAN_ARCHIVE);
  let url = template;
  if (template.includes('{timestamp}')) {
    if (buildDate === undefined) return `the archive ${template} needs the build's date, and the .buildinfo records no Build-Date`;
    url = template.replace('{timestamp}', snapshotTimestamp(buildDate));
  }
  if (!url.endsWith('/')) url += '/';
  if (!URL_SHAPE.test(url)) return `the archive URL ${JSON.stringify(url)} is not an http(s) URL of plain path components`;
  const snapshot = opts.snapshot ?? template.includes('{timestamp}');
  const suites = opts.suites ?? (snapshot ? ['unstable'] : DEFAULT_DEBIAN_SUITES);
  const components = opts.components ?? ['main'];
  for (const w of [...suites, ...components]) if (!WORD.test(w)) return `${JSON.stringify(w)} is not a suite or component name`;
  if (suites.length === 0 || components.length === 0) return 'no suite or no component to use';
  const keyring = opts.keyring ?? DEFAULT_DEBIAN_KEYRING;
  if (!keyring.startsWith('/') || /[\s\]\x00-\x1f]/.test(keyring)) return `the keyring ${JSON.stringify(keyring)} is not an absolute path without spaces`;
  return { url, suites, components, keyring, snapshot };
}

export function sourcesList(a: ArchiveConfig, kinds: ('deb' | 'deb-src')[] = ['deb', 'deb-src']): string {
  const opts = `[signed-by=${a.keyring}${a.snapshot ? ' check-valid-until=no' : ''}]`;
  return a.suites.flatMap((s) => kinds.map((k) => `${k} ${opts} ${a.url} ${s} ${a.components.join(' ')}`)).join('\n') + '\n';
}

/** A private apt (its own sources, lists, cache and empty status) for one architecture; used from the host, never installing anything. */
export class PrivateApt {
  readonly dir: string;
  readonly env: Record<string, string>;
  constructor(
    dir: string,
    readonly archive: ArchiveConfig,
    readonly arch: string,
  ) {
    this.dir = dir;
    this.env = { PATH: HOST_PATH, APT_CONFIG: join(dir, 'apt.conf'), LC_ALL: 'C.UTF-8', HOME: dir };
  }

  async setup(): Promise<void> {
    for (const d of ['etc/apt.conf.d', 'etc/preferences.d', 'etc/sources.list.d', 'etc/trusted.gpg.d', 'lists/partial', 'cache/archives/partial', 'log']) await mkdir(join(this.dir, d), { recursive: true });
    await writeFile(join(this.dir, 'etc/sources.list'), sourcesList(this.archive));
    await writeFile(join(this.dir, 'status'), '');
    const q = (s: string) => JSON.stringify(s);
    const conf = [
      `Dir::Etc ${q(join(this.dir, 'etc'))};`,
      `Dir::Etc::SourceList ${q(join(this.dir, 'etc/sources.list'))};`,
      `Dir::Etc::SourceParts ${q(join(this.dir, 'etc/sources.list.d'))};`,
      `Dir::Etc::Parts ${q(join(this.dir, 'etc/apt.conf.d'))};`,
      `Dir::Etc::Preferences ${q(join(this.dir, 'etc/preferences'))};`,
      `Dir::Etc::PreferencesParts ${q(join(this.dir, 'etc/preferences.d'))};`,
      `Dir::Etc::TrustedParts ${q(join(this.dir, 'etc/trusted.gpg.d'))};`,
      `Dir::State ${q(this.dir)};`,
      `Dir::State::Lists ${q(join(this.dir, 'lists'))};`,
      `Dir::State::status ${q(join(this.dir, 'status'))};`,
      `Dir::Cache ${q(join(this.dir, 'cache'))};`,
      `Dir::Log ${q(join(this.dir, 'log'))};`,
      `APT::Architecture ${q(this.arch)};`,
      `APT::Architectures { ${q(this.arch)}; };`,
      'Acquire::Languages "none";',
      'Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";',
      'Acquire::Retries "3";',
      'APT::Sandbox::User "root";',
      'Debug::NoLocking "true";',
      'APT::Get::AllowUnauthenticated "false";',
      ...(this.archive.snapshot ? ['Acquire::Check-Valid-Until "false";'] : []),
    ];
    await writeFile(join(this.dir, 'apt.conf'), conf.join('\n') + '\n');
  }

  async update(ctx: RunContext): Promise<void> {
    await run(ctx, `apt-get update from ${this.archive.url} (${this.archive.suites.join(', ')})`, ['apt-get', '-q', 'update', '-o', 'APT::Update::Error-Mode=any'], this.dir, this.env, (m) => new DebianInfraError(`Cannot read the archive ${this.archive.url}: ${m}`));
  }

  /** Every (name, version, architecture) the Packages indexes hold. */
  async available(): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    const files = (await readdir(join(this.dir, 'lists'))).filter((f) => f.endsWith('_Packages'));
    for (const f of files) {
      let name = '';
      let version = '';
      let arch = '';
      const flush = () => {
        if (name && version) {
          const k = `${name}=${version}`;
          if (!out.has(k)) out.set(k, new Set());
          out.get(k)!.add(arch);
        }
        name = version = arch = '';
      };
      for await (const line of createInterface({ input: createReadStream(join(this.dir, 'lists', f)), crlfDelay: Infinity })) {
        if (line === '') flush();
        else if (line.startsWith('Package: ')) name = line.slice(9).trim();
        else if (line.startsWith('Version: ')) version = line.slice(9).trim();
        else if (line.startsWith('Architecture: ')) arch = line.slice(14).trim();
      }
      flush();
    }
    return out;
  }

  /** The recorded packages the archive does not hold at their exact version, as name[:arch]=version. */
  async missing(packages: RecordedPackage[]): Promise<string[]> {
    const avail = await this.available();
    const missing: string[] = [];
    for (const p of packages) {
      const archs = avail.get(`${p.name}=${p.version}`);
      const wanted = p.architecture ? [p.architecture] : [this.arch, 'all'];
      if (!archs || !wanted.some((a) => archs.has(a))) missing.push(aptSpec(p));
    }
    return missing;
  }

  /** Downloads SOURCE=VERSION's source package into `dir`; apt checks every file against the signed Sources index. Answers the .dsc's path. */
  async downloadSource(ctx: RunContext, name: string, version: string, dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    await run(ctx, `apt-get source ${name}=${version}`, ['apt-get', '-q', 'source', '--download-only', '--only-source', `${name}=${version}`], dir, this.env, (m) => new DebianInfraError(`Cannot get the source package ${name}=${version} from ${this.archive.url}: ${m}`));
    const dsc = `${name}_${version.replace(/^\d+:/, '')}.dsc`;
    const st = await lstat(join(dir, dsc)).catch(() => undefined);
    if (!st?.isFile()) throw new DebianInfraError(`Cannot get the source package ${name}=${version}: apt-get source left no ${dsc}`);
    return join(dir, dsc);
  }

  /** Downloads binary packages (name[:arch]=version) into `dir` with apt-get download; apt checks each against the signed Packages index. */
  async downloadBinaries(ctx: RunContext, specs: string[], dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await run(ctx, `apt-get download ${specs.join(' ')}`.slice(0, 500), ['apt-get', '-q', 'download', ...specs], dir, this.env, (m) => new DebianInfraError(`Cannot download ${specs.join(', ')} from ${this.archive.url}: ${m}`));
  }
}

export function aptSpec(p: RecordedPackage): string {
  return `${p.name}${p.architecture ? `:${p.architecture}` : ''}=${p.version}`;
}

// ---- the chroot, cached by its package set

export interface ChrootManifest {
  key: string;
  /** The package set it was made from, sorted (name[:arch]=version). */
  requested: string[];
  /** What dpkg says is installed in it: name:arch=version. */
  installed: string[];
  archive: string;
  createdAt: string;
}

/** The SHA-256 naming a chroot: of the architecture and the sorted package set. */
export function chrootKey(arch: string, packages: RecordedPackage[]): string {
  const lines = [...new Set(packages.map(aptSpec))].sort();
  return createHash('sha256').update(`reprove-debian-chroot-v1 ${arch}\n${lines.join('\n')}\n`).digest('hex');
}

export function mmdebstrapMode(): 'root' | 'unshare' {
  return process.getuid?.() === 0 ? 'root' : 'unshare';
}

/** The tarball of a chroot holding exactly `packages` (made and cached when absent) and its manifest. */
export async function ensureChroot(ctx: RunContext, opts: { cacheDir: string; archive: ArchiveConfig; arch: string; packages: RecordedPackage[]; workDir: string }): Promise<{ tarball: string; manifest: ChrootManifest; cached: boolean }> {
  const key = chrootKey(opts.arch, opts.packages);
  await mkdir(opts.cacheDir, { recursive: true });
  const tarball = join(opts.cacheDir, `${key}.tar`);
  const manifestPath = join(opts.cacheDir, `${key}.json`);
  try {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ChrootManifest;
    if ((await lstat(tarball)).isFile() && manifest.key === key) {
      ctx.log.note(`chroot ${key}: from the cache ${opts.cacheDir}`);
      return { tarball, manifest, cached: true };
    }
  } catch {
    // not cached
  }
  const requested = [...new Set(opts.packages.map(aptSpec))].sort();
  const tmp = join(opts.cacheDir, `.${key}.${randomBytes(6).toString('hex')}.tar`);
  const sources = join(opts.workDir, 'chroot-sources.list');
  await writeFile(sources, sourcesList(opts.archive, ['deb']));
  const argv = [
    'mmdebstrap',
    `--mode=${mmdebstrapMode()}`,
    '--variant=custom',
    `--architectures=${opts.arch}`,
    '--format=tar',
    `--keyring=${opts.archive.keyring}`,
    '--aptopt=Acquire::Languages "none"',
    ...(opts.archive.snapshot ? ['--aptopt=Acquire::Check-Valid-Until "false"'] : []),
    // Speeds up dpkg; does not change what is installed.
    '--dpkgopt=force-unsafe-io',
    `--include=${requested.join(',')}`,
    '--',
    opts.archive.suites[0]!,
    tmp,
    sources,
  ];
  try {
    await run(ctx, `mmdebstrap (${requested.length} packages at their recorded versions)`, argv, opts.workDir, { PATH: HOST_PATH, LC_ALL: 'C.UTF-8', HOME: opts.workDir, TMPDIR: opts.workDir }, (m) => new DebianInfraError(`Cannot create the build chroot: ${m}`));
    const installed = await installedIn(ctx, tmp, opts.workDir);
    const have = new Set(installed);
    const mismatched = opts.packages.filter((p) => !have.has(`${p.name}:${p.architecture ?? ''}=${p.version}`) && ![opts.arch, 'all'].some((a) => have.has(`${p.name}:${a}=${p.version}`)));
    if (mismatched.length) throw new DebianInfraError(`Cannot create the build chroot: ${mismatched.length} recorded package(s) are not installed at their recorded version after mmdebstrap: ${mismatched.map(aptSpec).join(', ')}`);
    const manifest: ChrootManifest = { key, requested, installed, archive: opts.archive.url, createdAt: new Date().toISOString() };
    await rename(tmp, tarball);
    await writeFile(manifestPath + '.tmp', JSON.stringify(manifest, null, 1));
    await rename(manifestPath + '.tmp', manifestPath);
    ctx.log.note(`chroot ${key}: created and cached in ${opts.cacheDir} (${installed.length} packages installed)`);
    return { tarball, manifest, cached: false };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The packages dpkg's status file in the tarball says are installed, as name:arch=version. */
async function installedIn(ctx: RunContext, tarball: string, workDir: string): Promise<string[]> {
  const dir = join(workDir, 'chroot-status');
  await mkdir(dir, { recursive: true });
  await run(ctx, 'reading the chroot\'s dpkg status', ['tar', '--extract', '-f', tarball, '-C', dir, './var/lib/dpkg/status'], workDir, { PATH: HOST_PATH });
  const text = await readFile(join(dir, 'var/lib/dpkg/status'), 'utf8');
  await rm(dir, { recursive: true, force: true });
  const out: string[] = [];
  for (const para of text.split(/\n\n+/)) {
    const f = (n: string) => new RegExp(`^${n}: (.*)$`, 'm').exec(para)?.[1]?.trim();
    const name = f('Package');
    const status = f('Status');
    if (name && status?.endsWith(' installed')) out.push(`${name}:${f('Architecture') ?? ''}=${f('Version') ?? ''}`);
  }
  return out.sort();
}

// ---- the build

/** What dpkg-buildpackage's -b/-A/-B the recorded architectures mean. */
export function buildTypeArgument(architectures: string[]): string {
  const all = architectures.includes('all');
  const arch = architectures.some((a) => a !== 'all' && a !== 'source');
  return all && arch ? '-b' : all ? '-A' : '-B';
}

export interface ChrootBuild {
  tarball: string;
  /** Where the chroot is unpacked (a fresh directory the caller removes). */
  root: string;
  /** The source package's files on the host (the .dsc and what it lists). */
  sourceFiles: string[];
  dscName: string;
  buildPath: string;
  /** The whole environment of the build. */
  env: Record<string, string>;
  /** dpkg-buildpackage's arguments. */
  args: string[];
  /** File names to collect from the build path's parent. */
  collect: string[];
  outDir: string;
}

/** Unpacks the chroot, builds, copies the listed files that exist into outDir; answers their paths. */
export async function buildInChroot(ctx: RunContext, b: ChrootBuild): Promise<string[]> {
  await mkdir(b.root, { recursive: true });
  await run(ctx, 'unpacking the chroot', ['tar', '--extract', '--numeric-owner', '--same-owner', '-p', '-f', b.tarball, '-C', b.root], b.root, { PATH: HOST_PATH });
  // Our own directory inside it, made where no symbolic link can redirect it.
  for (const d of ['srv']) {
    const st = await lstat(join(b.root, d)).catch(() => undefined);
    if (st && !st.isDirectory()) throw new DebianInfraError(`Cannot use the chroot: /${d} in it is not a directory`);
    if (!st) await mkdir(join(b.root, d));
  }
  const inner = '/srv/reprove';
  await mkdir(join(b.root, 'srv/reprove'));
  await mkdir(join(b.root, 'srv/reprove/source'));
  await mkdir(join(b.root, 'srv/reprove/out'));
  for (const f of b.sourceFiles) await copyFile(f, join(b.root, 'srv/reprove/source', f.slice(f.lastIndexOf('/') + 1)));
  const unshare = which('unshare', HOST_PATH) ?? 'unshare';
  // Fixed text: every value comes in as an argument. $1 build path, $2 the .dsc inside the chroot, $3 where the
  // listed files are copied, $4 how many dpkg-buildpackage arguments follow, then those, then the names to copy.
  const script = `set -eu
umask 022
bp=$1; dsc=$2; out=$3; n=$4; shift 4
mkdir -p -- "$(dirname -- "$bp")"
dpkg-source -x -- "$dsc" "$bp"
cd -- "$bp"
args=""
i=0
while [ "$i" -lt "$n" ]; do args="$args $1"; shift; i=$((i+1)); done
status=0
dpkg-buildpackage $args || status=$?
cd ..
for f in "$@"; do if [ -f "$f" ] && [ ! -L "$f" ]; then cp -- "$f" "$out/"; fi; done
exit "$status"
`;
  for (const a of b.args) if (!/^-[A-Za-z0-9=,-]+$/.test(a)) throw new DebianInfraError(`Cannot build: ${JSON.stringify(a)} is not a plain dpkg-buildpackage option`);
  const argv = [unshare, '--mount', '--uts', '--ipc', '--pid', '--net', '--fork', '--kill-child', `--root=${b.root}`, '--mount-proc', '--', '/bin/sh', '-c', script, 'reprove-build', b.buildPath, `${inner}/source/${b.dscName}`, `${inner}/out`, String(b.args.length), ...b.args, ...b.collect];
  await run(ctx, `dpkg-buildpackage ${b.args.join(' ')} in the chroot at ${b.buildPath}`, argv, b.root, b.env, (m, r) => new DebianBuildError(`The build failed: ${m}`, r), true);
  // Collected by the script inside the chroot; read here without following links.
  const outInside = join(b.root, 'srv/reprove/out');
  for (const d of [join(b.root, 'srv'), join(b.root, 'srv/reprove'), outInside]) {
    const st = await lstat(d);
    if (!st.isDirectory()) throw new DebianBuildError(`Cannot collect the build's files: ${d} is no longer a directory`);
  }
  const got: string[] = [];
  await mkdir(b.outDir, { recursive: true });
  for (const name of b.collect) {
    const st = await lstat(join(outInside, name)).catch(() => undefined);
    if (!st?.isFile()) continue;
    await copyFile(join(outInside, name), join(b.outDir, name));
    got.push(join(b.outDir, name));
  }
  return got;
}
