// Java .class files: `javap -verbose` of both sides (one JVM start for the pair,
// or for a hundred pairs of the same jar) when a JDK is installed; else our own
// reading of the structure (version, constant pool, flags, this/super class,
// interfaces, fields, methods, attributes) plus the hex dump.
import { rm, writeFile } from 'node:fs/promises';
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, textDifference, type Difference } from '../compare/difference.js';
import { asReproveError, malformed, truncated } from '../compare/errors.js';
import { haveTool, runTool } from '../compare/tool.js';
import { compareBinary } from '../compare/hexdump.js';
import type { Format, MemberPair } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';

const MAGIC = 0xcafebabe;
/** Mach-O fat binaries share the magic; there the next word is a small architecture count. */
const MIN_MAJOR = 45;
const MAX_MAJOR = 100;
const MAX_JAVAP_OUTPUT = 32 << 20;
const MAX_CLASS = 64 << 20;
export const JAVAP_ARGS = ['-verbose', '-constants', '-s', '-l', '-private'];
/** The view's name, as diffoscope names its javap view. */
const JAVAP_VIEW = `javap ${JAVAP_ARGS.join(' ')} {}`;
/** A small, bounded JVM for javap: one GC thread, no optimising compiler, a capped heap. */
const JVM_ARGS = ['-J-XX:+UseSerialGC', '-J-XX:TieredStopAtLevel=1', '-J-Xmx256m'];

const ACCESS: [number, string][] = [
  [0x0001, 'public'],
  [0x0002, 'private'],
  [0x0004, 'protected'],
  [0x0008, 'static'],
  [0x0010, 'final'],
  [0x0020, 'super/synchronized'],
  [0x0040, 'volatile/bridge'],
  [0x0080, 'transient/varargs'],
  [0x0100, 'native'],
  [0x0200, 'interface'],
  [0x0400, 'abstract'],
  [0x0800, 'strict'],
  [0x1000, 'synthetic'],
  [0x2000, 'annotation'],
  [0x4000, 'enum'],
  [0x8000, 'module/mandated'],
];

function flags(v: number): string {
  const names = ACCESS.filter(([bit]) => v & bit).map(([, n]) => n);
  return `0x${v.toString(16).padStart(4, '0')}${names.length ? ` (${names.join(', ')})` : ''}`;
}

