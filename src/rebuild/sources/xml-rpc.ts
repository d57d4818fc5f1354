// The XML-RPC codec koji's hub speaks, written by hand: a burst of build
// notifications makes thousands of calls a second, and a general XML parser that
// builds a node tree first was most of the listener's time. It reads exactly
// XML-RPC: methodResponse (params or fault) and methodCall, strings kept exactly
// ("007" stays "007", whitespace kept), <nil/> as null, <i8> as a bigint (koji's
// 64-bit ids and sizes; <int>/<i4> stay numbers), the five XML entities and
// character references, CDATA, comments and processing instructions; a DOCTYPE
// (entity definitions) is refused. Anything else is a KojiTransportError naming
// what it found.

export type XmlRpcValue = null | boolean | number | bigint | string | Date | XmlRpcValue[] | { [key: string]: XmlRpcValue };

export class KojiFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
    readonly method: string,
  ) {
    super(`koji ${method} failed: fault ${faultCode}: ${faultString.slice(0, 500)}`);
    this.name = 'KojiFault';
  }
}

/** The hub could not be reached, timed out, or answered something that is not XML-RPC. */
export class KojiTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KojiTransportError';
  }
}

const escape = (s: string) => (/[&<>]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : s);

export function encodeValue(v: XmlRpcValue | undefined): string {
  if (v === null || v === undefined) return '<value><nil/></value>';
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'bigint') return `<value><i8>${v}</i8></value>`;
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return Math.abs(v) < 2 ** 31 ? `<value><int>${v}</int></value>` : `<value><i8>${v}</i8></value>`;
    return `<value><double>${v}</double></value>`;
  }
  if (typeof v === 'string') return `<value><string>${escape(v)}</string></value>`;
  if (v instanceof Date) return `<value><dateTime.iso8601>${v.toISOString().replace(/\.\d+Z$/, '').replace(/[-]/g, '')}</dateTime.iso8601></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  let members = '';
  for (const k of Object.keys(v)) members += `<member><name>${escape(k)}</name>${encodeValue(v[k])}</member>`;
  return `<value><struct>${members}</struct></value>`;
}

export function encodeCall(method: string, params: XmlRpcValue[]): string {
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escape(method)}</methodName><params>${params.map((p) => `<param>${encodeValue(p)}</param>`).join('')}</params></methodCall>`;
}

export function encodeResponse(value: XmlRpcValue): string {
  return `<?xml version="1.0"?>\n<methodResponse><params><param>${encodeValue(value)}</param></params></methodResponse>`;
}

