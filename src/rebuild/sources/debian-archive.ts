// The Debian source: syncs a suite of an archive from its `Release` (or, when a
// keyring is configured, its `InRelease`, whose signature gpgv checks) and the
// `Packages.xz` of each component for the architecture, whose SHA-256 must be the
// one the Release lists. Binary packages are grouped by their source package and
// source version (the `Source: name (version)` field); each group is one record
// whose artifacts are its .debs (the pool URL and SHA-256). The debian backend
// rebuilds from the buildd's `.buildinfo`, found by a URL layout (default
// buildinfos.debian.net's pool) and fetched once per new version for its digest; a
// version whose .buildinfo cannot be fetched is skipped and logged, and comes back
// on the next sync. Packages.xz is read as a stream, one stanza at a time.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { SyncPackage } from '../../api/schemas.js';
import { DEBIAN_PACKAGE_NAME, DEBIAN_VERSION } from '../buildinfo/debian.js';
import { shown } from './arch-repo.js';
import { type Source, type SourceConfig, type SourceContext, type SourceSyncOutcome, SourceError, sourceOptions, fetchBytes, fetchStream, maintainerOf, nameFilter, packageInputs } from './source.js';
import { decompressed } from './tar-stream.js';

export const DEFAULT_BUILDINFO_URL = 'https://buildinfos.debian.net/buildinfo-pool/{prefix}/{source}/{source}_{version}_{arch}.buildinfo';

export const DebianArchiveOptions = Type.Object({
  /** The archive's root, e.g. https://deb.debian.org/debian. */
  archive: Type.String({ minLength: 1, maxLength: 2048 }),
  /** The suite's name in the archive's dists/ (default: the source's suite). */
  dist: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$' })),
  components: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), { minItems: 1, maxItems: 16 })),
  /** A keyring for gpgv: InRelease is fetched and its signature must verify. */
  keyring: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** {source}, {prefix} (lib-aware first letters), {version} (without epoch), {fullversion}, {arch}. */
  buildinfoUrl: Type.Optional(Type.String({ maxLength: 2048 })),
  /** Architecture-independent packages (Architecture: all) too (default true). */
  includeAll: Type.Optional(Type.Boolean()),
  include: Type.Optional(Type.Array(Type.String({ maxLength: 255 }))),
  exclude: Type.Optional(Type.Array(Type.String({ maxLength: 255 }))),
  /** The debian backend's recipe (archive, snapshot, suites, components). */
  recipe: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** .buildinfo fetches at a time (default 8). */
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});
export type DebianArchiveOptions = Static<typeof DebianArchiveOptions>;

/** The pool's directory letter(s) of a source package. */
export const poolPrefix = (source: string) => (source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1));
const withoutEpoch = (v: string) => v.replace(/^\d+:/, '');

/** Runs gpgv on a clearsigned file and answers the signed text, or throws why not. */
export async function verifyClearsigned(bytes: Buffer, keyring: string, what: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reprove-gpgv-'));
  try {
    const file = join(dir, 'InRelease');
    await writeFile(file, bytes);
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
      const child = spawn('gpgv', ['--keyring', keyring, '--output', '-', file], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => (err += c.toString().slice(0, 4000)));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: Buffer.concat(out), stderr: err }));
    });
    if (code !== 0) throw new SourceError(`Cannot trust ${what}: gpgv refused its signature (${stderr.trim().split('\n').slice(-2).join('; ')})`);
    return stdout.toString('utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The SHA-256 lines of a Release file: path -> {sha256, size}. */
export function releaseDigests(text: string): Map<string, { sha256: string; size: number }> {
  const out = new Map<string, { sha256: string; size: number }>();
  let inSha = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inSha = line.startsWith('SHA256:');
    else if (inSha) {
      const m = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
      if (m) out.set(m[3]!, { sha256: m[1]!, size: Number(m[2]) });
    }
  }
  return out;
}