/** Our own reading of a class file, as text; every length is checked before it is used. */
export function describeClass(buf: Buffer, name: string): string {
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > buf.length) throw truncated(`Cannot read ${what} of class file ${name}: needs ${n} bytes at offset ${pos}, the file ends at ${buf.length}`);
  };
  const u1 = (what: string) => (need(1, what), buf[pos++]!);
  const u2 = (what: string) => (need(2, what), (pos += 2), buf.readUInt16BE(pos - 2));
  const u4 = (what: string) => (need(4, what), (pos += 4), buf.readUInt32BE(pos - 4));
  if (u4('the magic') !== MAGIC) throw malformed(`Cannot read ${name}: not a class file (bad magic)`);
  const minor = u2('the version');
  const major = u2('the version');
  const out: string[] = [`version: ${major}.${minor}${major >= 45 ? ` (Java ${major >= 49 ? major - 44 : `1.${major - 44}`})` : ''}`];
  const poolCount = u2('the constant pool count');
  out.push(`constant pool count: ${poolCount}`);
  const utf8: (string | undefined)[] = [];
  const classRef: (number | undefined)[] = [];
  const pool: string[] = [];
  for (let i = 1; i < poolCount; i++) {
    const at = pos;
    const tag = u1(`constant ${i}`);
    const what = `constant ${i} (tag ${tag})`;
    switch (tag) {
      case 1: {
        const len = u2(what);
        need(len, what);
        // Modified UTF-8; plain UTF-8 decoding is right for all but NUL and supplementary characters.
        utf8[i] = buf.toString('utf8', pos, pos + len);
        pos += len;
        pool.push(`#${i} = Utf8 ${JSON.stringify(utf8[i])}`);
        break;
      }
      case 3:
        pool.push(`#${i} = Integer ${buf.readInt32BE((need(4, what), pos))}`);
        pos += 4;
        break;
      case 4:
        pool.push(`#${i} = Float ${buf.readFloatBE((need(4, what), pos))}`);
        pos += 4;
        break;
      case 5:
      case 6:
        need(8, what);
        pool.push(`#${i} = ${tag === 5 ? `Long ${buf.readBigInt64BE(pos)}` : `Double ${buf.readDoubleBE(pos)}`}`);
        pos += 8;
        i++; // takes two slots
        break;
      case 7:
        classRef[i] = u2(what);
        pool.push(`#${i} = Class #${classRef[i]}`);
        break;
      case 8:
      case 16:
      case 19:
      case 20:
        pool.push(`#${i} = ${{ 8: 'String', 16: 'MethodType', 19: 'Module', 20: 'Package' }[tag]} #${u2(what)}`);
        break;
      case 9:
      case 10:
      case 11:
      case 12:
      case 17:
      case 18: {
        const x = u2(what);
        const y = u2(what);
        pool.push(`#${i} = ${{ 9: 'Fieldref', 10: 'Methodref', 11: 'InterfaceMethodref', 12: 'NameAndType', 17: 'Dynamic', 18: 'InvokeDynamic' }[tag]} #${x}.#${y}`);
        break;
      }
      case 15: {
        const kind = u1(what);
        pool.push(`#${i} = MethodHandle ${kind}:#${u2(what)}`);
        break;
      }
      default:
        throw malformed(`Cannot read constant ${i} of class file ${name}: unknown tag ${tag} at offset ${at}`);
    }
  }
  const str = (i: number) => utf8[i] ?? `#${i}`;
  const cls = (i: number) => (i === 0 ? '(none)' : classRef[i] !== undefined ? str(classRef[i]!) : `#${i} (not a class)`);
  out.push(`access flags: ${flags(u2('the access flags'))}`);
  out.push(`this class: ${cls(u2('this class'))}`);
  out.push(`super class: ${cls(u2('the super class'))}`);
  const nIf = u2('the interface count');
  need(2 * nIf, 'the interfaces');
  const ifs: string[] = [];
  for (let i = 0; i < nIf; i++) ifs.push(cls(u2('an interface')));
  out.push(`interfaces: ${ifs.join(', ') || '(none)'}`);
  const attributes = (indent: string, owner: string) => {
    const n = u2(`the attribute count of ${owner}`);
    for (let i = 0; i < n; i++) {
      const an = str(u2(`attribute ${i} of ${owner}`));
      const len = u4(`attribute ${an} of ${owner}`);
      need(len, `attribute ${an} of ${owner}`);
      const extra = an === 'SourceFile' && len === 2 ? ` ${JSON.stringify(str(buf.readUInt16BE(pos)))}` : '';
      out.push(`${indent}attribute ${an}: ${len} bytes${extra}`);
      pos += len;
    }
  };
  for (const kind of ['field', 'method']) {
    const n = u2(`the ${kind} count`);
    out.push(`${kind}s: ${n}`);
    for (let i = 0; i < n; i++) {
      const acc = u2(`${kind} ${i}`);
      const mn = str(u2(`${kind} ${i}`));
      const desc = str(u2(`${kind} ${i}`));
      out.push(`  ${kind} ${mn} ${desc} ${flags(acc)}`);
      attributes('    ', `${kind} ${mn}`);
    }
  }
  attributes('', 'the class');
  if (pos !== buf.length) out.push(`${buf.length - pos} bytes after the class file's end`);
  out.push('constant pool:', ...pool.map((p) => `  ${p}`));
  return out.join('\n') + '\n';
}

/** javap's output for one file, without the lines that name the temporary file or hash its bytes. */
function cleanJavap(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(Classfile |  Last modified |  (MD5|SHA-256) checksum )/.test(l))
    .join('\n');
}

/** javap over several class files in one run (one JVM start), its output split back per file. */
async function javapFiles(ctx: Context, classes: Buffer[], maxOutput: number): Promise<string[]> {
  const files = classes.map((_, i) => ctx.tmp.file(`${i}.class`));
  try {
    await settleAll(classes.map((c, i) => writeFile(files[i]!, c)));
    const r = await runTool(ctx, 'javap', [...JVM_ARGS, ...JAVAP_ARGS, ...files], { maxOutput });
    const text = r.stdout.toString('utf8');
    // javap prints the classes in the order given, each from its "Classfile PATH" line.
    const starts: number[] = [];
    for (const f of files) {
      const header = `Classfile ${f}\n`;
      const prev = starts[starts.length - 1];
      const at = prev === undefined ? (text.startsWith(header) ? 0 : -1) : text.indexOf(`\n${header}`, prev);
      if (at < 0) throw malformed(`Cannot read javap's output: no "Classfile" line for each class`);
      starts.push(prev === undefined ? 0 : at + 1);
    }
    return starts.map((at, i) => cleanJavap(text.slice(at, starts[i + 1] ?? text.length)));
  } finally {
    await settleAll(files.map((f) => rm(f, { force: true })));
  }
}

/**
 * Class pairs of one container whose javap views are made by one JVM, started when the
 * first of them is compared (a JVM start costs more than javap's reading of a hundred
 * classes: a jar of 589 changed classes went from a JVM per class, over 300 s, to 11 s).
 */
