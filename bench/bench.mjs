#!/usr/bin/env node
// Benchmark: reprove vs diffoscope on pairs of real Debian packages, and on
// RPM and Arch packages built at bench time (bench/make-rpm-pairs.sh,
// bench/make-arch-pairs.sh).
//
// For every pair it runs `reprove diff --json` and then `diffoscope --json` on
// the same two files, each under GNU time, and prints wall time, peak RSS and
// the number of differing files each tool reports, plus the member paths that
// diffoscope reports and reprove does not. For identical pairs it also times a
// "floor": decompressing both inputs' payloads and hashing them. See bench/README.md.
//
// Plain Node ESM, no dependencies. Usage:
//   node bench/bench.mjs [--only NAME[,NAME...]] [--timeout MINUTES] [--list] [--recount] [--rebuild]
// --recount rebuilds the table from the reports of the last run without running the tools.
// --rebuild builds the RPM and Arch packages again even if earlier builds are there.
// Environment equivalents: BENCH_ONLY, BENCH_TIMEOUT_MIN, BENCH_REBUILD=1.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// The inputs. Versions are pinned so that runs are comparable; when Debian
// drops one from the archive, the download step stops and prints what
// `apt-cache madison` offers instead, so the list can be updated here.

/** Two versions of one package. `note` says why the pair is here. */
const VERSION_PAIRS = [
  { pkg: 'libssl3', a: '3.0.20-1~deb12u2', b: '3.0.22-1~deb12u2', note: 'ELF shared libraries (libssl, libcrypto, engines)' },
  { pkg: 'libpq5', a: '15.18-0+deb12u1', b: '15.20-0+deb12u1', note: 'one small ELF library' },
  { pkg: 'curl', a: '7.88.1-10+deb12u5', b: '7.88.1-10+deb12u15', note: 'ELF executable, ten security updates apart' },
  { pkg: 'python3.11', a: '3.11.2-6+deb12u8', b: '3.11.2-6+deb12u9', note: 'scripts, man pages, docs' },
  { pkg: 'tzdata', a: '2026b-0+deb12u1', b: '2026f-0+deb12u1', note: 'hundreds of small binary zoneinfo files' },
  { pkg: 'postgresql-15', a: '15.18-0+deb12u1', b: '15.20-0+deb12u1', note: 'large: data.tar is ~55 MB, many ELF files' },
];

/** Packages compared with a byte-identical copy of themselves (different path). */
const IDENTICAL = [
  { pkg: 'libssl3', version: '3.0.22-1~deb12u2' },
  { pkg: 'tzdata', version: '2026f-0+deb12u1' },
  { pkg: 'postgresql-15', version: '15.20-0+deb12u1' },
];

/**
 * Packages built at bench time, twice a second apart, by a script in bench/
 * (usage: SCRIPT OUTDIR; it leaves one package in OUTDIR/a and one in OUTDIR/b).
 * Each gives a pair KIND-rebuild (build a vs build b) and KIND=same (build a vs
 * a copy of it). The payload, ~45 MB installed, comes from bench/payload.sh.
 */
const BUILT = [
  { kind: 'rpm', script: 'make-rpm-pairs.sh', ext: '.rpm', note: 'rpmbuild, xz payload', needs: ['rpmbuild', 'rpm2cpio'] },
  { kind: 'arch', script: 'make-arch-pairs.sh', ext: '.pkg.tar.zst', note: 'makepkg, zstd', needs: ['makepkg', 'bsdtar', 'fakeroot', 'zstd'] },
];
/** Files whose content decides whether an earlier build can be reused. */
const BUILD_INPUTS = ['payload.sh', 'payload.py'];

// ---------------------------------------------------------------------------
// Paths and options.

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, 'work');
const DEBS = join(WORK, 'debs');
const REPORTS = join(WORK, 'reports');
const REPROVE = join(ROOT, 'dist/bin/main.js');
const TIME = '/usr/bin/time';

