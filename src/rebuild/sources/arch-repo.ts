// The Arch Linux source: syncs from the repository databases a mirror serves
// (`core.db`, `extra.db`: tar archives, gzip or zstd, of one `<pkg>/desc` file per
// binary package), the way rebuilderd's sync profiles do: repositories,
// include and exclude patterns on the package base, and maintainers (the
// packager's name or address). The database is read as a stream, one entry at a
// time, so a 100 000-package repository costs the packages' records and nothing
// more. An entry that is malformed or hostile (a huge field, a file name with a
// path in it, bytes that are not UTF-8) is skipped and logged with its name; the
// rest of the database still syncs.
//
// A source package (pkgbase) at one version is one record; its binary packages
// are its artifacts (the mirror's URL and the database's SHA-256). The archlinux
// backend reads the .BUILDINFO from the published package itself and takes the
// PKGBUILD from the packaging repository: `pkgbuildGit` (default Arch's GitLab,
// {pkgbase} filled in) at the tag of the version (':' written '-', as Arch tags).
import { Type, type Static } from '@sinclair/typebox';
import type { SyncPackage } from '../../api/schemas.js';
import { type Source, type SourceConfig, type SourceContext, type SourceSyncOutcome, SourceError, sourceOptions, fetchStream, nameFilter, packageInput } from './source.js';
import { decompressed, tarEntries } from './tar-stream.js';

export const ArchRepoOptions = Type.Object({
  /** Where a repository's files are: {repo} and {arch} are filled in, e.g. https://geo.mirror.pkgbuild.com/{repo}/os/{arch}. */
  mirror: Type.String({ minLength: 1, maxLength: 2048 }),
  repositories: Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), { minItems: 1, maxItems: 64 }),
  include: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 10_000 })),
  exclude: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 10_000 })),
  /** Only packages whose %PACKAGER% contains one of these (case-insensitive). */
  maintainers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 10_000 })),
  pkgbuildGit: Type.Optional(Type.String({ maxLength: 2048 })),
  /** The archlinux backend's archive pattern (recipe.archive), when not its default. */
  archive: Type.Optional(Type.String({ maxLength: 2048 })),
  /** Largest `desc` entry read (default 64 KiB); bigger ones are skipped. */
  maxEntryBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 16 << 20 })),
  timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});
export type ArchRepoOptions = Static<typeof ArchRepoOptions>;

export const DEFAULT_PKGBUILD_GIT = 'https://gitlab.archlinux.org/archlinux/packaging/packages/{pkgbase}.git';

const NAME = /^[A-Za-z0-9@_+][A-Za-z0-9@._+-]{0,127}$/;
const VERSION = /^(?:\d{1,9}:)?[A-Za-z0-9._+~]{1,128}-[0-9][0-9.]{0,15}$/;
const FILENAME = /^[A-Za-z0-9@_+][A-Za-z0-9@._+:~-]{0,254}\.pkg\.tar(?:\.(?:zst|xz|gz|bz2|lz4|lrz|lzo|Z))?$/;
const SHA256 = /^[0-9a-f]{64}$/;
const FIELD_MAX = 4096;

/** One binary package as its `desc` entry says. */
export interface ArchDesc {
  filename: string;
  name: string;
  base: string;
  version: string;
  arch: string;
  sha256: string;
  csize: number | null;
  packager: string;
}

/** The fields of a `desc` file, or why it is refused. */
export function parseDesc(text: string): ArchDesc | string {
  const fields = new Map<string, string[]>();
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    i++;
    const m = /^%([A-Z0-9]{1,32})%$/.exec(line);
    if (!m) continue;
    const values: string[] = [];
    while (i < lines.length && lines[i] !== '') values.push(lines[i++]!);
    fields.set(m[1]!, values);
  }
  const one = (key: string, required = true): string | string => {
    const v = fields.get(key);
    if (!v || v.length === 0) return required ? `!missing %${key}%` : '';
    if (v.length > 1) return `!%${key}% has ${v.length} values`;
    if (v[0]!.length > FIELD_MAX) return `!%${key}% is ${v[0]!.length} characters long`;
    return v[0]!;
  };
  const get: Record<string, string> = {};
  for (const [k, req] of [['FILENAME', true], ['NAME', true], ['BASE', false], ['VERSION', true], ['ARCH', true], ['SHA256SUM', true], ['CSIZE', false], ['PACKAGER', false]] as const) {
    const v = one(k, req);
    if (v.startsWith('!')) return v.slice(1);
    get[k] = v;
  }
  const name = get['NAME']!;
  const base = get['BASE'] || name;
  if (!NAME.test(name)) return `%NAME% ${JSON.stringify(name.slice(0, 80))} is not a package name`;
  if (!NAME.test(base)) return `%BASE% ${JSON.stringify(base.slice(0, 80))} is not a package name`;
  if (!VERSION.test(get['VERSION']!)) return `%VERSION% ${JSON.stringify(get['VERSION']!.slice(0, 80))} is not a pacman version`;
  const filename = get['FILENAME']!;
  if (filename.includes('/') || filename.includes('..') || !FILENAME.test(filename)) return `%FILENAME% ${JSON.stringify(filename.slice(0, 120))} is not a package file name`;
  if (!/^[A-Za-z0-9_]{1,32}$/.test(get['ARCH']!)) return `%ARCH% ${JSON.stringify(get['ARCH']!.slice(0, 40))} is not an architecture`;
  if (!SHA256.test(get['SHA256SUM']!)) return '%SHA256SUM% is not a SHA-256';
  const csize = get['CSIZE'] ? Number(get['CSIZE']) : null;
  if (csize !== null && (!Number.isSafeInteger(csize) || csize < 0)) return '%CSIZE% is not a size';
  return { filename, name, base, version: get['VERSION']!, arch: get['ARCH']!, sha256: get['SHA256SUM']!, csize, packager: get['PACKAGER']! };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Printable and short, for a log line naming an offending entry. */
