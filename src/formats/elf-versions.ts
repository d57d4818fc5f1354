// GNU symbol versioning: .gnu.version_d (versions a library defines), .gnu.version_r
// (versions it needs, per library) and .gnu.version (the version of each dynamic
// symbol), decoded into lines as `readelf --version-info` and `nm -D --with-symbol-versions`
// show them. Every offset is checked and every chain is bounded by the section's size,
// so a hostile `next` field cannot loop or read outside the section.
import { nameAt, Words } from './elf-words.js';

export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

const VER_FLG_BASE = 1;
const VER_FLG_WEAK = 2;
const VERSYM_HIDDEN = 0x8000;

/** A version section as lines, and the version names it gives to version indexes. */
export interface Versions {
  text: string;
  names: Map<number, string>;
}

function flagNames(flags: number): string {
  const names = [flags & VER_FLG_BASE ? 'base' : '', flags & VER_FLG_WEAK ? 'weak' : ''].filter(Boolean);
  const other = flags & ~(VER_FLG_BASE | VER_FLG_WEAK);
  if (other) names.push(`0x${other.toString(16)}`);
  return names.join(', ');
}

/**
 * Walks a chain of records linked by relative `next` offsets: at most as many records as
 * the section could hold, each inside it; a problem ends the walk with a line saying so.
 */
function chain(r: Words, start: number, size: number, nextAt: number, count: number, visit: (at: number) => void, out: string[], what: string): void {
  let at = start;
  const max = Math.min(count, Math.floor(r.buf.length / size));
  for (let i = 0; i < max; i++) {
    if (!r.fits(at, size)) {
      out.push(`(${what} at offset ${at} is outside the section)`);
      return;
    }
    visit(at);
    const next = r.u32(at + nextAt);
    if (next === 0) return;
    at += next;
  }
}

/** .gnu.version_d: one line per version defined: index, flags, name and the names it inherits from. */
export function verdefVersions(data: Buffer, strtab: Buffer, le: boolean): Versions {
  const r = new Words(data, le, false);
  const out: string[] = [];
  const names = new Map<number, string>();
  chain(
    r,
    0,
    20,
    16,
    Infinity,
    (at) => {
      const [flags, index, count, aux] = [r.u16(at + 2), r.u16(at + 4), r.u16(at + 6), r.u32(at + 12)];
      const verNames: string[] = [];
      chain(r, at + aux, 8, 4, count, (x) => verNames.push(nameAt(strtab, r.u32(x))), out, 'version name');
      names.set(index, verNames[0] ?? '');
      const f = flagNames(flags);
      out.push(`${index}: ${verNames[0] ?? '(no name)'}${f ? ` (${f})` : ''}${verNames.length > 1 ? ` parents: ${verNames.slice(1).join(', ')}` : ''}`);
    },
    out,
    'version definition',
  );
  return { text: out.length ? out.join('\n') + '\n' : '', names };
}

/** .gnu.version_r: for each library, the versions needed from it with their index and flags. */
export function verneedVersions(data: Buffer, strtab: Buffer, le: boolean): Versions {
  const r = new Words(data, le, false);
  const out: string[] = [];
  const names = new Map<number, string>();
  chain(
    r,
    0,
    16,
    12,
    Infinity,
    (at) => {
      const [count, file, aux] = [r.u16(at + 2), nameAt(strtab, r.u32(at + 4)), r.u32(at + 8)];
      out.push(`${file}:`);
      chain(
        r,
        at + aux,
        16,
        12,
        count,
        (x) => {
          const [flags, index, name] = [r.u16(x + 4), r.u16(x + 6), nameAt(strtab, r.u32(x + 8))];
          names.set(index & 0x7fff, name);
          const f = flagNames(flags);
          out.push(`  ${name} (index ${index & 0x7fff}${f ? `, ${f}` : ''})`);
        },
        out,
        'needed version',
      );
    },
    out,
    'version need',
  );
  return { text: out.length ? out.join('\n') + '\n' : '', names };
}

/**
 * .gnu.version: each dynamic symbol with its version, `name@VERSION` (`name@@VERSION` for
 * the default version a library defines, as nm prints them), in symbol table order.
 */
export function versymLines(data: Buffer, symbolNames: string[], versions: Map<number, string>, defined: Set<number>, le: boolean): string {
  const r = new Words(data, le, false);
  const out: string[] = [];
  for (let i = 0; 2 * i + 2 <= data.length; i++) {
    const v = r.u16(2 * i);
    const index = v & ~VERSYM_HIDDEN;
    const name = symbolNames[i] ?? `#${i}`;
    if (index === 0) out.push(`${name} (local)`);
    else if (index === 1) out.push(`${name} (global)`);
    else {
      const version = versions.get(index) ?? `<version ${index}>`;
      out.push(`${name}${defined.has(index) && !(v & VERSYM_HIDDEN) ? '@@' : '@'}${version}`);
    }
  }
  if (data.length % 2) out.push('(1 trailing byte)');
  return out.length ? out.join('\n') + '\n' : '';
}