function parseArgs(argv) {
  const opts = {
    only: (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean),
    timeoutMin: Number(process.env.BENCH_TIMEOUT_MIN ?? 30),
    list: false,
    recount: false,
    rebuild: process.env.BENCH_REBUILD === '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') opts.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--timeout') opts.timeoutMin = Number(argv[++i]);
    else if (a === '--list') opts.list = true;
    else if (a === '--recount') opts.recount = true;
    else if (a === '--rebuild') opts.rebuild = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/bench.mjs [--only NAME[,NAME...]] [--timeout MINUTES] [--list] [--recount] [--rebuild]');
      process.exit(0);
    } else fail(`unknown argument: ${a}`);
  }
  if (!(opts.timeoutMin > 0)) fail('--timeout needs a positive number of minutes');
  return opts;
}

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// Inputs: download with apt-get, reuse what is already in bench/work/debs.

/** Path of NAME=VERSION's .deb, downloading it on first use. */
function fetchDeb(pkg, version) {
  // One directory per NAME=VERSION: apt-get names files with %3a for epochs,
  // so we look for "the .deb in this directory" rather than guessing its name.
  const dir = join(DEBS, `${pkg}_${version}`.replace(/[^A-Za-z0-9._+~-]/g, '_'));
  const have = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : []);
  if (have().length === 0) {
    mkdirSync(dir, { recursive: true });
    console.error(`bench: downloading ${pkg}=${version}`);
    // Sandbox user root: as root, apt would otherwise warn that _apt cannot write here.
    const r = spawnSync('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', `${pkg}=${version}`], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0 || have().length !== 1) {
      const madison = spawnSync('apt-cache', ['madison', pkg], { encoding: 'utf8' });
      rmSync(dir, { recursive: true, force: true });
      fail(
        `cannot download ${pkg}=${version} (apt-get exit ${r.status}):\n${(r.stderr || r.error?.message || '').trim()}\n` +
          `apt-cache madison ${pkg} offers:\n${madison.stdout.trimEnd() || '  (nothing; run apt-get update?)'}\n` +
          'Update the versions at the top of bench/bench.mjs.',
      );
    }
  }
  return join(dir, have()[0]);
}

/** A second path with the same bytes as `file` (in `dir`, named NAME.copy.EXT). */
function copyOf(file, dir = join(DEBS, 'identical'), ext = '.deb') {
  const base = file.split('/').pop();
  const copy = join(dir, base.endsWith(ext) ? base.slice(0, -ext.length) + '.copy' + ext : base + '.copy');
  if (!existsSync(copy) || statSync(copy).size !== statSync(file).size) {
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(file, copy);
  }
  return copy;
}

/**
 * Builds a BUILT kind's two packages with its script into bench/work/KIND/{a,b},
 * unless an earlier build is there and was made from the same script and
 * payload files (a stamp holds their hash). Returns [a, b].
 */