/** Deb822 stanzas of a stream of lines, one at a time (continuation lines joined). */
export async function* stanzas(stream: AsyncIterable<Buffer | string>, maxStanzaBytes = 1 << 20): AsyncGenerator<Map<string, string> | { error: string }> {
  let rest = '';
  let fields = new Map<string, string>();
  let last: string | null = null;
  let bytes = 0;
  let tooBig = false;
  const decoder = new TextDecoder('utf-8');
  const flush = function* () {
    if (tooBig) yield { error: `a stanza of more than ${maxStanzaBytes} bytes${fields.has('Package') ? ` (Package ${fields.get('Package')!.slice(0, 80)})` : ''}` };
    else if (fields.size) yield fields;
    fields = new Map();
    last = null;
    bytes = 0;
    tooBig = false;
  };
  const line = function* (l: string) {
    if (l.trim() === '') {
      yield* flush();
      return;
    }
    bytes += l.length + 1;
    if (bytes > maxStanzaBytes) {
      tooBig = true;
      return;
    }
    if (tooBig) return;
    if (/^[ \t]/.test(l)) {
      if (last !== null) fields.set(last, `${fields.get(last)}\n${l.trim()}`);
      return;
    }
    const colon = l.indexOf(':');
    if (colon <= 0) return;
    last = l.slice(0, colon);
    fields.set(last, l.slice(colon + 1).trim());
  };
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      yield* line(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
    if (rest.length > maxStanzaBytes) {
      tooBig = true;
      rest = '';
    }
  }
  if (rest) yield* line(rest);
  yield* flush();
}

interface Binary {
  source: string;
  sourceVersion: string;
  package: string;
  filename: string;
  sha256: string;
  size: number | null;
  maintainer: string | undefined;
}

/** A Packages stanza as a binary package, or why it is refused. */
export function binaryOf(f: Map<string, string>): Binary | string {
  const pkg = f.get('Package') ?? '';
  const version = f.get('Version') ?? '';
  if (!DEBIAN_PACKAGE_NAME.test(pkg)) return `Package ${shown(pkg)} is not a package name`;
  if (!DEBIAN_VERSION.test(version) || version.length > 255) return `Version ${shown(version)} is not a Debian version`;
  const m = /^([a-z0-9][a-z0-9+.-]+)(?:\s+\(([^)]+)\))?$/.exec(f.get('Source') ?? pkg);
  if (!m || !DEBIAN_PACKAGE_NAME.test(m[1]!)) return `Source ${shown(f.get('Source') ?? '')} is not a source package`;
  const sourceVersion = m[2] ?? version;
  if (!DEBIAN_VERSION.test(sourceVersion)) return `the source version ${shown(sourceVersion)} is not a Debian version`;
  const filename = f.get('Filename') ?? '';
  if (!/^pool\/[A-Za-z0-9._+~\/-]{1,1000}\.u?deb$/.test(filename) || filename.split('/').some((p) => p === '..' || p === '.' || p === '')) return `Filename ${shown(filename)} is not a pool path`;
  const sha256 = f.get('SHA256') ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256)) return 'SHA256 is not a SHA-256';
  const size = f.has('Size') ? Number(f.get('Size')) : null;
  return { source: m[1]!, sourceVersion, package: pkg, filename, sha256, size: size !== null && Number.isSafeInteger(size) && size >= 0 ? size : null, maintainer: maintainerOf(f.get('Maintainer')) };
}

const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);

