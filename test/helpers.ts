// Shared test utilities: scratch directories, running real tools, running the
// CLI, and reading the member paths of a diffoscope-style JSON report.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

export const CLI = resolve(import.meta.dirname, '../bin/main.js');

/** A scratch directory removed when the test ends. */
export function workdir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'reprove-test-'));
  t.after(() => {
    // After-hooks run in the order they were registered, so a browser, store or process that a
    // later hook closes may still be writing here: then the directory goes when the process exits.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
    } catch {
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
  });
  return dir;
}

/** Runs a shell script in `cwd` with a fixed time zone and locale; throws on failure. */
export function sh(cwd: string, script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8', ...env },
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
}

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * A test's reason to skip for a missing tool, outside CI only: `.ci/run` installs
 * every tool the tests use, so in CI (CI=…) the test runs and fails loudly
 * instead of being skipped without anyone noticing.
 */
export function skipOutsideCi(reason: string | false | undefined): string | false {
  return reason && !process.env['CI'] ? reason : false;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function reprove(args: string[], cwd?: string): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 512 << 20, env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export type JsonNode = {
  source1: string;
  source2: string;
  unified_diff?: string | null;
  comments?: string[];
  details?: JsonNode[];
  [k: string]: unknown;
};

/** The first node named `name` below `root`, depth first. */
export function find(root: JsonNode | null | undefined, name: string): JsonNode | undefined {
  for (const c of root?.details ?? []) {
    if (c.source1 === name) return c;
    const inner = find(c, name);
    if (inner) return inner;
  }
  return undefined;
}

/** reprove's JSON report of A vs B (and its exit status). */
export function reproveJson(a: string, b: string, extra: string[] = []): { code: number | null; json: JsonNode | null; stderr: string } {
  const r = reprove(['diff', '--json', '-', ...extra, a, b]);
  return { code: r.code, json: r.stdout.trim() ? (JSON.parse(r.stdout) as JsonNode) : null, stderr: r.stderr };
}

/** diffoscope's JSON report of A vs B. */
export function diffoscopeJson(a: string, b: string): JsonNode | null {
  const r = spawnSync('diffoscope', ['--json', '-', '--no-default-limits', a, b], { encoding: 'utf8', maxBuffer: 512 << 20, env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0 && r.status !== 1) throw new Error(`diffoscope failed: ${r.stderr}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as JsonNode) : null;
}

/**
 * Names of nodes that are views of an artifact rather than members of it:
 * listings, headers, tool outputs. Both tools' are here so that member paths
 * of a reprove report and a diffoscope report can be compared.
 */
export function isPseudoNode(name: string): boolean {
  return (
    /^(file list|line order|filetype from file\(1\)|filetype from diffoscope|metadata|Pretty-printed|encoding|gzip header|bzip2 header|xz header|zstd header|tar archive|ar archive|cpio archive|zip archive|archive comment|Format-specific differences|.* \{\}|stat .*|zipinfo.*|zipnote.*|bsdtar .*|ar .*|cpio .*|getfacl .*|lsattr .*|xxd .*|Ignoring .*|pyc header|Python (bytecode|disassembly|code object .*)|mo header|gettext catalog|msgunfmt .*|javap .*|procyon .*|class file structure|hex dump|control\.tar.* header|debian-binary header|ELF header|ELF program headers|ELF section table|ELF section .*|ELF bytes outside sections)$/.test(name) ||
    / \{\}$/.test(name) ||
    // diffoscope's command views whose "{}" is not at the end (find {} -execdir llvm-dis ...).
    /^find .*\{\}/.test(name) ||
    // RPM views (reprove) and diffoscope's rpm "header".
    /^(lead|signature header|header|requires|provides|conflicts|obsoletes|recommends|suggests|supplements|enhances|orderwithrequires|scriptlets|changelog)$/.test(name)
  );
}

/** The set of member paths ("a.tar / ./x.txt") that a report says differ. */
export function memberPaths(root: JsonNode | null): Set<string> {
  const out = new Set<string>();
  const visit = (d: JsonNode, path: string[]) => {
    for (const c of d.details ?? []) {
      if (isPseudoNode(c.source1)) continue;
      const here = [...path, c.source1];
      out.add(here.join(' / '));
      visit(c, here);
    }
  };
  if (root) visit(root, []);
  return out;
}

/**
 * For two directories: the paths, relative to the first root, of the files (not
 * directories) a report names. diffoscope nests directories and names members by
 * full path; reprove lists them flat by relative path.
 */
export function directoryFilePaths(root: JsonNode | null, dir: string): Set<string> {
  const out = new Set<string>();
  for (const p of memberPaths(root)) {
    const last = p.split(' / ').pop()!;
    const rel = last.startsWith(dir + '/') ? last.slice(dir.length + 1) : last;
    if (!statSync(join(dir, rel), { throwIfNoEntry: false })?.isDirectory()) out.add(rel);
  }
  return out;
}

const isRoot = process.getuid?.() === 0;

/** Why makepkg (with `tools` besides) cannot run here, or false. makepkg refuses root, so root runs it as nobody. */
export function makepkgSkip(...tools: string[]): string | false {
  const missing = ['makepkg', 'fakeroot', ...tools].filter((c) => !haveCommand(c));
  if (missing.length) return `${missing.join(', ')} missing`;
  if (isRoot && (!haveCommand('runuser') || sh('/', 'id -u nobody || true').trim() === '')) return 'running as root without runuser or a "nobody" user to run makepkg as';
  return false;
}

/**
 * Runs makepkg in `start` (as nobody when root; pacman is not installed, so PACMAN=true
 * and --nodeps) with `env`, and returns the one package it wrote to `out`, its PKGDEST.
 */
export function makepkg(start: string, out: string, env: string[], flags = ''): string {
  const all = [...env, 'PACMAN=true', "PACKAGER='Reprove Test <test@example.org>'", `PKGDEST=${out}`];
  sh(start, `${isRoot ? 'runuser -u nobody -- ' : ''}env ${all.join(' ')} makepkg --nodeps --force ${flags} >/dev/null 2>&1`);
  const files = readdirSync(out);
  assert.equal(files.length, 1, `makepkg wrote ${files.join(', ')}`);
  return join(out, files[0]!);
}
