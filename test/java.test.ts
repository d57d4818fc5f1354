// Java classes compiled at test time with javac: javap's view of a changed
// class, the same class inside a jar, reprove's own reading when no javap is
// on PATH, and Mach-O fat binaries (same magic) not taken for classes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, diffoscopeJson, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('javac') || !haveCommand('javap') ? 'javac/javap not installed (no JDK): Java class tests skipped' : false);
const noJar = !haveCommand('jar') ? 'jar missing' : false;
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;
const JAVAP = 'javap -verbose -constants -s -l -private {}';

const child = (d: JsonNode | null | undefined, name: string) => d?.details?.find((c) => c.source1 === name);
const names = (d: JsonNode | null | undefined) => (d?.details ?? []).map((c) => c.source1);
const sorted = (s: Set<string>) => [...s].sort();

/** Two builds in a/ and b/ of p.C (its string differs) and p.D (the same). */
function sources(d: string): void {
  for (const [side, word] of [
    ['a', 'hello'],
    ['b', 'world'],
  ] as const) {
    mkdirSync(join(d, side, 'p'), { recursive: true });
    writeFileSync(join(d, side, 'p/C.java'), `package p;\npublic class C {\n  private static final int X = 1;\n  public String hi() { return "${word}"; }\n}\n`);
    writeFileSync(join(d, side, 'p/D.java'), 'package p;\npublic class D { int y; }\n');
  }
  sh(d, '(cd a && javac -d . p/*.java) && (cd b && javac -d . p/*.java) && touch -d 2020-01-01 a/p/*.class b/p/*.class');
}

test('two builds of a class: javap shows the changed constant and not the file it ran on', { skip }, (t) => {
  const d = workdir(t);
  sources(d);
  const { code, json } = reproveJson(`${d}/a/p/C.class`, `${d}/b/p/C.class`);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'java-class');
  assert.deepEqual(names(json), [JAVAP]);
  const diff = child(json, JAVAP)!.unified_diff!;
  assert.match(diff, /\n- +#\d+ = Utf8 +hello\n/);
  assert.match(diff, /\n\+ +#\d+ = Utf8 +world\n/);
  assert.match(diff, /\n- +0: ldc +#\d+ +\/\/ String hello\n\+ +0: ldc +#\d+ +\/\/ String world\n/);
  assert.doesNotMatch(diff, /Classfile |Last modified|checksum/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a/p/C.class`, `${d}/b/p/C.class`))));
});

test('a jar with one changed class: the path leads to that class, compared by javap', { skip: skip || noJar }, (t) => {
  const d = workdir(t);
  sources(d);
  sh(d, '(cd a && jar cf ../a.jar p/*.class) && (cd b && jar cf ../b.jar p/*.class)');
  const { code, json } = reproveJson(`${d}/a.jar`, `${d}/b.jar`);
  assert.equal(code, 1);
  assert.ok(memberPaths(json).has('p/C.class'), [...memberPaths(json)].join(', '));
  assert.ok(!memberPaths(json).has('p/D.class'));
  const c = child(json, 'p/C.class')!;
  assert.equal(c['reprove_format'], 'java-class');
  assert.match(child(c, JAVAP)!.unified_diff!, /\/\/ String world\n/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.jar`, `${d}/b.jar`))));
});