export function debianArchiveSource(config: SourceConfig): Source {
  const { name, kind, distribution, suite, architecture } = config;
  const o = sourceOptions(config, DebianArchiveOptions);
  const archive = o.archive.replace(/\/+$/, '');
  const dist = o.dist ?? suite;
  const passes = nameFilter(o.include, o.exclude);
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000;
  return {
    name,
    kind,
    target: { distribution, suite, architecture },
    intervalSeconds: config.intervalSeconds ?? 3600,
    async sync(ctx: SourceContext): Promise<SourceSyncOutcome> {
      const started = Date.now();
      const log = (l: string) => ctx.log(`reprove: source ${name}: ${l}`);
      let release: string;
      if (o.keyring) release = await verifyClearsigned(await fetchBytes(`${archive}/dists/${dist}/InRelease`, 'InRelease', 64 << 20, { signal: ctx.signal, timeoutMs }), o.keyring, `${archive}/dists/${dist}/InRelease`);
      else release = (await fetchBytes(`${archive}/dists/${dist}/Release`, 'Release', 64 << 20, { signal: ctx.signal, timeoutMs })).toString('utf8');
      const digests = releaseDigests(release);
      const groups = new Map<string, { source: string; version: string; debs: Binary[] }>();
      let skipped = 0;
      for (const component of o.components ?? ['main']) {
        const path = `${component}/binary-${architecture}/Packages.xz`;
        const want = digests.get(path);
        if (!want) throw new SourceError(`Cannot sync source ${name}: the Release of ${dist} lists no ${path}`);
        const hash = createHash('sha256');
        const raw = await fetchStream(`${archive}/dists/${dist}/${path}`, path, { signal: ctx.signal, timeoutMs });
        const hashed = (async function* () {
          for await (const c of raw) {
            hash.update(c);
            yield c;
          }
        })();
        const local = new Map<string, { source: string; version: string; debs: Binary[] }>();
        for await (const s of stanzas(await decompressed(hashed))) {
          if ('error' in s) {
            skipped++;
            log(`${path}: ${s.error} skipped`);
            continue;
          }
          const arch = s.get('Architecture');
          if (arch !== architecture && !(arch === 'all' && o.includeAll !== false)) continue;
          const b = binaryOf(s);
          if (typeof b === 'string') {
            skipped++;
            log(`${path}: Package ${shown(s.get('Package') ?? '?')} skipped: ${b}`);
            continue;
          }
          if (!passes(b.source)) continue;
          const k = `${b.source}\u0000${b.sourceVersion}`;
          const g = local.get(k) ?? { source: b.source, version: b.sourceVersion, debs: [] };
          g.debs.push(b);
          local.set(k, g);
        }
        const got = hash.digest('hex');
        if (got !== want.sha256) throw new SourceError(`Cannot sync source ${name}: ${path} has SHA-256 ${got}, the Release says ${want.sha256}`);
        for (const [k, g] of local) {
          const prev = groups.get(k);
          if (prev) prev.debs.push(...g.debs);
          else groups.set(k, g);
        }
      }

      // The .buildinfo of each version: known ones from the store, new ones fetched for their digest.
      const known = await ctx.store.knownBuildinfo(distribution, suite, architecture);
      const packages: SyncPackage[] = [];
      const list = [...groups.values()];
      let next = 0;
      const worker = async () => {
        while (next < list.length) {
          const g = list[next++]!;
          const url = fill(o.buildinfoUrl ?? DEFAULT_BUILDINFO_URL, { source: g.source, prefix: poolPrefix(g.source), version: withoutEpoch(g.version), fullversion: g.version, arch: architecture });
          let buildinfo = known.get(`${g.source}\u0000${g.version}`);
          if (!buildinfo || buildinfo.url !== url) {
            try {
              const bytes = await fetchBytes(url, `the .buildinfo of ${g.source} ${g.version}`, 16 << 20, { signal: ctx.signal, timeoutMs: 60_000 });
              buildinfo = { url, sha256: createHash('sha256').update(bytes).digest('hex') };
            } catch (e) {
              skipped++;
              log(`${g.source} ${g.version} skipped: ${(e as Error).message}`);
              continue;
            }
          }
          const seen = new Set<string>();
          const artifacts = [];
          for (const d of g.debs) {
            const file = d.filename.split('/').pop()!;
            if (seen.has(file)) continue;
            seen.add(file);
            artifacts.push({ name: file, url: `${archive}/${d.filename}`, sha256: d.sha256, ...(d.size !== null ? { size: d.size } : {}) });
          }
          const maintainer = g.debs.find((d) => d.maintainer !== undefined)?.maintainer;
          packages.push({ name: g.source, version: g.version, backend: 'debian', recipe: o.recipe ?? {}, buildinfo, artifacts, ...(maintainer !== undefined ? { maintainer } : {}) });
        }
      };
      await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
      const summary = await ctx.store.syncPackages({ distribution, suite, architecture, packages: packageInputs(packages) });
      return { packages: packages.length, skipped, summary, ms: Date.now() - started };
    },
  };
}