function buildPair(b, rebuild) {
  const dir = join(WORK, b.kind);
  const stampFile = join(dir, 'stamp');
  const hash = createHash('sha256');
  for (const f of [b.script, ...BUILD_INPUTS]) hash.update(readFileSync(join(BENCH, f)));
  const stamp = hash.digest('hex');
  const one = (sub) => {
    const d = join(dir, sub);
    const files = existsSync(d) ? readdirSync(d).filter((f) => f.endsWith(b.ext)) : [];
    return files.length === 1 ? join(d, files[0]) : null;
  };
  const fresh = existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp && one('a') && one('b');
  if (rebuild || !fresh) {
    console.error(`bench: building the ${b.kind} packages twice (bench/${b.script}; about 1.5 minutes)`);
    rmSync(stampFile, { force: true });
    const r = spawnSync('bash', [join(BENCH, b.script), dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0 || !one('a') || !one('b')) fail(`bench/${b.script} failed (exit ${r.status}); logs in ${dir}/build-*.log`);
    writeFileSync(stampFile, stamp + '\n');
  } else console.error(`bench: reusing the ${b.kind} packages in ${dir} (--rebuild to build them again)`);
  return [one('a'), one('b')];
}

// ---------------------------------------------------------------------------
// The floor of an identical pair: decompress both inputs' payloads, hash them.

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const DECOMPRESS = { '.xz': 'xz -dc', '.gz': 'gzip -dc', '.zst': 'zstd -dc', '.bz2': 'bzip2 -dc', '': 'cat' };

/** Shell pipelines that decompress and hash the compressed payload(s) of one package. */
function floorCommands(file) {
  if (file.endsWith('.deb')) {
    const members = spawnSync('ar', ['t', file], { encoding: 'utf8' }).stdout.split('\n');
    const cmds = [];
    for (const m of members) {
      const x = /^(control|data)\.tar(\.xz|\.gz|\.zst|\.bz2)?$/.exec(m);
      if (x) cmds.push(`ar p ${q(file)} ${q(m)} | ${DECOMPRESS[x[2] ?? '']} | sha256sum`);
    }
    if (cmds.length !== 2) throw new Error(`${file}: expected control.tar* and data.tar* members, found ${members.join(' ')}`);
    return cmds;
  }
  if (file.endsWith('.rpm')) return [`rpm2cpio ${q(file)} | sha256sum`]; // rpm2cpio decompresses the payload
  const x = /\.pkg\.tar(\.xz|\.gz|\.zst|\.bz2)?$/.exec(file);
  if (x) return [`${DECOMPRESS[x[1] ?? '']} ${q(file)} | sha256sum`];
  throw new Error(`no floor command for ${file}`);
}

/** Wall seconds of the floor pipelines for both inputs, run one after the other; best of 3. */
function measureFloor(a, b) {
  const script = 'set -e -o pipefail\n' + [...floorCommands(a), ...floorCommands(b)].map((c) => `${c} >/dev/null`).join('\n');
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) return { wall: NaN, error: `floor pipeline failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`, script };
    best = Math.min(best, wall);
  }
  return { wall: best, script };
}

// ---------------------------------------------------------------------------
// Measurement.

/**
 * Runs cmd under GNU time. %e is wall seconds; %M is the peak RSS in KB of the
 * largest single process in the tree (wait4 folds the waited-for children's
 * maxima into the child's, so helpers such as xz or objdump count, but the
 * RSS of concurrent processes is not summed).
 */
function measure(cmd, args, timeoutMin, tag) {
  const timeFile = join(REPORTS, `${tag}.time`);
  rmSync(timeFile, { force: true });
  return new Promise((done) => {
    // detached: own process group, so a timeout kills the tool's helpers too.
    const child = spawn(TIME, ['-f', '%e %M', '-o', timeFile, cmd, ...args], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-20000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMin * 60_000);
    const t0 = process.hrtime.bigint();
    child.on('close', (code) => {
      clearTimeout(timer);
      const ownWall = Number(process.hrtime.bigint() - t0) / 1e9;
      // time writes "Command exited with non-zero status N" before the format line.
      const last = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n').pop() : '';
      const m = /^([\d.]+) (\d+)$/.exec(last ?? '');
      done({
        code: timedOut ? null : code,
        timedOut,
        wall: m ? Number(m[1]) : ownWall,
        rssMB: m ? Number(m[2]) / 1024 : NaN,
        stderr: stderr.trim(),
      });
    });
  });
}

// ---------------------------------------------------------------------------
// Counting differing files, the same way for both reports.

/**
 * Names of nodes that are views of an artifact rather than members of it:
 * listings, headers, tool outputs. Copied from test/helpers.ts (the bench
 * must not import test code); keep the two in step. Added here: "find .*"
 * (diffoscope runs llvm-dis on bitcode as "find {} -execdir llvm-dis -o - {} ;").
 * The helpers' RPM view names ("header", "changelog", ...) count as pseudo nodes
 * only directly under the root of an .rpm (isRpmView): anywhere else "changelog"
 * would also hide the decompressed member of changelog.gz in Debian packages.
 */
function isPseudoNode(name) {
  return (
    /^(file list|line order|find .*|filetype from file\(1\)|metadata|Pretty-printed|encoding|gzip header|bzip2 header|xz header|zstd header|tar archive|ar archive|cpio archive|zip archive|archive comment|Format-specific differences|.* \{\}|stat .*|zipinfo.*|zipnote.*|bsdtar .*|ar .*|cpio .*|getfacl .*|lsattr .*|xxd .*|Ignoring .*|pyc header|Python (bytecode|disassembly|code object .*)|mo header|gettext catalog|msgunfmt .*|javap .*|procyon .*|class file structure|hex dump|control\.tar.* header|debian-binary header|ELF header|ELF program headers|ELF section table|ELF section .*|ELF bytes outside sections)$/.test(name) ||
    / \{\}$/.test(name)
  );
}

