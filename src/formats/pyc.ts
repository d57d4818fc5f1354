// Python bytecode (.pyc): the header (PEP 552: magic, flags, then mtime + source
// size or a SipHash of the source) field by field, then the marshalled code
// object, disassembled by a python3 whose magic number is the same (marshal
// and dis only: the code is never executed), else shown as hex.
import type { Artifact } from '../compare/artifact.js';
import { sameBytes } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, textDifference, type Difference } from '../compare/difference.js';
import { asReproveError, malformed, truncated } from '../compare/errors.js';
import { formatTime } from '../compare/members.js';
import { haveTool, runTool } from '../compare/tool.js';
import { compareBinary } from '../compare/hexdump.js';
import type { Format } from './format.js';

/** First magic number of each Python 3 minor version (importlib/_bootstrap_external.py). */
const VERSIONS: [number, string][] = [
  [3000, '3.0'],
  [3141, '3.1'],
  [3160, '3.2'],
  [3190, '3.3'],
  [3250, '3.4'],
  [3320, '3.5'],
  [3360, '3.6'],
  [3390, '3.7'],
  [3400, '3.8'],
  [3420, '3.9'],
  [3430, '3.10'],
  [3450, '3.11'],
  [3500, '3.12'],
  [3550, '3.13'],
  [3600, '3.14'],
  [3650, '3.15'],
];
const PY27 = 62211;
const MAX_MAGIC = 3999;
/** Magic numbers from which the header grew: source size (3.3a1), flags (3.7a4). */
const SIZE_FROM = 3210;
const FLAGS_FROM = 3392;
/** Disassembly output allowed per file. */
const MAX_DIS_OUTPUT = 32 << 20;
/** Code larger than this is not handed to python. */
const MAX_DIS_INPUT = 64 << 20;

function magicNumber(head: Buffer): number | undefined {
  if (head.length < 4 || head[2] !== 0x0d || head[3] !== 0x0a) return undefined;
  const n = head.readUInt16LE(0);
  return (n >= 3000 && n <= MAX_MAGIC) || n === PY27 ? n : undefined;
}

export function pythonVersion(magic: number): string {
  if (magic === PY27) return '2.7';
  let v = 'unknown';
  for (const [from, name] of VERSIONS) if (magic >= from) v = name;
  return magic >= VERSIONS[VERSIONS.length - 1]![0] ? `${v} or later` : v;
}

export interface PycHeader {
  magic: number;
  /** Where the marshalled code object starts. */
  codeOffset: number;
  fields: Record<string, string>;
}

export async function readPycHeader(a: Artifact): Promise<PycHeader> {
  const head = await a.read(0, 16);
  const magic = magicNumber(head);
  if (magic === undefined) throw malformed(`Cannot read pyc header of ${a.name}: magic ${head.subarray(0, 4).toString('hex')} is not a Python 2.7 or 3.x magic number`);
  const fields: Record<string, string> = { magic: `${head.subarray(0, 4).toString('hex')} (${magic}, Python ${pythonVersion(magic)})` };
  const need = (n: number) => {
    if (a.size < n) throw truncated(`Cannot read pyc header of ${a.name}: it is ${a.size} bytes, a Python ${pythonVersion(magic)} header is ${n}`);
  };
  const mtime = (at: number) => {
    const t = head.readUInt32LE(at);
    fields['mtime'] = `${t} (${formatTime(t)})`;
  };
  if (magic === PY27 || magic < SIZE_FROM) {
    need(8);
    mtime(4);
    return { magic, codeOffset: 8, fields };
  }
  if (magic < FLAGS_FROM) {
    need(12);
    mtime(4);
    fields['source size'] = String(head.readUInt32LE(8));
    return { magic, codeOffset: 12, fields };
  }
  need(16);
  const flags = head.readUInt32LE(4);
  if (flags & ~3) throw malformed(`Cannot read pyc header of ${a.name}: flags ${flags} has bits other than 0 and 1 set (Python rejects it)`);
  if (flags & 1) {
    fields['flags'] = `${flags} (hash-based, ${flags & 2 ? 'checked' : 'unchecked'})`;
    fields['source hash'] = head.subarray(8, 16).toString('hex');
  } else {
    fields['flags'] = `${flags} (timestamp-based${flags & 2 ? ', check_source bit set without effect' : ''})`;
    mtime(8);
    fields['source size'] = String(head.readUInt32LE(12));
  }
  return { magic, codeOffset: 16, fields };
}

// Reads the pyc from stdin; code objects depth first, each with its attributes and
// its own instructions. Memory addresses are dropped; frozensets print sorted.
// marshal is not made for hostile bytes (a forged length can keep it busy for
// minutes), so the process gets a CPU-time and an address-space limit first.
const DIS_SCRIPT = String.raw`
import sys, marshal, dis, importlib.util, re, types, resource
resource.setrlimit(resource.RLIMIT_CPU, (5, 6))
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
data = sys.stdin.buffer.read()
if data[:4] != importlib.util.MAGIC_NUMBER:
    sys.exit(3)
co = marshal.loads(data[int(sys.argv[1]):])
out = sys.stdout
addr = re.compile(r" at 0x[0-9a-fA-F]+")
def r(v):
    if isinstance(v, frozenset):
        return "frozenset({" + ", ".join(sorted(r(x) for x in v)) + "})"
    if isinstance(v, tuple):
        return "(" + ", ".join(r(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, types.CodeType):
        return "<code object %s, file %r, line %d>" % (v.co_name, v.co_filename, v.co_firstlineno)
    return addr.sub("", repr(v))
def show(c, path):
    out.write("code object %s\n" % path)
    for k in ("co_filename", "co_name", "co_qualname", "co_firstlineno", "co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize", "co_flags", "co_names", "co_varnames", "co_freevars", "co_cellvars"):
        if hasattr(c, k):
            v = getattr(c, k)
            out.write("  %s: %s\n" % (k, dis.pretty_flags(v) if k == "co_flags" else r(v)))
    out.write("  co_consts:\n")
    for i, v in enumerate(c.co_consts):
        out.write("    %d: %s\n" % (i, r(v)))
    out.write("  disassembly:\n")
    for line in dis.Bytecode(c).dis().splitlines():
        out.write(("    " + addr.sub("", line)).rstrip() + "\n")
    out.write("\n")
    for v in c.co_consts:
        if isinstance(v, types.CodeType):
            show(v, path + "." + v.co_name)
if not isinstance(co, types.CodeType):
    out.write("not a code object: %s\n" % r(co)[:1000])
else:
    show(co, co.co_name)
`;
import { settleAll } from '../compare/settle.js';
import { FORMAT, NODE } from './names.js';