export function encodeFault(code: number, message: string): string {
  return `<?xml version="1.0"?>\n<methodResponse><fault>${encodeValue({ faultCode: code, faultString: message })}</fault></methodResponse>`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** A start, end or empty-element tag at the cursor (attributes allowed and ignored). */
const TAG = /<(\/?)([A-Za-z_][\w.:-]*)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;
const MAX_DEPTH = 64;

interface Tag {
  closing: boolean;
  name: string;
  empty: boolean;
  end: number;
}

/** A cursor over one XML-RPC document. */
class Reader {
  pos = 0;
  constructor(
    readonly xml: string,
    readonly what: string,
  ) {}

  fail(message: string): never {
    throw new KojiTransportError(`Cannot read ${this.what}: ${message} (at byte ${this.pos})`);
  }

  private decodeText(raw: string): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) this.fail('a bare "&" in text');
      if (ref[0] === '#') {
        const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (code > 0x10ffff) this.fail(`the character reference ${whole}`);
        return String.fromCodePoint(code);
      }
      return ENTITIES[ref] ?? this.fail(`the unknown entity ${whole}`);
    });
  }

  /** Skips a comment or processing instruction at the cursor; false when there is none. */
  private skipMarkup(): boolean {
    const x = this.xml;
    if (x.startsWith('<!--', this.pos)) {
      const end = x.indexOf('-->', this.pos + 4);
      if (end < 0) this.fail('an unterminated comment');
      this.pos = end + 3;
      return true;
    }
    if (x.startsWith('<?', this.pos)) {
      const end = x.indexOf('?>', this.pos + 2);
      if (end < 0) this.fail('an unterminated processing instruction');
      this.pos = end + 2;
      return true;
    }
    if (x.startsWith('<!DOCTYPE', this.pos) || (x.startsWith('<!', this.pos) && !x.startsWith('<![CDATA[', this.pos))) this.fail('a DOCTYPE or declaration, which XML-RPC has no use for');
    return false;
  }

  /** Skips whitespace, comments and processing instructions; text other than whitespace is an error. */
  private skipSpace(): void {
    const x = this.xml;
    for (;;) {
      while (this.pos < x.length && (x.charCodeAt(this.pos) === 32 || x.charCodeAt(this.pos) === 10 || x.charCodeAt(this.pos) === 13 || x.charCodeAt(this.pos) === 9)) this.pos++;
      if (this.pos >= x.length || x.charCodeAt(this.pos) !== 60 /* < */) return;
      if (!this.skipMarkup()) return;
    }
  }

  /** The last tag read by peek and where it starts: open() after peek() does not read it again. */
  private peeked: Tag | null = null;
  private peekedAt = -1;

  /** The tag at the cursor (after space), without moving past it; null at text or the end. */
  peek(): Tag | null {
    this.skipSpace();
    if (this.pos >= this.xml.length) return null;
    if (this.xml.charCodeAt(this.pos) !== 60) this.fail(`text ${JSON.stringify(this.xml.slice(this.pos, this.pos + 20))} where an element was expected`);
    const t = this.peekHere();
    if (!t) this.fail(`${JSON.stringify(this.xml.slice(this.pos, this.pos + 20))}, not a tag`);
    return t;
  }

  /** Consumes the start tag `name`; true when it was an empty element (<name/>). */
  open(name: string): boolean {
    const t = this.peek();
    if (!t || t.closing || t.name !== name) this.fail(`${t ? `<${t.closing ? '/' : ''}${t.name}>` : 'the end'} where <${name}> was expected`);
    this.pos = t.end;
    return t.empty;
  }

  close(name: string): void {
    const t = this.peek();
    if (!t || !t.closing || t.name !== name) this.fail(`${t ? `<${t.closing ? '/' : ''}${t.name}>` : 'the end'} where </${name}> was expected`);
    this.pos = t.end;
  }

  /** Character data up to the end tag `name` (consumed): text, references, CDATA; no elements. */
  text(name: string): string {
    const x = this.xml;
    let out = '';
    for (;;) {
      const lt = x.indexOf('<', this.pos);
      if (lt < 0) this.fail(`an unterminated <${name}>`);
      if (lt > this.pos) out += this.decodeText(x.slice(this.pos, lt));
      this.pos = lt;
      if (x.startsWith('<![CDATA[', lt)) {
        const end = x.indexOf(']]>', lt + 9);
        if (end < 0) this.fail('an unterminated CDATA section');
        out += x.slice(lt + 9, end);
        this.pos = end + 3;
      } else if (!this.skipMarkup()) {
        this.close(name);
        return out;
      }
    }
  }

  /** A <value> whose start tag was consumed, up to and with its end tag. */
  value(depth: number): XmlRpcValue {
    if (depth > MAX_DEPTH) this.fail(`values nested more than ${MAX_DEPTH} deep`);
    const x = this.xml;
    const start = this.pos;
    // <value>text</value> is a string; otherwise one typed element, space around it.
    for (;;) {
      const lt = x.indexOf('<', this.pos);
      if (lt < 0) this.fail('an unterminated <value>');
      this.pos = lt;
      if (x.startsWith('<![CDATA[', lt)) {
        this.pos = start;
        return this.text('value');
      }
      if (!this.skipMarkup()) break;
    }
    const t = this.peekHere();
    if (t && t.closing && t.name === 'value') {
      this.pos = start;
      return this.text('value');
    }
    if (x.slice(start, this.pos).trim() !== '') this.fail('text beside a typed value');
    if (!t || t.closing) this.fail('a <value> without a type');
    this.pos = t.end;
    const v = this.typed(t.name, t.empty, depth);
    this.close('value');
    return v;
  }

  /** The tag starting at the cursor, or null. Plain tags (XML-RPC's) are scanned by hand; one with attributes goes through TAG. */
  private peekHere(): Tag | null {
    if (this.peekedAt === this.pos) return this.peeked;
    const x = this.xml;
    let i = this.pos + 1;
    const closing = x.charCodeAt(i) === 47; /* / */
    if (closing) i++;
    const start = i;
    for (let c = x.charCodeAt(i); (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 58 || c === 95 || c === 45; c = x.charCodeAt(++i));
    let t: Tag | null = null;
    const c = x.charCodeAt(i);
    const name = x.slice(start, i);
    const first = x.charCodeAt(start);
    if (i > start && !(first >= 48 && first <= 57) && first !== 46 && first !== 45) {
      if (c === 62 /* > */) t = { closing, name, empty: false, end: i + 1 };
      else if (c === 47 && x.charCodeAt(i + 1) === 62 && !closing) t = { closing, name, empty: true, end: i + 2 };
    }
    if (!t) {
      TAG.lastIndex = this.pos;
      const m = TAG.exec(x);
      t = m ? { closing: m[1] === '/', name: m[2]!, empty: m[3] === '/', end: TAG.lastIndex } : null;
    }
    this.peeked = t;
    this.peekedAt = this.pos;
    return t;
  }

  private typed(tag: string, empty: boolean, depth: number): XmlRpcValue {
    switch (tag) {
      case 'nil':
      case 'ex:nil':
        if (!empty) this.close(tag);
        return null;
      case 'string':
        return empty ? '' : this.text(tag);
      case 'int':
      case 'i4': {
        const text = empty ? '' : this.text(tag);
        const n = Number(text.trim());
        if (text.trim() === '' || !Number.isSafeInteger(n)) this.fail(`<${tag}>${text.slice(0, 40)}</${tag}> is not an integer`);
        return n;
      }
      case 'i8':
      case 'ex:i8': {
        const text = empty ? '' : this.text(tag);
        if (!/^\s*[-+]?\d{1,20}\s*$/.test(text)) this.fail(`<i8>${text.slice(0, 40)}</i8> is not an integer`);
        return BigInt(text.trim());
      }
      case 'boolean':
        return (empty ? '' : this.text(tag)).trim() === '1';
      case 'double':
        return Number((empty ? '' : this.text(tag)).trim());
      case 'dateTime.iso8601': {
        const text = empty ? '' : this.text(tag);
        const m = /^(\d{4})-?(\d\d)-?(\d\d)T(\d\d):(\d\d):(\d\d)/.exec(text.trim());
        return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : text;
      }
      case 'base64':
        return Buffer.from(empty ? '' : this.text(tag), 'base64').toString('latin1');
      case 'array': {
        const out: XmlRpcValue[] = [];
        if (empty) return out;
        if (!this.open('data')) {
          for (let t = this.peek(); t && !(t.closing && t.name === 'data'); t = this.peek()) {
            if (this.open('value')) out.push('');
            else out.push(this.value(depth + 1));
          }
          this.close('data');
        }
        this.close('array');
        return out;
      }
      case 'struct': {
        const out: Record<string, XmlRpcValue> = {};
        if (empty) return out;
        for (let t = this.peek(); t && !(t.closing && t.name === 'struct'); t = this.peek()) {
          this.open('member');
          let name: string | undefined;
          let value: XmlRpcValue | undefined;
          for (let m = this.peek(); m && !(m.closing && m.name === 'member'); m = this.peek()) {
            if (m.name === 'name' && !m.closing) name = this.open('name') ? '' : this.text('name');
            else if (m.name === 'value' && !m.closing) value = this.open('value') ? '' : this.value(depth + 1);
            else this.fail(`<${m.closing ? '/' : ''}${m.name}> in a struct member`);
          }
          this.close('member');
          // defineProperty: a member named __proto__ is data, not the object's prototype.
          if (name === undefined || value === undefined) continue;
          if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
          else out[name] = value;
        }
        this.close('struct');
        return out;
      }
      default:
        this.fail(`unknown XML-RPC type <${tag.slice(0, 40)}>`);
    }
  }

  /** A <param><value>…</value></param>. */
  param(): XmlRpcValue {
    if (this.open('param')) this.fail('an empty <param/>');
    const v = this.open('value') ? '' : this.value(0);
    this.close('param');
    return v;
  }

  end(): void {
    if (this.peek() !== null) this.fail('more after the document element');
  }
}