/** RPM views: reprove's header nodes and diffoscope's rpm "header" (from test/helpers.ts). */
function isRpmView(name) {
  return /^(lead|signature header|header|requires|provides|conflicts|obsoletes|recommends|suggests|supplements|enhances|orderwithrequires|scriptlets|changelog)$/.test(name);
}

/**
 * Member paths ("data.tar.xz / data.tar / ./usr/bin/x") of a report: all of
 * them, and the leaves (members with no member below them) = differing files.
 * `rpm`: the inputs are RPMs (their top-level header views are not members).
 */
function memberPaths(root, rpm = false) {
  const all = new Set();
  const leaves = new Set();
  const visit = (node, path) => {
    let hasMember = false;
    for (const c of node.details ?? []) {
      if (isPseudoNode(c.source1) || (rpm && path.length === 0 && isRpmView(c.source1))) continue;
      hasMember = true;
      // diffoscope sometimes nests a node under one of the same name
      // ("./md5sums / ./md5sums"); that is one file, not two.
      const here = c.source1 === path[path.length - 1] ? path : [...path, c.source1];
      if (here !== path) all.add(here.join(' / '));
      visit(c, here);
    }
    if (!hasMember && path.length) leaves.add(path.join(' / '));
  };
  if (root) visit(root, []);
  return { all, leaves };
}

function readReport(file) {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  return text.trim() ? JSON.parse(text) : { details: [] };
}

// ---------------------------------------------------------------------------
// One pair.

async function runPair(pair, opts) {
  const tag = pair.name.replace(/[^A-Za-z0-9._+-]/g, '_');
  const rJson = join(REPORTS, `${tag}.reprove.json`);
  const dJson = join(REPORTS, `${tag}.diffoscope.json`);
  // The measurements are kept next to the reports so that --recount can reuse them.
  const runFile = join(REPORTS, `${tag}.run.json`);
  let r, d, floor;
  if (opts.recount) {
    if (!existsSync(runFile)) fail(`--recount: no earlier run of ${pair.name} (${runFile})`);
    ({ r, d, floor } = JSON.parse(readFileSync(runFile, 'utf8')));
    if (floor) floor.wall ??= NaN; // JSON has no NaN
  } else {
    for (const f of [rJson, dJson, runFile]) rmSync(f, { force: true });
    // Read both inputs once so neither tool pays for a cold page cache.
    readFileSync(pair.a);
    readFileSync(pair.b);

    console.error(`bench: ${pair.name}: reprove ...`);
    // As users run it: the executable, so its interpreter line's Node flags apply.
    r = await measure(REPROVE, ['diff', '--json', rJson, pair.a, pair.b], opts.timeoutMin, `${tag}.reprove`);
    console.error(`bench: ${pair.name}: reprove exit ${r.timedOut ? 'timeout' : r.code} in ${r.wall}s; diffoscope ...`);
    d = await measure('diffoscope', ['--json', dJson, pair.a, pair.b], opts.timeoutMin, `${tag}.diffoscope`);
    console.error(`bench: ${pair.name}: diffoscope exit ${d.timedOut ? 'timeout' : d.code} in ${d.wall}s`);
    if (pair.same) {
      floor = measureFloor(pair.a, pair.b);
      console.error(`bench: ${pair.name}: floor ${floor.error ?? `${floor.wall.toFixed(2)}s`}`);
    }
    writeFileSync(runFile, JSON.stringify({ r, d, floor }, null, 1) + '\n');
  }

  // Exit 0 or 1 is a result; anything else (or a timeout) is an error.
  const ok = (x) => !x.timedOut && (x.code === 0 || x.code === 1);
  const rpm = pair.kind === 'rpm';
  const rPaths = ok(r) ? memberPaths(readReport(rJson), rpm) : null;
  const dPaths = ok(d) ? memberPaths(readReport(dJson), rpm) : null;
  // A diffoscope leaf is missing when reprove does not report that path at all.
  const missing = dPaths ? [...dPaths.leaves].filter((p) => !rPaths?.all.has(p)).sort() : [];
  writeFileSync(join(REPORTS, `${tag}.missing.txt`), missing.join('\n') + (missing.length ? '\n' : ''));
  return { pair, r, d, floor, rPaths, dPaths, missing };
}