test('without javap on PATH: reprove reads the class structure itself and adds the hex dump', { skip }, (t) => {
  const d = workdir(t);
  sources(d);
  const bin = join(d, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const r = spawnSync(process.execPath, [CLI, 'diff', '--json', '-', `${d}/a/p/C.class`, `${d}/b/p/C.class`], { encoding: 'utf8', env: { PATH: bin, TZ: 'UTC' } });
  assert.equal(r.status, 1, r.stderr);
  const json = JSON.parse(r.stdout) as JsonNode;
  assert.deepEqual(names(json), ['class file structure', 'hex dump']);
  assert.match(json.comments!.join('\n'), /javap \(a JDK\) is not installed/);
  assert.match(child(json, 'class file structure')!.unified_diff!, /\n- +#\d+ = Utf8 "hello"\n\+ +#\d+ = Utf8 "world"\n/);
  // The structure view carries what javap's header shows.
  const whole = spawnSync(process.execPath, [CLI, 'diff', '--json', '-', `${d}/a/p/D.class`, `${d}/b/p/C.class`], { encoding: 'utf8', env: { PATH: bin, TZ: 'UTC' } });
  const view = child(JSON.parse(whole.stdout) as JsonNode, 'class file structure')!.unified_diff!;
  assert.match(view, /\n version: \d+\.0 \(Java \d+\)\n/);
  assert.match(view, /\n-this class: p\/D\n\+this class: p\/C\n super class: java\/lang\/Object\n/);
  assert.match(view, /\n\+  method hi \(\)Ljava\/lang\/String; 0x0001 \(public\)\n/);
});

test('a Mach-O fat binary (same magic, small architecture count) is not taken for a class', (t) => {
  const d = workdir(t);
  const fat = (n: number) => {
    const b = Buffer.alloc(64, n);
    b.writeUInt32BE(0xcafebabe, 0);
    b.writeUInt32BE(2, 4);
    return b;
  };
  writeFileSync(join(d, 'a'), fat(1));
  writeFileSync(join(d, 'b'), fat(3));
  const { code, json } = reproveJson(`${d}/a`, `${d}/b`);
  assert.equal(code, 1);
  assert.notEqual(json!['reprove_format'], 'java-class');
});

test('a truncated class file gets a clear comment and the binary fallback', { skip }, (t) => {
  const d = workdir(t);
  sources(d);
  sh(d, 'head -c 40 a/p/C.class > cut.class');
  const bin = join(d, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const r = spawnSync(process.execPath, [CLI, 'diff', '--json', '-', `${d}/a/p/C.class`, `${d}/cut.class`], { encoding: 'utf8', env: { PATH: bin, TZ: 'UTC' } });
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const json = JSON.parse(r.stdout) as JsonNode;
  assert.match(json.comments!.join('\n'), /Cannot compare as java-class: Cannot read constant \d+ \(tag 1\) of class file \S*cut\.class: needs \d+ bytes at offset \d+, the file ends at 40/);
});

test('a class file reprove cannot read is never handed to javap (a JVM start per hostile input); a readable one is', { skip }, (t) => {
  const d = workdir(t);
  sources(d);
  sh(d, 'head -c 40 a/p/C.class > cut.class');
  // A javap that only records that it ran, first on PATH.
  const bin = join(d, 'bin');
  mkdirSync(bin);
  const calls = join(d, 'javap-calls');
  writeFileSync(join(bin, 'javap'), `#!/bin/sh\necho "$@" >> ${calls}\nexit 1\n`, { mode: 0o755 });
  const run = (x: string, y: string) => spawnSync(process.execPath, [CLI, 'diff', '--json', '-', x, y], { encoding: 'utf8', env: { PATH: `${bin}:${process.env['PATH']}`, TZ: 'UTC' } });
  const hostile = run(`${d}/a/p/C.class`, `${d}/cut.class`);
  assert.equal(hostile.status, 1, hostile.stderr);
  assert.equal(existsSync(calls), false, 'javap ran on an unreadable class file');
  const readable = run(`${d}/a/p/C.class`, `${d}/b/p/C.class`);
  assert.equal(readable.status, 1, readable.stderr);
  assert.match(readFileSync(calls, 'utf8'), /-private \S+\.class \S+\.class\n/);
});

test('a jar of many changed classes: one JVM runs javap for the batch, and each class gets exactly its own view', { skip: skip || noJar }, (t) => {
  const d = workdir(t);
  const count = 40;
  for (const side of ['a', 'b']) {
    mkdirSync(join(d, side, 'p'), { recursive: true });
    for (let i = 0; i < count; i++) writeFileSync(join(d, side, `p/K${i}.java`), `package p;\npublic class K${i} {\n  public String v() { return "${side}-${i}"; }\n}\n`);
    // A class that is the same on both sides, and one that is unreadable on side b.
    writeFileSync(join(d, side, 'p/Same.java'), 'package p;\npublic class Same { int y; }\n');
  }
  sh(d, '(cd a && javac -d . p/*.java) && (cd b && javac -d . p/*.java) && touch -d 2020-01-01 a/p/*.class b/p/*.class');
  sh(d, 'cp a/p/Same.class a/p/Cut.class && head -c 40 a/p/Same.class > b/p/Cut.class');
  sh(d, '(cd a && jar cf ../a.jar p/*.class) && (cd b && jar cf ../b.jar p/*.class)');
  // The real javap behind one that records each run.
  const bin = join(d, 'bin');
  mkdirSync(bin);
  const calls = join(d, 'javap-calls');
  const real = sh(d, 'command -v javap').trim();
  writeFileSync(join(bin, 'javap'), `#!/bin/sh\necho "$#" >> ${calls}\nexec ${real} "$@"\n`, { mode: 0o755 });
  const r = spawnSync(process.execPath, [CLI, 'diff', '--json', '-', `${d}/a.jar`, `${d}/b.jar`], { encoding: 'utf8', maxBuffer: 64 << 20, env: { PATH: `${bin}:${process.env['PATH']}`, TZ: 'UTC' } });
  assert.equal(r.status, 1, r.stderr);
  const json = JSON.parse(r.stdout) as JsonNode;
  for (let i = 0; i < count; i++) {
    const view = child(child(json, `p/K${i}.class`), JAVAP);
    assert.ok(view, `p/K${i}.class has a javap view`);
    // Its own strings, not a neighbour's: the batch output was split at the right places.
    assert.match(view.unified_diff!, new RegExp(`\\n- +#\\d+ = Utf8 +a-${i}\\n`));
    assert.match(view.unified_diff!, new RegExp(`\\n\\+ +#\\d+ = Utf8 +b-${i}\\n`));
    assert.doesNotMatch(view.unified_diff!, new RegExp(`Utf8 +[ab]-(?!${i}\\n)\\d+\\n`));
  }
  assert.ok(!memberPaths(json).has('p/Same.class'));
  assert.ok(memberPaths(json).has('p/Cut.class'));
  const runs = readFileSync(calls, 'utf8').trim().split('\n');
  assert.equal(runs.length, 1, `javap ran ${runs.length} times`);
  // JVM options and javap's own, then the 40 pairs: the unreadable class was left out.
  assert.equal(Number(runs[0]), 3 + 5 + 2 * count);
});
