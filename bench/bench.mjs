#!/usr/bin/env node
// Benchmark: reprove vs diffoscope on pairs of real Debian packages.
//
// For every pair it runs `reprove diff --json` and then `diffoscope --json` on
// the same two files, each under GNU time, and prints wall time, peak RSS and
// the number of differing files each tool reports, plus the member paths that
// diffoscope reports and reprove does not. See bench/README.md.
//
// Plain Node ESM, no dependencies. Usage:
//   node bench/bench.mjs [--only NAME[,NAME...]] [--timeout MINUTES] [--list] [--recount]
// --recount rebuilds the table from the reports of the last run without running the tools.
// Environment equivalents: BENCH_ONLY, BENCH_TIMEOUT_MIN.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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

// ---------------------------------------------------------------------------
// Paths and options.

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const WORK = join(BENCH, 'work');
const DEBS = join(WORK, 'debs');
const REPORTS = join(WORK, 'reports');
const REPROVE = join(ROOT, 'dist/src/cli/main.js');
const TIME = '/usr/bin/time';

function parseArgs(argv) {
  const opts = {
    only: (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean),
    timeoutMin: Number(process.env.BENCH_TIMEOUT_MIN ?? 30),
    list: false,
    recount: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') opts.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--timeout') opts.timeoutMin = Number(argv[++i]);
    else if (a === '--list') opts.list = true;
    else if (a === '--recount') opts.recount = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/bench.mjs [--only NAME[,NAME...]] [--timeout MINUTES] [--list] [--recount]');
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

/** A second path with the same bytes as `file`. */
function copyOf(file) {
  const copy = join(DEBS, 'identical', file.split('/').pop().replace(/\.deb$/, '.copy.deb'));
  if (!existsSync(copy) || statSync(copy).size !== statSync(file).size) {
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(file, copy);
  }
  return copy;
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
 * Left out: the helpers' RPM view names, since "changelog" there would also
 * hide the decompressed member of changelog.gz in Debian packages.
 */
function isPseudoNode(name) {
  return (
    /^(file list|line order|find .*|filetype from file\(1\)|metadata|Pretty-printed|encoding|gzip header|bzip2 header|xz header|zstd header|tar archive|ar archive|cpio archive|zip archive|archive comment|Format-specific differences|.* \{\}|stat .*|zipinfo.*|zipnote.*|bsdtar .*|ar .*|cpio .*|getfacl .*|lsattr .*|xxd .*|Ignoring .*|pyc header|Python (bytecode|disassembly|code object .*)|mo header|gettext catalog|msgunfmt .*|javap .*|procyon .*|class file structure|hex dump|control\.tar.* header|debian-binary header|ELF header|ELF program headers|ELF section table|ELF section .*|ELF bytes outside sections)$/.test(name) ||
    / \{\}$/.test(name)
  );
}

/**
 * Member paths ("data.tar.xz / data.tar / ./usr/bin/x") of a report: all of
 * them, and the leaves (members with no member below them) = differing files.
 */
function memberPaths(root) {
  const all = new Set();
  const leaves = new Set();
  const visit = (node, path) => {
    let hasMember = false;
    for (const c of node.details ?? []) {
      if (isPseudoNode(c.source1)) continue;
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
  let r, d;
  if (opts.recount) {
    if (!existsSync(runFile)) fail(`--recount: no earlier run of ${pair.name} (${runFile})`);
    ({ r, d } = JSON.parse(readFileSync(runFile, 'utf8')));
  } else {
    for (const f of [rJson, dJson, runFile]) rmSync(f, { force: true });
    // Read both inputs once so neither tool pays for a cold page cache.
    readFileSync(pair.a);
    readFileSync(pair.b);

    console.error(`bench: ${pair.name}: reprove ...`);
    r = await measure(process.execPath, [REPROVE, 'diff', '--json', rJson, pair.a, pair.b], opts.timeoutMin, `${tag}.reprove`);
    console.error(`bench: ${pair.name}: reprove exit ${r.timedOut ? 'timeout' : r.code} in ${r.wall}s; diffoscope ...`);
    d = await measure('diffoscope', ['--json', dJson, pair.a, pair.b], opts.timeoutMin, `${tag}.diffoscope`);
    console.error(`bench: ${pair.name}: diffoscope exit ${d.timedOut ? 'timeout' : d.code} in ${d.wall}s`);
    writeFileSync(runFile, JSON.stringify({ r, d }, null, 1) + '\n');
  }

  // Exit 0 or 1 is a result; anything else (or a timeout) is an error.
  const ok = (x) => !x.timedOut && (x.code === 0 || x.code === 1);
  const rPaths = ok(r) ? memberPaths(readReport(rJson)) : null;
  const dPaths = ok(d) ? memberPaths(readReport(dJson)) : null;
  // A diffoscope leaf is missing when reprove does not report that path at all.
  const missing = dPaths ? [...dPaths.leaves].filter((p) => !rPaths?.all.has(p)).sort() : [];
  writeFileSync(join(REPORTS, `${tag}.missing.txt`), missing.join('\n') + (missing.length ? '\n' : ''));
  return { pair, r, d, rPaths, dPaths, missing };
}

// ---------------------------------------------------------------------------
// Output.

const status = (x) => (x.timedOut ? 'timeout' : x.code === 0 || x.code === 1 ? null : `exit ${x.code}`);
const secs = (x) => (x.timedOut ? `>${x.wall.toFixed(0)}` : x.wall.toFixed(2));
const mb = (x) => (Number.isFinite(x.rssMB) ? x.rssMB.toFixed(0) : '?');

function table(results) {
  const head = ['pair', 'reprove s', 'diffoscope s', 'ratio d/r', 'reprove MB', 'diffoscope MB', 'files r/d', 'missing in r', 'exit r/d'];
  const rows = results.map(({ pair, r, d, rPaths, dPaths, missing }) => [
    pair.name,
    secs(r),
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
  for (const { pair, r, d, missing } of results) {
    const notes = [];
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
    `, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`;
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let pairs = [
    ...VERSION_PAIRS.map((p) => ({ name: p.pkg, spec: [`${p.pkg}=${p.a}`, `${p.pkg}=${p.b}`], pkg: p.pkg, va: p.a, vb: p.b })),
    ...IDENTICAL.map((p) => ({ name: `${p.pkg}=same`, spec: [`${p.pkg}=${p.version}`, 'copy'], pkg: p.pkg, va: p.version })),
  ];
  if (opts.list) {
    for (const p of pairs) console.log(`${p.name}\t${p.spec.join(' vs ')}`);
    return;
  }
  // --only takes pair names as --list prints them ("tzdata", "tzdata=same"),
  // or "versions" / "same" for all pairs of that kind.
  if (opts.only.length) {
    const same = (p) => p.name.endsWith('=same');
    pairs = pairs.filter((p) => opts.only.some((o) => p.name === o || (o === 'same' && same(p)) || (o === 'versions' && !same(p))));
    if (!pairs.length) fail(`--only ${opts.only.join(',')} matches no pair (see --list)`);
  }

  // Preconditions, checked up front so a long run does not die halfway.
  if (!existsSync(REPROVE)) fail(`${REPROVE} is missing; build reprove first: cd ${ROOT} && npx tsc -p .`);
  if (spawnSync('sh', ['-c', 'command -v diffoscope']).status !== 0) fail('diffoscope is not installed (apt-get install diffoscope)');
  if (!existsSync(TIME)) {
    console.error('bench: GNU time is missing; installing the "time" package');
    if (spawnSync('apt-get', ['install', '-y', 'time'], { stdio: 'inherit' }).status !== 0 || !existsSync(TIME)) fail('cannot install GNU time (apt-get install -y time)');
  }
  mkdirSync(REPORTS, { recursive: true });

  // Download everything before measuring anything (--recount needs no inputs).
  for (const p of opts.recount ? [] : pairs) {
    p.a = fetchDeb(p.pkg, p.va);
    p.b = p.vb ? fetchDeb(p.pkg, p.vb) : copyOf(p.a);
  }

  const results = [];
  for (const p of pairs) results.push(await runPair(p, opts));

  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const md =
    `# reprove vs diffoscope\n\n${when}; ${toolVersions()}; diffoscope timeout ${opts.timeoutMin} min.` +
    (opts.recount ? ' Recounted from the reports of the last run.' : '') + '\n' +
    'Times are wall seconds, memory is peak RSS (GNU time %M), files = differing leaf member paths in each JSON report.\n\n' +
    table(results) + '\n' +
    (details(results) ? `\n${details(results)}\n` : '');
  writeFileSync(join(WORK, 'results.md'), md);
  console.log(md);
  console.error(`bench: table written to ${join(WORK, 'results.md')}; reports in ${REPORTS}`);
}

await main();