export const shown = (s: string, max = 120) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

export interface ReadDbOutcome {
  descs: ArchDesc[];
  skipped: number;
}

/** Reads one repository database stream: its valid `desc` entries; the rest logged and skipped. */
export async function readArchDb(stream: AsyncIterable<Uint8Array>, where: string, log: (line: string) => void, maxEntryBytes = 64 << 10, keep: (d: ArchDesc) => boolean = () => true): Promise<ReadDbOutcome> {
  const descs: ArchDesc[] = [];
  let skipped = 0;
  const skip = (entry: string, why: string) => {
    skipped++;
    log(`reprove: source ${where}: entry ${shown(entry)} skipped: ${why}`);
  };
  for await (const e of tarEntries(await decompressed(stream), maxEntryBytes)) {
    if (e.type === '5') continue;
    const parts = e.name.split('/');
    const leaf = parts[parts.length - 1];
    if (leaf !== 'desc') {
      if (e.type === '0' || e.type === '\0' || e.type === '7') {
        if (leaf === 'files' || leaf === 'depends') continue; // older databases keep these beside desc
        skip(e.name, 'not a <pkg>/desc file');
      }
      continue;
    }
    if (!e.nameValid) {
      skip(e.name, 'its name is not UTF-8');
      continue;
    }
    if (parts.length !== 2 || parts[0] === '' || parts[0] === '.' || parts[0] === '..' || e.name.startsWith('/')) {
      skip(e.name, 'its path is not <pkg>/desc');
      continue;
    }
    if (e.type !== '0' && e.type !== '\0' && e.type !== '7') {
      skip(e.name, `tar entry type ${JSON.stringify(e.type)}, not a file`);
      continue;
    }
    if (e.data === null) {
      skip(e.name, e.skipped ?? 'too large');
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(e.data);
    } catch {
      skip(e.name, 'its content is not UTF-8');
      continue;
    }
    const d = parseDesc(text);
    if (typeof d === 'string') {
      skip(e.name, d);
      continue;
    }
    if (`${d.name}-${d.version}` !== parts[0]) {
      skip(e.name, `its directory is not ${d.name}-${d.version}`);
      continue;
    }
    if (keep(d)) descs.push(d);
  }
  return { descs, skipped };
}

const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);

/** Arch's packaging repositories tag a version with its epoch's ':' written '-'. */
export const archTag = (version: string) => version.replace(':', '-');

/** Source packages (pkgbase at a version) of some databases' entries, their binary packages as artifacts. */
export function archPackages(entries: { repo: string; descs: ArchDesc[] }[], options: Pick<ArchRepoOptions, 'mirror' | 'pkgbuildGit' | 'archive'>, arch: string): SyncPackage[] {
  const byKey = new Map<string, SyncPackage>();
  for (const { repo, descs } of entries) {
    const base = fill(options.mirror, { repo, arch }).replace(/\/+$/, '');
    for (const d of descs) {
      const key = `${d.base}\u0000${d.version}`;
      let p = byKey.get(key);
      if (!p) {
        p = {
          name: d.base,
          version: d.version,
          backend: 'archlinux',
          recipe: { pkgbuild: { git: fill(options.pkgbuildGit ?? DEFAULT_PKGBUILD_GIT, { pkgbase: d.base }), ref: archTag(d.version) }, ...(options.archive ? { archive: options.archive } : {}) },
          artifacts: [],
        };
        byKey.set(key, p);
      }
      if (p.artifacts.some((a) => a.name === d.filename)) continue;
      p.artifacts.push({ name: d.filename, url: `${base}/${encodeURIComponent(d.filename)}`, sha256: d.sha256, ...(d.csize !== null ? { size: d.csize } : {}) });
    }
  }
  return [...byKey.values()];
}

export function archRepoSource(config: SourceConfig): Source {
  const { name, kind, distribution, suite, architecture } = config;
  const options = sourceOptions(config, ArchRepoOptions);
  const passes = nameFilter(options.include, options.exclude);
  const maintainers = (options.maintainers ?? []).map((m) => m.toLowerCase());
  const keep = (d: ArchDesc) => passes(d.base) && (maintainers.length === 0 || maintainers.some((m) => d.packager.toLowerCase().includes(m)));
  return {
    name,
    kind,
    target: { distribution, suite, architecture },
    intervalSeconds: config.intervalSeconds ?? 3600,
    async sync(ctx: SourceContext): Promise<SourceSyncOutcome> {
      const started = Date.now();
      const entries: { repo: string; descs: ArchDesc[] }[] = [];
      let skipped = 0;
      for (const repo of options.repositories) {
        const url = `${fill(options.mirror, { repo, arch: architecture }).replace(/\/+$/, '')}/${repo}.db`;
        const stream = await fetchStream(url, `the ${repo} database`, { signal: ctx.signal, timeoutMs: (options.timeoutSeconds ?? 300) * 1000 });
        const r = await readArchDb(stream, `${name} (${repo}.db)`, ctx.log, options.maxEntryBytes, keep).catch((e: Error) => {
          throw new SourceError(`Cannot sync source ${name}: ${url}: ${e.message}`);
        });
        entries.push({ repo, descs: r.descs });
        skipped += r.skipped;
      }
      const packages = archPackages(entries, options, architecture);
      const summary = await ctx.store.syncPackages({ distribution, suite, architecture, packages: packages.map(packageInput) });
      return { packages: packages.length, skipped, summary, ms: Date.now() - started };
    },
  };
}
