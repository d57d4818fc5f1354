// The RPM parser: the lead, the index entries of the signature header and the main
// header, and the display values of their tags, as our own reader of the bytes (no
// rpm library). It exists so the views, the integrity checks and the payload read
// one parsed package. Every index count, offset and length is checked against the
// bytes that remain before anything is allocated from it.
import { createHash } from 'node:crypto';
import type { Artifact } from '../compare/artifact.js';
import { asReproveError, malformed, truncated } from '../compare/errors.js';
import { tagName } from './rpm-tags.js';
import { NODE } from './names.js';

export const LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01]);
const LEAD_SIZE = 96;
/** rpm's own bounds (header.c hdrchkTags / hdrchkData): larger headers are refused by rpm too. */
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;
/** Larger BIN values are shown by their digest (a hex string of 256 MiB would not fit in a JS string). */
const MAX_BIN_HEX = 16 * 1024 * 1024;

export const RPM_TYPES = ['NULL', 'CHAR', 'INT8', 'INT16', 'INT32', 'INT64', 'STRING', 'BIN', 'STRING_ARRAY', 'I18NSTRING'] as const;
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];
const STRING = 6;
/** Type numbers the views show in their own way. */
export const BIN = 7;
export const I18NSTRING = 9;

export interface RpmTag {
  tag: number;
  name: string;
  type: number;
  count: number;
  /** One display string per element, as `rpm -qp --qf '[%{TAG}\n]'` prints it (BIN: one hex string). */
  values: string[];
}

export interface RpmHeader {
  /** Tags in tag-number order. */
  tags: RpmTag[];
  byName: Map<string, RpmTag>;
  /** The header's bytes from its magic to the end of its data store. */
  bytes: Buffer;
  offset: number;
}

export interface RpmPackage {
  lead: Record<string, string>;
  signature: RpmHeader;
  header: RpmHeader;
  payloadOffset: number;
  comments: string[];
}

/** Parses one header structure from `buf` (which holds exactly the header). */
function parseHeader(buf: Buffer, what: string, signature: boolean, offset: number): RpmHeader {
  const il = buf.readUInt32BE(8);
  const dl = buf.readUInt32BE(12);
  const storeStart = 16 + il * 16;
  const store = buf.subarray(storeStart, storeStart + dl);
  const tags: RpmTag[] = [];
  // Bytes the entries claim so far: rpm rejects overlapping entries, and so do we, which
  // bounds the decoded elements (and the work) by the store's size.
  let used = 0;
  const spans: [start: number, end: number, name: string][] = [];
  const claim = (start: number, bytes: number, where: string, name: string) => {
    used += bytes;
    if (used > dl) throw malformed(`Cannot read ${where}: the entries claim more than the ${dl}-byte data store holds (overlapping entries)`);
    spans.push([start, start + bytes, name]);
  };
  for (let i = 0; i < il; i++) {
    const e = 16 + i * 16;
    const tag = buf.readUInt32BE(e);
    const type = buf.readUInt32BE(e + 4);
    const off = buf.readUInt32BE(e + 8);
    const count = buf.readUInt32BE(e + 12);
    const name = tagName(tag, signature);
    const where = `${what}: entry ${i} (${name}, tag ${tag})`;
    if (type > I18NSTRING) throw malformed(`Cannot read ${where}: unknown type ${type}`);
    if (type === 0) {
      tags.push({ tag, name, type, count, values: [] });
      continue;
    }
    if (count === 0) throw malformed(`Cannot read ${where}: count is 0`);
    if (off >= dl) throw malformed(`Cannot read ${where}: offset ${off} is outside the ${dl}-byte data store`);
    const values: string[] = [];
    const size = TYPE_SIZE[type]!;
    if (size > 0) {
      if (off % size !== 0) throw malformed(`Cannot read ${where}: offset ${off} is not aligned to ${size} bytes for ${RPM_TYPES[type]}`);
      if (count > (dl - off) / size) throw malformed(`Cannot read ${where}: ${count} ${RPM_TYPES[type]} values at offset ${off} run past the ${dl}-byte data store`);
      claim(off, count * size, where, name);
      if (type === BIN)
        values.push(count <= MAX_BIN_HEX ? store.toString('hex', off, off + count) : `(${count} bytes, SHA-256 ${createHash('sha256').update(store.subarray(off, off + count)).digest('hex')})`);
      else
        for (let k = 0; k < count; k++) {
          const p = off + k * size;
          values.push(size === 1 ? String(store[p]) : size === 2 ? String(store.readUInt16BE(p)) : size === 4 ? String(store.readUInt32BE(p)) : store.readBigUInt64BE(p).toString());
        }
    } else {
      if (type === STRING && count !== 1) throw malformed(`Cannot read ${where}: a STRING has count ${count}, not 1`);
      // Every string takes at least its NUL: a count past the remaining bytes is hostile.
      if (count > dl - used) throw malformed(`Cannot read ${where}: ${count} strings cannot fit in the ${dl - used} bytes of the data store that other entries leave`);
      if (count > dl - off) throw malformed(`Cannot read ${where}: ${count} strings at offset ${off} cannot fit in the ${dl - off} bytes left of the data store`);
      let p = off;
      for (let k = 0; k < count; k++) {
        const nul = store.indexOf(0, p);
        if (nul < 0) throw malformed(`Cannot read ${where}: string ${k} at offset ${p} has no NUL before the end of the data store`);
        values.push(store.toString('utf8', p, nul));
        p = nul + 1;
      }
      claim(off, p - off, where, name);
    }
    tags.push({ tag, name, type, count, values });
  }
  spans.sort((x, y) => x[0] - y[0]);
  for (let k = 1; k < spans.length; k++)
    if (spans[k]![0] < spans[k - 1]![1])
      throw malformed(`Cannot read ${what}: the data of ${spans[k]![2]} (offset ${spans[k]![0]}) overlaps the data of ${spans[k - 1]![2]} (bytes ${spans[k - 1]![0]}..${spans[k - 1]![1]})`);
  tags.sort((x, y) => x.tag - y.tag);
  const byName = new Map<string, RpmTag>();
  for (const t of tags) if (!byName.has(t.name)) byName.set(t.name, t);
  return { tags, byName, bytes: buf, offset };
}

