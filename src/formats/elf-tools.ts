// The external programs ELF views use: objdump for code, readelf for DWARF. Each runs on a
// file on disk (the artifact itself, or a temporary copy), bounded in output, and its text
// is cleaned of what names that file. Whether objdump can leave addresses out is asked of
// objdump once, not learnt from a failed run.
import { constants, createWriteStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { runTool } from '../compare/tool.js';
import { hex, SHF_EXECINSTR, SHT_NOBITS, type Elf, type Section } from './elf-parse.js';

/** Disassembly of a section larger than this is limited to the window around its differences. */
export const DISASSEMBLY_WINDOW = 256 << 10;

/** readelf --debug-dump groups, by section name (without the .debug_ prefix). A Map: a section may be named .debug_constructor. */
const DWARF_GROUPS = new Map(Object.entries({
  info: 'info', line: 'rawline', abbrev: 'abbrev', aranges: 'aranges', frame: 'frames', loc: 'loc', loclists: 'loc',
  ranges: 'ranges', rnglists: 'ranges', macro: 'macro', pubnames: 'pubnames', pubtypes: 'pubtypes', gnu_pubnames: 'pubnames',
}));

/** The readelf --debug-dump group that shows a DWARF section (.debug_*, .zdebug_*, *.dwo), if any. */
export function dwarfGroup(sectionName: string): string | undefined {
  return DWARF_GROUPS.get(sectionName.replace(/^\.z?debug_/, '').replace(/\.dwo$/, ''));
}

/** A file on disk holding the artifact's bytes, for objdump and readelf. */
const onDisk = new WeakMap<Artifact, Promise<string>>();
function diskPath(a: Artifact, ctx: Context): Promise<string> {
  let p = onDisk.get(a);
  if (!p) {
    p = (async () => {
      const src = a.source;
      if (src.kind === 'file' && src.offset === 0 && a.fsPath === src.file) return src.file;
      const file = ctx.tmp.file('elf');
      await pipeline(a.stream(), createWriteStream(file));
      return file;
    })();
    onDisk.set(a, p);
  }
  return p;
}

/**
 * Where a program named without a path is found on PATH, as spawning it would find it;
 * kept per PATH value (each disassembly asks, and a lookup is a dozen file system calls).
 */
const pathLookups = new Map<string, Promise<string | undefined>>();
function onPath(cmd: string): Promise<string | undefined> {
  const key = `${cmd}\0${process.env.PATH ?? ''}`;
  let found = pathLookups.get(key);
  if (!found) {
    found = lookUp(cmd);
    pathLookups.set(key, found);
  }
  return found;
}

async function lookUp(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = resolve(join(dir || '.', cmd));
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // Not here: the next directory.
    }
  }
  return undefined;
}

/**
 * Whether objdump has --no-addresses (binutils 2.36 and later), by its --help text: asked
 * once per objdump executable and kept, so every run in the process, concurrent ones
 * included, uses the same flags and no run fails to find out. A failed question is not
 * kept: the next disassembly asks again.
 */
const noAddressesSupport = new Map<string, Promise<boolean>>();
export async function objdumpHasNoAddresses(ctx: Context): Promise<boolean> {
  const exe = (await onPath('objdump')) ?? 'objdump';
  let known = noAddressesSupport.get(exe);
  if (!known) {
    const asked = runTool(ctx, exe, ['--help'], { maxOutput: 1 << 20 }).then((r) => /--no-addresses\b/.test(r.stdout.toString('utf8')));
    asked.catch(() => {
      if (noAddressesSupport.get(exe) === asked) noAddressesSupport.delete(exe);
    });
    noAddressesSupport.set(exe, asked);
    known = asked;
  }
  return known;
}

/**
 * objdump's disassembly of the named sections without addresses: neither the column in
 * front of each instruction (diffoscope drops that one too) nor the absolute targets of
 * jumps and calls, which are kept as symbol+offset. Code that moved then differs only
 * where the instructions or the displacements they encode differ, not on every line.
 * objdump before 2.36 lacks --no-addresses: it gets the column stripped instead.
 */
export async function disassemble(e: Elf, names: string[], ctx: Context, window?: [bigint, bigint]): Promise<string> {
  const file = await diskPath(e.a, ctx);
  const args = ['-d', '--no-show-raw-insn', ...names.flatMap((n) => ['-j', n])];
  if (window) args.push(`--start-address=${hex(window[0])}`, `--stop-address=${hex(window[1])}`);
  const max = Math.min(ctx.limits.maxDiffInputSize, 64 << 20);
  const noAddresses = await objdumpHasNoAddresses(ctx);
  const r = await runTool(ctx, 'objdump', [...(noAddresses ? ['--no-addresses'] : []), ...args, file], { maxOutput: max });
  // Drop objdump's "FILE: file format" line (it names our temporary file).
  const text = r.stdout.toString('utf8').replace(/^[^\n]*:\s+file format [^\n]*\n/m, '');
  return (noAddresses ? text : text.replace(/^[ \t]*[0-9a-f]+:\t/gm, '\t')).replace(/^\n+/, '');
}

/**
 * The small code sections of one file that will be shown, disassembled by one objdump run
 * on first use and split back per section (each the text a run for it alone gives): a
 * process start per section is most of the cost for the many small ones (.init, .plt, .fini).
 */
export type SharedDisassembly = (name: string) => Promise<string> | undefined;

export function sharedDisassembly(e: Elf, names: string[], ctx: Context): SharedDisassembly {
  const wanted = new Set(names);
  let run: Promise<Map<string, string>> | undefined;
  return (name) => {
    if (!wanted.has(name)) return undefined;
    run ??= disassemble(e, names, ctx).then((text) => {
      const parts = new Map<string, string>();
      for (const part of text.split(/\n(?=Disassembly of section [^\n]*:\n)/)) {
        const m = /^Disassembly of section ([^\n]*):\n/.exec(part);
        if (m) parts.set(m[1]!, part);
      }
      return parts;
    });
    return run.then((parts) => parts.get(name) ?? '');
  };
}

/** Code sections shown whole (not windowed), with names unique on both sides, when there are several. */
export function smallCodeSections(ea: Elf, eb: Elf, shown: [Section, Section, unknown][]): string[] {
  const unique = (e: Elf, name: string) => e.sections.filter((s) => s.name === name).length === 1;
  const code = (s: Section) => Number(s.flags & BigInt(SHF_EXECINSTR)) && s.type !== SHT_NOBITS && s.avail <= DISASSEMBLY_WINDOW;
  const names = shown.filter(([sa, sb]) => sa.name === sb.name && code(sa) && code(sb) && unique(ea, sa.name) && unique(eb, sb.name)).map(([sa]) => sa.name);
  return names.length > 1 ? names : [];
}

/** readelf's text of one --debug-dump group, with the file's name replaced by {}. */
export async function debugDump(e: Elf, group: string, ctx: Context): Promise<string> {
  const file = await diskPath(e.a, ctx);
  // Past this, a DWARF dump is shown as bytes: readelf's text would cost more memory than it helps.
  const max = Math.min(ctx.limits.maxDiffInputSize, 16 << 20);
  const r = await runTool(ctx, 'readelf', ['--wide', `--debug-dump=${group}`, file], { maxOutput: max });
  return r.stdout.toString('utf8').split(file).join('{}');
}
