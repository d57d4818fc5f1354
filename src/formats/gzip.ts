// gzip (RFC 1952): header fields (mtime, original name, OS, ...) and the content.
import { createGunzip } from 'node:zlib';
import type { Artifact } from '../compare/artifact.js';
import { malformed } from '../compare/errors.js';
import { formatTime } from '../compare/members.js';
import { transformOutput } from '../compare/spill.js';
import { streamFormat } from './compression.js';
import { FORMAT } from './names.js';

const OS_NAMES = ['FAT', 'Amiga', 'VMS', 'Unix', 'VM/CMS', 'Atari TOS', 'HPFS', 'Macintosh', 'Z-System', 'CP/M', 'TOPS-20', 'NTFS', 'QDOS', 'Acorn RISCOS'];
const MAX_HEADER = 64 * 1024;

/** The fields of a gzip member header. */
export async function gzipHeader(a: Artifact): Promise<Record<string, string>> {
  const buf = await a.read(0, MAX_HEADER);
  if (buf.length < 10 || buf[0] !== 0x1f || buf[1] !== 0x8b) throw malformed(`Cannot read gzip header of ${a.name}: bad magic`);
  const flags = buf[3]!;
  const mtime = buf.readUInt32LE(4);
  const out: Record<string, string> = {
    method: buf[2] === 8 ? 'deflate' : `unknown (${buf[2]})`,
    mtime: mtime === 0 ? '0 (not set)' : `${mtime} (${formatTime(mtime)})`,
    'extra flags': buf[8] === 2 ? '2 (maximum compression)' : buf[8] === 4 ? '4 (fastest)' : String(buf[8]),
    os: `${buf[9]} (${OS_NAMES[buf[9]!] ?? (buf[9] === 255 ? 'unknown' : 'other')})`,
  };
  let pos = 10;
  const need = (n: number) => {
    if (pos + n > buf.length) throw malformed(`Cannot read gzip header of ${a.name}: header fields run past ${buf.length} bytes`);
  };
  const cString = () => {
    const end = buf.indexOf(0, pos);
    if (end < 0) throw malformed(`Cannot read gzip header of ${a.name}: unterminated string at offset ${pos}`);
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  if (flags & 4) {
    need(2);
    const xlen = buf.readUInt16LE(pos);
    need(2 + xlen);
    out['extra field'] = buf.subarray(pos + 2, pos + 2 + xlen).toString('hex');
    pos += 2 + xlen;
  }
  if (flags & 8) out['original name'] = cString();
  if (flags & 16) out['comment'] = cString();
  if (flags & 2) out['header crc'] = 'present';
  if (flags & 1) out['text flag'] = 'set';
  return out;
}

export const gzipFormat = streamFormat({
  name: FORMAT.gzip,
  extension: '.gz',
  magic: (h) => h.length >= 3 && h[0] === 0x1f && h[1] === 0x8b && h[2] === 8,
  fileName: /\.(gz|tgz)$/i,
  decompress: (a) => transformOutput(a, createGunzip()),
  header: gzipHeader,
});
