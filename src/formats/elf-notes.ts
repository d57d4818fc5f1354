// ELF note sections (SHT_NOTE) decoded by our own reader: GNU build-id and ABI
// tag, Go's build ID, the FDO package note (.note.package), others as hex.
// Every length is checked against the bytes that remain.

export interface Note {
  owner: string;
  type: number;
  typeName: string;
  /** Display value: hex, text or JSON. */
  value: string;
  /** Stable machine name when the note is one the explain stage knows. */
  field?: string;
}

const GNU_TYPES: Record<number, string> = {
  1: 'NT_GNU_ABI_TAG',
  2: 'NT_GNU_HWCAP',
  3: 'NT_GNU_BUILD_ID',
  4: 'NT_GNU_GOLD_VERSION',
  5: 'NT_GNU_PROPERTY_TYPE_0',
};
const ABI_OS: Record<number, string> = { 0: 'Linux', 1: 'Hurd', 2: 'Solaris', 3: 'FreeBSD', 4: 'NetBSD', 5: 'Syllable', 6: 'NaCl' };
const NT_FDO_PACKAGING_METADATA = 0xcafe1a7e;

function printable(b: Buffer): boolean {
  for (const c of b) if (c < 0x20 && c !== 0x0a && c !== 0x09) return false;
  return true;
}

function decodeOne(owner: string, type: number, desc: Buffer, le: boolean): Note {
  const u32 = (o: number) => (le ? desc.readUInt32LE(o) : desc.readUInt32BE(o));
  const hex = desc.toString('hex');
  if (owner === 'GNU') {
    const typeName = GNU_TYPES[type] ?? `type 0x${type.toString(16)}`;
    if (type === 3) return { owner, type, typeName, value: hex, field: 'NT_GNU_BUILD_ID' };
    if (type === 1 && desc.length >= 16) {
      const os = ABI_OS[u32(0)] ?? `OS ${u32(0)}`;
      return { owner, type, typeName, value: `OS: ${os}, ABI: ${u32(4)}.${u32(8)}.${u32(12)}`, field: 'NT_GNU_ABI_TAG' };
    }
    if (type === 4 && printable(desc)) return { owner, type, typeName, value: desc.toString('latin1').replace(/\0+$/, '') };
    return { owner, type, typeName, value: hex };
  }
  if (owner === 'Go' && type === 4) {
    return { owner, type, typeName: 'NT_GO_BUILDID', value: desc.toString('latin1').replace(/\0+$/, ''), field: 'NT_GO_BUILDID' };
  }
  if (owner === 'FDO' && type === NT_FDO_PACKAGING_METADATA) {
    const text = desc.toString('utf8').replace(/\0+$/, '');
    return { owner, type, typeName: 'NT_FDO_PACKAGING_METADATA', value: text, field: 'NT_FDO_PACKAGING_METADATA' };
  }
  if (owner === 'stapsdt' && type === 3) return { owner, type, typeName: 'NT_STAPSDT', value: hex };
  return { owner, type, typeName: `type 0x${type.toString(16)}`, value: hex };
}

/** The notes of one SHT_NOTE section; a malformed tail becomes a problem line, not an error. */
export function decodeNotes(data: Buffer, le: boolean, align: number): { notes: Note[]; problem?: string } {
  const notes: Note[] = [];
  const a = align === 8 ? 8 : 4;
  const pad = (n: number) => (n + a - 1) & ~(a - 1);
  let off = 0;
  while (off < data.length) {
    if (data.length - off < 12) return { notes, problem: `Cannot read note at offset ${off}: only ${data.length - off} bytes remain, a note header is 12` };
    const rd = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
    const namesz = rd(off);
    const descsz = rd(off + 4);
    const type = rd(off + 8);
    const nameAt = off + 12;
    const descAt = nameAt + pad(namesz);
    if (namesz > data.length - nameAt || descsz > data.length - descAt || descAt > data.length)
      return { notes, problem: `Cannot read note at offset ${off}: name of ${namesz} and description of ${descsz} bytes run past the section end (${data.length})` };
    const owner = data.toString('latin1', nameAt, nameAt + namesz).replace(/\0+$/, '');
    notes.push(decodeOne(owner, type, data.subarray(descAt, descAt + descsz), le));
    off = descAt + pad(descsz);
  }
  return { notes };
}

export function notesText(notes: Note[], problem?: string): string {
  const lines = notes.map((n) => `${n.owner} ${n.typeName}: ${n.value}`);
  if (problem) lines.push(problem);
  return lines.length ? lines.join('\n') + '\n' : '';
}