/** Reads the header structure at `offset`, checking its declared size against the bytes that remain. */
async function readHeader(a: Artifact, offset: number, what: string, signature: boolean): Promise<RpmHeader> {
  const intro = await a.readExact(offset, 16, what);
  if (!intro.subarray(0, 4).equals(HEADER_MAGIC))
    throw malformed(`Cannot read ${what} of ${a.name}: no header magic 8eade801 at offset ${offset} (found ${intro.toString('hex', 0, 4)})`);
  const il = intro.readUInt32BE(8);
  const dl = intro.readUInt32BE(12);
  if (il === 0 || il > MAX_TAGS) throw malformed(`Cannot read ${what} of ${a.name}: index count ${il} is outside 1..${MAX_TAGS}`);
  if (dl > MAX_DATA) throw malformed(`Cannot read ${what} of ${a.name}: data store size ${dl} is over ${MAX_DATA}`);
  const total = 16 + il * 16 + dl;
  if (total > a.size - offset)
    throw truncated(`Cannot read ${what} of ${a.name}: ${il} index entries and ${dl} bytes of data need ${total} bytes at offset ${offset}, only ${a.size - offset} remain`);
  const buf = await a.readExact(offset, total, what);
  return parseHeader(buf, `${what} of ${a.name}`, signature, offset);
}

function parseLead(b: Buffer, name: string): Record<string, string> {
  if (!b.subarray(0, 4).equals(LEAD_MAGIC)) throw malformed(`Cannot read RPM lead of ${name}: no magic edabeedb`);
  const nul = b.indexOf(0, 10);
  const type = b.readUInt16BE(6);
  return {
    version: `${b[4]}.${b[5]}`,
    type: type === 0 ? '0 (binary)' : type === 1 ? '1 (source)' : String(type),
    archnum: String(b.readUInt16BE(8)),
    name: b.toString('latin1', 10, nul < 0 || nul > 76 ? 76 : nul),
    osnum: String(b.readUInt16BE(76)),
    'signature type': String(b.readUInt16BE(78)),
    reserved: b.subarray(80, 96).every((c) => c === 0) ? 'zeros' : b.toString('hex', 80, 96),
  };
}

/** Lead, both headers and where the payload starts. */
export async function readRpm(a: Artifact): Promise<RpmPackage> {
  return readRpmUnlocated(a).catch((e: unknown) => {
    throw asReproveError(e, a.path);
  });
}

async function readRpmUnlocated(a: Artifact): Promise<RpmPackage> {
  const lead = parseLead(await a.readExact(0, LEAD_SIZE, 'RPM lead'), a.name);
  const comments: string[] = [];
  if (lead['signature type'] !== '5') comments.push(`${a.name}: lead signature type is ${lead['signature type']}, rpm writes 5 (header-style signature)`);
  const signature = await readHeader(a, LEAD_SIZE, NODE.rpmSignatureHeader, true);
  const sigEnd = LEAD_SIZE + signature.bytes.length;
  const header = await readHeader(a, sigEnd + ((8 - (sigEnd % 8)) % 8), NODE.rpmHeader, false);
  const payloadOffset = header.offset + header.bytes.length;
  return { lead, signature, header, payloadOffset, comments };
}

/** The values of a tag by name ([] when absent). */
export function tagValues(h: RpmHeader, name: string): string[] {
  return h.byName.get(name)?.values ?? [];
}