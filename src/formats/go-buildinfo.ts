// Go's .go.buildinfo section (Go 1.18+ inline format): magic "\xff Go buildinf:",
// pointer size, flags, then the Go version and the module info as
// varint-prefixed strings. The module info lines are path, mod, dep and build
// settings (-trimpath, -ldflags, CGO_ENABLED, vcs.*).

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const FLAG_INLINE = 2;

export interface GoBuildInfo {
  version: string;
  /** Stable key -> value: 'version', 'path', 'mod', 'dep <module>', '<build setting>'. */
  fields: Map<string, string>;
  /** The text shown in the report. */
  text: string;
}

function uvarint(buf: Buffer, at: number): [number, number] | null {
  let x = 0;
  let mul = 1;
  for (let i = at; i < buf.length && i < at + 8; i++) {
    const b = buf[i]!;
    x += (b & 0x7f) * mul;
    if (b < 0x80) return [x, i + 1];
    mul *= 128;
  }
  return null;
}

/** Decodes the section, or returns a reason why it cannot. */
export function decodeGoBuildInfo(data: Buffer): GoBuildInfo | string {
  if (data.length < 32 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return 'no "\\xff Go buildinf:" magic';
  const flags = data[15]!;
  if (!(flags & FLAG_INLINE)) return `pre-Go-1.18 layout (pointer size ${data[14]}, flags 0x${flags.toString(16)}): strings are behind pointers, not decoded`;
  const strings: Buffer[] = [];
  let at = 32;
  for (const what of ['version', 'module info']) {
    const v = uvarint(data, at);
    if (!v) return `Cannot read the ${what} length at offset ${at}`;
    const [len, start] = v;
    if (len > data.length - start) return `Cannot read the ${what}: ${len} bytes at offset ${start} run past the section end (${data.length})`;
    strings.push(data.subarray(start, start + len));
    at = start + len;
  }
  const version = strings[0]!.toString('utf8');
  let modBytes = strings[1]!;
  // Module info is framed by two 16-byte sentinels (runtime/debug's format).
  if (modBytes.length >= 33 && modBytes[modBytes.length - 17] === 0x0a) modBytes = modBytes.subarray(16, -16);
  const mod = modBytes.toString('utf8');
  const fields = new Map<string, string>([['version', version]]);
  const lines = [`go version: ${version}`];
  for (const line of mod.split('\n')) {
    if (!line) continue;
    lines.push(line);
    const [kind, ...rest] = line.split('\t');
    if (kind === 'path') fields.set('path', rest.join('\t'));
    else if (kind === 'mod') fields.set('mod', rest.join(' '));
    else if (kind === 'dep' || kind === '=>') fields.set(`dep ${rest[0] ?? ''}`, rest.slice(1).join(' '));
    else if (kind === 'build') {
      const kv = rest.join('\t');
      const eq = kv.indexOf('=');
      fields.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
    }
  }
  return { version, fields, text: lines.join('\n') + '\n' };
}

const BUILD_ID_PREFIX = Buffer.from('\xff Go build ID: "', 'latin1');

/** The Go build ID that some Go binaries keep at the start of .text, if present. */
export function goTextBuildId(head: Buffer): string | undefined {
  if (!head.subarray(0, BUILD_ID_PREFIX.length).equals(BUILD_ID_PREFIX)) return undefined;
  const end = head.indexOf('"\n', BUILD_ID_PREFIX.length, 'latin1');
  if (end < 0) return undefined;
  return head.toString('latin1', BUILD_ID_PREFIX.length, end);
}