/** A methodResponse: its value, or a KojiFault. */
export function decodeResponse(xml: string, method: string): XmlRpcValue {
  const r = new Reader(xml, `the koji answer to ${method}`);
  if (r.open('methodResponse')) r.fail('an empty methodResponse');
  const t = r.peek();
  if (t && !t.closing && t.name === 'fault') {
    r.open('fault');
    const f = (r.open('value') ? {} : r.value(0)) as { faultCode?: unknown; faultString?: unknown };
    throw new KojiFault(Number(f.faultCode ?? 0), String(f.faultString ?? ''), method);
  }
  if (r.open('params')) r.fail('no value');
  const v = r.param();
  r.close('params');
  r.close('methodResponse');
  r.end();
  return v;
}

/** A methodCall (the test's hub reads requests with it). */
export function decodeCall(xml: string): { method: string; params: XmlRpcValue[] } {
  const r = new Reader(xml, 'the call');
  if (r.open('methodCall')) r.fail('an empty methodCall');
  const method = r.open('methodName') ? '' : r.text('methodName');
  const params: XmlRpcValue[] = [];
  const t = r.peek();
  if (t && !t.closing && t.name === 'params' && !r.open('params')) {
    for (let p = r.peek(); p && !(p.closing && p.name === 'params'); p = r.peek()) params.push(r.param());
    r.close('params');
  }
  r.close('methodCall');
  r.end();
  return { method, params };
}