/** A python3 whose MAGIC_NUMBER is `magic`, or null. Cached per magic. */
const interpreters = new Map<number, Promise<string | null>>();
function pythonFor(ctx: Context, magic: number, version: string): Promise<string | null> {
  let p = interpreters.get(magic);
  if (!p) {
    p = (async () => {
      const candidates = [...new Set([...(/^\d+\.\d+$/.test(version) ? [`python${version}`] : []), 'python3', '/usr/bin/python3'])];
      for (const cmd of candidates) {
        if (!(await haveTool(cmd))) continue;
        try {
          const r = await runTool(ctx, cmd, ['-I', '-S', '-c', 'import sys, importlib.util; print(importlib.util.MAGIC_NUMBER.hex(), sys.executable)'], { maxOutput: 4096 });
          const [hex, exe] = r.stdout.toString().trim().split(' ', 2);
          const want = Buffer.alloc(4);
          want.writeUInt16LE(magic, 0);
          want.write('\r\n', 2, 'latin1');
          // The real executable: shims (pyenv) cost a shell start per call.
          if (hex === want.toString('hex')) return exe || cmd;
        } catch {
          // not usable: try the next one
        }
      }
      return null;
    })();
    interpreters.set(magic, p);
  }
  return p;
}

async function disassemble(ctx: Context, python: string, a: Artifact, codeOffset: number): Promise<string> {
  // PYTHONHASHSEED fixes set iteration order inside the disassembler; -S and -s keep site code out.
  const r = await runTool(ctx, python, ['-s', '-S', '-B', '-c', DIS_SCRIPT, String(codeOffset)], { input: a, maxOutput: MAX_DIS_OUTPUT, env: { PYTHONHASHSEED: '0' } });
  return r.stdout.toString('utf8');
}

async function compareCode(a: Artifact, b: Artifact, ha: PycHeader, hb: PycHeader, ctx: Context): Promise<Difference | null> {
  const ca = a.slice(`${a.name} code`, { type: 'file', size: a.size - ha.codeOffset }, ha.codeOffset, a.size - ha.codeOffset);
  const cb = b.slice(`${b.name} code`, { type: 'file', size: b.size - hb.codeOffset }, hb.codeOffset, b.size - hb.codeOffset);
  if (await sameBytes(ca, cb)) return null;
  const comments: string[] = [];
  if (ha.magic === hb.magic && a.size <= MAX_DIS_INPUT && b.size <= MAX_DIS_INPUT) {
    const version = pythonVersion(ha.magic);
    const python = await pythonFor(ctx, ha.magic, version);
    if (python) {
      try {
        const [ta, tb] = await settleAll([disassemble(ctx, python, a, ha.codeOffset), disassemble(ctx, python, b, hb.codeOffset)]);
        const d = await textDifference(ctx, 'Python disassembly', 'Python disassembly', ta, tb);
        if (d) return d;
        comments.push('The disassembly is identical; the marshalled bytes differ (reference flags, string interning or marshal version)');
      } catch (err) {
        comments.push(`Cannot disassemble: ${asReproveError(err, a.path).describe()}`);
      }
    } else comments.push(`No python${version} with magic number ${ha.magic} on PATH to disassemble with; showing the marshalled code as hex`);
  }
  const d = await compareBinary(ca, cb, ctx);
  d.source1 = d.source2 = 'Python code object (marshal, hex)';
  d.comments.unshift(...comments);
  return d;
}

export const pycFormat: Format = {
  name: FORMAT.pyc,
  // Past the magic: valid flags and a marshalled code object ('c', maybe with its ref
  // bit), so that a text file starting "X\r\r\n" is not taken for bytecode.
  magic(head) {
    const m = magicNumber(head);
    if (m === undefined) return false;
    const codeOffset = m === PY27 || m < SIZE_FROM ? 8 : m < FLAGS_FROM ? 12 : 16;
    if (head.length <= codeOffset || (head[codeOffset]! & 0x7f) !== 0x63) return false;
    return codeOffset < 16 || (head.readUInt32LE(4) & ~3) === 0;
  },
  fileName: /\.py[co]$/,
  async compare(a, b, ctx) {
    const [ha, hb] = await settleAll([
      readPycHeader(a).catch((e: unknown) => {
        throw asReproveError(e, a.path);
      }),
      readPycHeader(b).catch((e: unknown) => {
        throw asReproveError(e, b.path);
      }),
    ]);
    const fa = { ...ha.fields, 'code size': String(a.size - ha.codeOffset) };
    const fb = { ...hb.fields, 'code size': String(b.size - hb.codeOffset) };
    const header = await headerDifference(ctx, NODE.pycHeader, fa, fb);
    const code = await compareCode(a, b, ha, hb, ctx);
    return group(a.name, b.name, [header, code]);
  },
};
