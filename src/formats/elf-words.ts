// Reading ELF fields: words in the file's byte order and class, and names from string
// tables, bounded so that a hostile offset cannot read past the table or run on.

export class Words {
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
    readonly is64: boolean,
  ) {}
  u8(o: number): number {
    return this.buf[o]!;
  }
  u16(o: number): number {
    return this.le ? this.buf.readUInt16LE(o) : this.buf.readUInt16BE(o);
  }
  u32(o: number): number {
    return this.le ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o);
  }
  u64(o: number): bigint {
    return this.le ? this.buf.readBigUInt64LE(o) : this.buf.readBigUInt64BE(o);
  }
  /** The high and low 32 bits of the 64-bit word at `o` (no BigInt: these are read per line of large tables). */
  private halves(o: number): [number, number] {
    return this.le ? [this.buf.readUInt32LE(o + 4), this.buf.readUInt32LE(o)] : [this.buf.readUInt32BE(o), this.buf.readUInt32BE(o + 4)];
  }
  /** A class-sized word in hex as `0x...`: what hex(word(o)) gives. */
  wordHex(o: number): string {
    if (!this.is64) return `0x${this.u32(o).toString(16)}`;
    const [hi, lo] = this.halves(o);
    return hi ? `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}` : `0x${lo.toString(16)}`;
  }
  /** A class-sized word in decimal: what String(word(o)) gives. */
  wordDecimal(o: number): string {
    if (!this.is64) return String(this.u32(o));
    const [hi, lo] = this.halves(o);
    return hi === 0 ? String(lo) : hi < 0x200000 ? String(hi * 0x100000000 + lo) : String(this.u64(o));
  }
  /** A signed class-sized word as ` + 0x...` or ` - 0x...` (its magnitude): how a RELA addend is shown. */
  signedHexTerm(o: number): string {
    if (!this.is64) {
      const v = this.le ? this.buf.readInt32LE(o) : this.buf.readInt32BE(o);
      return v < 0 ? ` - 0x${(-v).toString(16)}` : ` + 0x${v.toString(16)}`;
    }
    let [hi, lo] = this.halves(o);
    const negative = hi >= 0x80000000;
    if (negative) {
      // The magnitude, 2^64 minus the word, in halves.
      hi = (lo === 0 ? ~hi + 1 : ~hi) >>> 0;
      lo = (0x100000000 - lo) % 0x100000000;
    }
    const digits = hi ? `${hi.toString(16)}${lo.toString(16).padStart(8, '0')}` : lo.toString(16);
    return `${negative ? ' - ' : ' + '}0x${digits}`;
  }
  /** A 32-bit or 64-bit word depending on the class. */
  word(o: number): bigint {
    return this.is64 ? this.u64(o) : BigInt(this.u32(o));
  }
  /** Whether `size` bytes at `at` lie inside the buffer (`at` may come from the file). */
  fits(at: number, size: number): boolean {
    return Number.isSafeInteger(at) && at >= 0 && at + size <= this.buf.length;
  }
}

/** One NUL-terminated name from a string table, looking at most 4 KiB ahead. */
export function cString(table: Buffer, at: number): string | undefined {
  if (at >= table.length) return undefined;
  const end = table.indexOf(0, at);
  const stop = end < 0 ? Math.min(table.length, at + 4096) : Math.min(end, at + 4096);
  return table.toString('utf8', at, stop);
}

/** A name from a string table, or a placeholder saying where it should have been. */
export function nameAt(table: Buffer, at: number): string {
  return cString(table, at) ?? `<corrupt name, offset ${at}>`;
}