// ---------------------------------------------------------------------------
// Output.

const status = (x) => (x.timedOut ? 'timeout' : x.code === 0 || x.code === 1 ? null : `exit ${x.code}`);
const secs = (x) => (x.timedOut ? `>${x.wall.toFixed(0)}` : x.wall.toFixed(2));
const mb = (x) => (Number.isFinite(x.rssMB) ? x.rssMB.toFixed(0) : '?');

function table(results) {
  const head = ['pair', 'reprove s', 'floor s', 'r/floor', 'diffoscope s', 'ratio d/r', 'reprove MB', 'diffoscope MB', 'files r/d', 'missing in r', 'exit r/d'];
  const fin = (f) => f && Number.isFinite(f.wall);
  const rows = results.map(({ pair, r, d, floor, rPaths, dPaths, missing }) => [
    pair.name,
    secs(r),
    !floor ? '-' : fin(floor) ? floor.wall.toFixed(2) : 'ERR',
    fin(floor) && !status(r) && floor.wall > 0 ? (r.wall / floor.wall).toFixed(2) : '-',
    secs(d),
    !status(r) && !status(d) && r.wall > 0 ? (d.wall / r.wall).toFixed(1) : '-',
    mb(r),
    mb(d),
    `${rPaths ? rPaths.leaves.size : 'ERR'}/${dPaths ? dPaths.leaves.size : 'ERR'}`,
    !dPaths ? '-' : rPaths ? String(missing.length) : `${missing.length} (reprove failed)`,
    `${status(r) ?? r.code}/${status(d) ?? d.code}`,
  ]);
  const md = [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
  return md;
}

function details(results) {
  const out = [];
  for (const { pair, r, d, floor, missing } of results) {
    const notes = [];
    if (floor?.error) notes.push(`floor: ${floor.error}`);
    if (status(r)) notes.push(`reprove ${status(r)}: ${r.stderr.split('\n').slice(-5).join(' | ') || '(no stderr)'}`);
    if (status(d)) notes.push(`diffoscope ${status(d)}: ${d.stderr.split('\n').slice(-5).join(' | ') || '(no stderr)'}`);
    if (missing.length) {
      notes.push(`${missing.length} member path(s) reported by diffoscope but not by reprove:`);
      for (const p of missing.slice(0, 15)) notes.push(`    ${p}`);
      if (missing.length > 15) notes.push(`    ... (all in bench/work/reports/${pair.name.replace(/[^A-Za-z0-9._+-]/g, '_')}.missing.txt)`);
    }
    if (notes.length) out.push(`- ${pair.name}:\n` + notes.map((n) => `  ${n}`).join('\n'));
  }
  return out.join('\n');
}

function toolVersions() {
  const v = (cmd, args) => (spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '').trim().split('\n')[0];
  return `node ${process.version}, ${v('diffoscope', ['--version'])}, reprove ${v('git', ['-C', ROOT, 'describe', '--always', '--dirty']) || '?'}` +
    `, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}`;
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let pairs = [
    ...VERSION_PAIRS.map((p) => ({ name: p.pkg, kind: 'deb', spec: [`${p.pkg}=${p.a}`, `${p.pkg}=${p.b}`], pkg: p.pkg, va: p.a, vb: p.b })),
    ...BUILT.map((b) => ({ name: `${b.kind}-rebuild`, kind: b.kind, built: b, spec: [`bench/${b.script} build a`, 'build b (a second later)'] })),
    ...IDENTICAL.map((p) => ({ name: `${p.pkg}=same`, kind: 'deb', same: true, spec: [`${p.pkg}=${p.version}`, 'copy'], pkg: p.pkg, va: p.version })),
    ...BUILT.map((b) => ({ name: `${b.kind}=same`, kind: b.kind, built: b, same: true, spec: [`bench/${b.script} build a`, 'copy'] })),
  ];
  if (opts.list) {
    for (const p of pairs) console.log(`${p.name}\t${p.spec.join(' vs ')}`);
    return;
  }
  // --only takes pair names as --list prints them ("tzdata", "tzdata=same"),
  // "same" (identical pairs), "versions" (all others: two versions or two builds),
  // or a package format: "deb", "rpm", "arch".
  if (opts.only.length) {
    const same = (p) => !!p.same;
    pairs = pairs.filter((p) => opts.only.some((o) => p.name === o || o === p.kind || (o === 'same' && same(p)) || (o === 'versions' && !same(p))));
    if (!pairs.length) fail(`--only ${opts.only.join(',')} matches no pair (see --list)`);
  }

  // Preconditions, checked up front so a long run does not die halfway.
  if (!existsSync(REPROVE)) fail(`${REPROVE} is missing; build reprove first: cd ${ROOT} && npx tsc -p .`);
  if (spawnSync('sh', ['-c', 'command -v diffoscope']).status !== 0) fail('diffoscope is not installed (apt-get install diffoscope)');
  if (!existsSync(TIME)) {
    console.error('bench: GNU time is missing; installing the "time" package');
    if (spawnSync('apt-get', ['install', '-y', 'time'], { stdio: 'inherit' }).status !== 0 || !existsSync(TIME)) fail('cannot install GNU time (apt-get install -y time)');
  }
  const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  const kinds = new Set(opts.recount ? [] : pairs.map((p) => p.kind));
  for (const b of BUILT.filter((b) => kinds.has(b.kind))) {
    const missing = b.needs.filter((c) => !have(c));
    if (missing.length) fail(`the ${b.kind} pairs need ${missing.join(', ')} (leave them out with --only)`);
  }
  if (process.getuid?.() === 0 && kinds.has('arch') && !have('runuser')) fail('makepkg refuses root and runuser is missing (leave the arch pairs out with --only)');
  // diffoscope reads RPMs with the rpm Python module; without it, it compares them as plain files.
  if (kinds.has('rpm') && spawnSync('/usr/bin/python3', ['-c', 'import rpm']).status !== 0) {
    console.error('bench: diffoscope needs the rpm Python module; installing python3-rpm');
    spawnSync('apt-get', ['install', '-y', 'python3-rpm'], { stdio: 'inherit' });
    if (spawnSync('/usr/bin/python3', ['-c', 'import rpm']).status !== 0) fail('cannot install python3-rpm (apt-get install -y python3-rpm)');
  }
  mkdirSync(REPORTS, { recursive: true });

  // Download and build everything before measuring anything (--recount needs no inputs).
  const built = new Map();
  for (const p of opts.recount ? [] : pairs) {
    if (p.built) {
      if (!built.has(p.kind)) built.set(p.kind, buildPair(p.built, opts.rebuild));
      [p.a, p.b] = built.get(p.kind);
      if (p.same) p.b = copyOf(p.a, join(WORK, p.kind, 'same'), p.built.ext);
    } else {
      p.a = fetchDeb(p.pkg, p.va);
      p.b = p.vb ? fetchDeb(p.pkg, p.vb) : copyOf(p.a);
    }
  }
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');

  const results = [];
  for (const p of pairs) results.push(await runPair(p, opts));

  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const md =
    `# reprove vs diffoscope\n\n${when}; ${toolVersions()}; diffoscope timeout ${opts.timeoutMin} min.` +
    (opts.recount ? ' Recounted from the reports of the last run.' : ` Load average at the start of the measurements: ${load}.`) + '\n' +
    'Times are wall seconds, memory is peak RSS (GNU time %M), files = differing leaf member paths in each JSON report.\n' +
    'floor s (identical pairs only) = decompressing both inputs\' payloads and hashing them, best of 3; r/floor = reprove s / floor s.\n\n' +
    table(results) + '\n' +
    (details(results) ? `\n${details(results)}\n` : '');
  writeFileSync(join(WORK, 'results.md'), md);
  console.log(md);
  console.error(`bench: table written to ${join(WORK, 'results.md')}; reports in ${REPORTS}`);
}

await main();