interface Batch {
  pairs: MemberPair[];
  views?: Promise<Map<Artifact, [string, string]>>;
  /** The container's next batch, started with this one so that two JVMs keep two cores busy. */
  next?: Batch;
}
const BATCH_PAIRS = 100;
const BATCH_BYTES = 2 << 20;
const MAX_BATCH_OUTPUT = 64 << 20;
const CLASS_NAME = /\.class$/;
const planned = new WeakMap<Artifact, Batch>();

function planBatches(pairs: readonly MemberPair[]): void {
  let batch: Batch | undefined;
  let bytes = 0;
  for (const p of pairs) {
    const size = p.a.size + p.b.size;
    if (!CLASS_NAME.test(p.a.name) || !CLASS_NAME.test(p.b.name) || size > BATCH_BYTES || planned.has(p.a)) continue;
    if (!batch || batch.pairs.length >= BATCH_PAIRS || bytes + size > BATCH_BYTES) {
      const next: Batch = { pairs: [] };
      if (batch) batch.next = next;
      batch = next;
      bytes = 0;
    }
    batch.pairs.push(p);
    bytes += size;
    planned.set(p.a, batch);
  }
}

/** javap's views of a batch's pairs that differ and that reprove can read (hostile bytes never reach the JVM). */
async function runBatch(ctx: Context, pairs: MemberPair[]): Promise<Map<Artifact, [string, string]>> {
  const taken: Artifact[] = [];
  const classes: Buffer[] = [];
  for (const p of pairs) {
    const [ba, bb] = await settleAll([p.a.readAll(MAX_CLASS), p.b.readAll(MAX_CLASS)]);
    if (ba.equals(bb)) continue;
    try {
      describeClass(ba, p.a.name);
      describeClass(bb, p.b.name);
    } catch {
      continue;
    }
    taken.push(p.a);
    classes.push(ba, bb);
  }
  const views = taken.length ? await javapFiles(ctx, classes, MAX_BATCH_OUTPUT) : [];
  return new Map(taken.map((a, i) => [a, [views[2 * i]!, views[2 * i + 1]!]]));
}

/** javap's views of a pair: from its batch when it has one (and the batch ran), else a run of its own. */
async function javapPair(ctx: Context, a: Artifact, ba: Buffer, bb: Buffer): Promise<[string, string]> {
  const batch = planned.get(a);
  if (batch) {
    planned.delete(a);
    const start = (x: Batch) => (x.views ??= runBatch(ctx, x.pairs));
    if (batch.next) start(batch.next).catch(() => undefined);
    const views = await start(batch).catch(() => undefined);
    const v = views?.get(a);
    if (v) {
      views!.delete(a);
      return v;
    }
  }
  const [ta, tb] = await javapFiles(ctx, [ba, bb], MAX_JAVAP_OUTPUT);
  return [ta!, tb!];
}

function majorVersion(head: Buffer): number | undefined {
  if (head.length < 10 || head.readUInt32BE(0) !== MAGIC) return undefined;
  const major = head.readUInt16BE(6);
  return major >= MIN_MAJOR && major < MAX_MAJOR ? major : undefined;
}

export const javaClassFormat: Format = {
  name: FORMAT.javaClass,
  magic: (head) => majorVersion(head) !== undefined,
  fileName: CLASS_NAME,
  prepare: planBatches,
  async compare(a, b, ctx) {
    const [ba, bb] = await settleAll([a.readAll(MAX_CLASS), b.readAll(MAX_CLASS)]);
    // reprove's own reading first: a class file it cannot read is not handed to a JVM (hostile bytes
    // cost a JVM start each, and javap fails on them too); the caller then shows the bytes.
    const describe = (buf: Buffer, x: Artifact) => {
      try {
        return describeClass(buf, x.name);
      } catch (err) {
        throw asReproveError(err, x.path);
      }
    };
    const [sa, sb] = [describe(ba, a), describe(bb, b)];
    const comments: string[] = [];
    if (await haveTool('javap')) {
      try {
        const [ta, tb] = await javapPair(ctx, a, ba, bb);
        const d = await textDifference(ctx, JAVAP_VIEW, JAVAP_VIEW, ta, tb);
        if (d) return group(a.name, b.name, [d]);
        comments.push('javap shows no difference');
      } catch (err) {
        comments.push(`javap failed: ${asReproveError(err, a.path).describe()}`);
      }
    } else comments.push('javap (a JDK) is not installed: showing reprove\'s own reading of the class files and their hex dump');
    const view = await textDifference(ctx, 'class file structure', 'class file structure', sa, sb, { kind: 'content' });
    const hex: Difference = await compareBinary(a, b, ctx);
    hex.source1 = hex.source2 = 'hex dump';
    return group(a.name, b.name, [view, hex], { comments });
  },
};
