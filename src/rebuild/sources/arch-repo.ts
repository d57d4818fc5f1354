// The Arch Linux source: syncs from the repository databases a mirror serves
// (`core.db`, `extra.db`: tar archives, gzip or zstd, of one `<pkg>/desc` file per
// binary package), the way rebuilderd's sync profiles do: repositories,
// include and exclude patterns on the package base, and maintainers (the
// packager's name or address). The database is read as a stream, one entry at a
// time, keeping only a binary package's file name, digest and size under its
// source package (see ArchGroups); the store is handed the source packages one at
// a time and writes only those that are new or changed. An entry that is malformed or hostile (a huge field, a file name with a
// path in it, bytes that are not UTF-8) is skipped and logged with its name; the
// rest of the database still syncs.
//
// A source package (pkgbase) at one version is one record; its binary packages
// are its artifacts (the mirror's URL and the database's SHA-256). The archlinux
// backend reads the .BUILDINFO from the published package itself and takes the
// PKGBUILD from the packaging repository: `pkgbuildGit` (default Arch's GitLab,
// {pkgbase} filled in) at the tag of the version (':' written '-', as Arch tags).
import { isUtf8 } from 'node:buffer';
import { Type, type Static } from '@sinclair/typebox';
import type { SyncPackage } from '../../api/schemas.js';
import { type Source, type SourceConfig, type SourceContext, type SourceSyncOutcome, SourceError, sourceOptions, fetchStream, maintainerOf, nameFilter, packageInputs } from './source.js';
import { decompressed, tarEntryBatches } from './tar-stream.js';

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

/** The `desc` fields a sync reads, by their slot; the others (dependencies, descriptions) are passed over. */
const DESC_KEYS = [
  { key: 'FILENAME', required: true },
  { key: 'NAME', required: true },
  { key: 'BASE', required: false },
  { key: 'VERSION', required: true },
  { key: 'ARCH', required: true },
  { key: 'SHA256SUM', required: true },
  { key: 'CSIZE', required: false },
  { key: 'PACKAGER', required: false },
] as const;
const DESC_KEY_BYTES = DESC_KEYS.map((k) => Buffer.from(k.key, 'latin1'));

/** The slot of the key between `from` and `to` (the bytes inside %…%): -1 for a key not read, -2 for a line that is no key. */
function keySlot(bytes: Buffer, from: number, to: number): number {
  // Compared as bytes: a string for every key line of 100 000 entries was a large share of reading them.
  for (let k = 0; k < DESC_KEY_BYTES.length; k++) {
    const key = DESC_KEY_BYTES[k]!;
    if (key.length !== to - from) continue;
    let i = 0;
    while (i < key.length && key[i] === bytes[from + i]) i++;
    if (i === key.length) return k;
  }
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return -2;
  }
  return -1;
}

/**
 * The fields of a `desc` file (UTF-8), or why it is refused: `%KEY%` lines, each
 * followed by its values up to an empty line. Read on the bytes, and each value
 * kept is decoded on its own: a slice of the whole entry's text would keep that
 * text alive for as long as the value, and a sync keeps 100 000 of them.
 */
