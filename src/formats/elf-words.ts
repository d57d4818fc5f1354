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