export function parseDesc(bytes: Buffer): ArchDesc | string {
  const slots: (string[] | undefined)[] = new Array(DESC_KEYS.length);
  const n = bytes.length;
  let pos = 0;
  while (pos < n) {
    let end = bytes.indexOf(10, pos);
    if (end < 0) end = n;
    const slot = end - pos >= 3 && end - pos <= 34 && bytes[pos] === 37 && bytes[end - 1] === 37 ? keySlot(bytes, pos + 1, end - 1) : -2;
    pos = end + 1;
    if (slot === -2) continue;
    const values: string[] = [];
    while (pos < n) {
      let e = bytes.indexOf(10, pos);
      if (e < 0) e = n;
      if (e === pos) break;
      if (slot >= 0) values.push(bytes.toString('utf8', pos, e));
      pos = e + 1;
    }
    if (slot >= 0) slots[slot] = values;
  }
  // Each field read has one value of at most FIELD_MAX characters; an optional one may be missing.
  const get: Record<string, string> = {};
  for (let k = 0; k < DESC_KEYS.length; k++) {
    const { key, required } = DESC_KEYS[k]!;
    const v = slots[k];
    if (!v || v.length === 0) {
      if (required) return `missing %${key}%`;
      get[key] = '';
    } else if (v.length > 1) return `%${key}% has ${v.length} values`;
    else if (v[0]!.length > FIELD_MAX) return `%${key}% is ${v[0]!.length} characters long`;
    else get[key] = v[0]!;
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

/** Printable and short, for a log line naming an offending entry. */
export const shown = (s: string, max = 120) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** Reads one repository database stream: each valid `desc` entry to `each`, the rest logged and skipped (counted). */
export async function readArchDb(stream: AsyncIterable<Uint8Array>, where: string, log: (line: string) => void, maxEntryBytes: number, each: (d: ArchDesc) => void): Promise<{ skipped: number }> {
  let skipped = 0;
  const skip = (entry: string, why: string) => {
    skipped++;
    log(`reprove: source ${where}: entry ${shown(entry)} skipped: ${why}`);
  };
  for await (const batch of tarEntryBatches(await decompressed(stream), maxEntryBytes)) for (const e of batch) {
    if (e.type === '5') continue;
    const slash = e.name.lastIndexOf('/');
    const leaf = e.name.slice(slash + 1);
    const dir = e.name.slice(0, Math.max(slash, 0));
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
    if (slash <= 0 || e.name.indexOf('/') !== slash || dir === '.' || dir === '..') {
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
    if (!isUtf8(e.data)) {
      skip(e.name, 'its content is not UTF-8');
      continue;
    }
    const d = parseDesc(e.data);
    if (typeof d === 'string') {
      skip(e.name, d);
      continue;
    }
    if (dir.length !== d.name.length + 1 + d.version.length || !dir.startsWith(d.name) || dir.charCodeAt(d.name.length) !== 0x2d || !dir.endsWith(d.version)) {
      skip(e.name, `its directory is not ${d.name}-${d.version}`);
      continue;
    }
    each(d);
  }
  return { skipped };
}

const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);

/** Arch's packaging repositories tag a version with its epoch's ':' written '-'. */
export const archTag = (version: string) => version.replace(':', '-');

/** What a sync keeps of a binary package until the whole database is read: its file, in which repository. */
interface ArchBinary {
  repo: number;
  filename: string;
  sha256: string;
  csize: number | null;
}

/**
 * The binary packages of the databases by source package (pkgbase) and version, in
 * the order first seen. A pkgbase's binaries are spread over the database (it is
 * sorted by package name: gcc, gcc-libs, ..., lib32-gcc-libs), so a source package
 * is complete only once every database is read: these few fields of each binary are
 * all a sync holds; the packages are made from them one at a time for the store.
 */
export class ArchGroups {
  private readonly groups = new Map<string, { base: string; version: string; packager: string | undefined; binaries: ArchBinary[] }>();

  add(repo: number, d: ArchDesc): void {
    const key = `${d.base}\u0000${d.version}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { base: d.base, version: d.version, packager: maintainerOf(d.packager), binaries: [] }));
    if (g.binaries.some((b) => b.filename === d.filename)) return;
    g.binaries.push({ repo, filename: d.filename, sha256: d.sha256, csize: d.csize });
  }

  get size(): number {
    return this.groups.size;
  }

  /** Source packages (pkgbase at a version), their binary packages as artifacts; `repos` are the repositories added by index. */
  *packages(repos: readonly string[], options: Pick<ArchRepoOptions, 'mirror' | 'pkgbuildGit' | 'archive'>, arch: string): Generator<SyncPackage> {
    const bases = repos.map((repo) => fill(options.mirror, { repo, arch }).replace(/\/+$/, ''));
    for (const g of this.groups.values()) {
      yield {
        name: g.base,
        version: g.version,
        backend: 'archlinux',
        recipe: { pkgbuild: { git: fill(options.pkgbuildGit ?? DEFAULT_PKGBUILD_GIT, { pkgbase: g.base }), ref: archTag(g.version) }, ...(options.archive ? { archive: options.archive } : {}) },
        artifacts: g.binaries.map((b) => ({ name: b.filename, url: `${bases[b.repo]}/${encodeURIComponent(b.filename)}`, sha256: b.sha256, ...(b.csize !== null ? { size: b.csize } : {}) })),
        ...(g.packager !== undefined ? { maintainer: g.packager } : {}),
      };
    }
  }
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
      const groups = new ArchGroups();
      let skipped = 0;
      for (const [index, repo] of options.repositories.entries()) {
        const url = `${fill(options.mirror, { repo, arch: architecture }).replace(/\/+$/, '')}/${repo}.db`;
        const stream = await fetchStream(url, `the ${repo} database`, { signal: ctx.signal, timeoutMs: (options.timeoutSeconds ?? 300) * 1000 });
        const r = await readArchDb(stream, `${name} (${repo}.db)`, ctx.log, options.maxEntryBytes ?? 64 << 10, (d) => {
          if (keep(d)) groups.add(index, d);
        }).catch((e: Error) => {
          throw new SourceError(`Cannot sync source ${name}: ${url}: ${e.message}`);
        });
        skipped += r.skipped;
      }
      const packages = packageInputs(groups.packages(options.repositories, options, architecture));
      const summary = await ctx.store.syncPackages({ distribution, suite, architecture, packages });
      return { packages: groups.size, skipped, summary, ms: Date.now() - started };
    },
  };
}
