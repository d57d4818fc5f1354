// A small XML-RPC client for koji's hub, over fetch. The codec is built on
// fast-xml-parser with parseTagValue and trimValues off (a string stays the exact
// string, "007" stays "007"); <nil/> is null, <i8> a bigint (koji's 64-bit ids and
// sizes; <int>/<i4> stay numbers), faults are KojiFault errors with their code,
// and multiCall answers each call's result or fault in order. Keyword arguments go
// the way koji's own client sends them: a last struct with `__starstar: true`.
import { XMLParser } from 'fast-xml-parser';

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

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

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
  return `<value><struct>${Object.entries(v)
    .map(([k, x]) => `<member><name>${escape(k)}</name>${encodeValue(x)}</member>`)
    .join('')}</struct></value>`;
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

// preserveOrder output: each node is { tag: children[] } (plus ':@' attributes) or { '#text': string }.
type Node = Record<string, unknown>;
const parser = new XMLParser({ preserveOrder: true, parseTagValue: false, trimValues: false, ignoreAttributes: true, processEntities: true, ignoreDeclaration: true });

const tagOf = (n: Node) => Object.keys(n).find((k) => k !== ':@')!;
const childrenOf = (n: Node) => (n[tagOf(n)] as Node[]) ?? [];
const elements = (nodes: Node[]) => nodes.filter((n) => tagOf(n) !== '#text');
const textOf = (nodes: Node[]) => nodes.map((n) => (tagOf(n) === '#text' ? String(n['#text']) : '')).join('');

function decodeValue(value: Node, depth = 0): XmlRpcValue {
  if (depth > 64) throw new KojiTransportError('Cannot read the koji answer: values nested more than 64 deep');
  const kids = childrenOf(value);
  const typed = elements(kids);
  if (typed.length === 0) return textOf(kids); // <value>text</value> is a string
  const t = typed[0]!;
  const tag = tagOf(t);
  const inner = childrenOf(t);
  const text = textOf(inner);
  switch (tag) {
    case 'nil':
    case 'ex:nil':
      return null;
    case 'string':
      return text;
    case 'int':
    case 'i4': {
      const n = Number(text.trim());
      if (!Number.isSafeInteger(n)) throw new KojiTransportError(`Cannot read the koji answer: <${tag}>${text.slice(0, 40)}</${tag}> is not an integer`);
      return n;
    }
    case 'i8':
    case 'ex:i8':
      if (!/^\s*[-+]?\d{1,20}\s*$/.test(text)) throw new KojiTransportError(`Cannot read the koji answer: <i8>${text.slice(0, 40)}</i8> is not an integer`);
      return BigInt(text.trim());
    case 'boolean':
      return text.trim() === '1';
    case 'double':
      return Number(text.trim());
    case 'dateTime.iso8601': {
      const m = /^(\d{4})-?(\d\d)-?(\d\d)T(\d\d):(\d\d):(\d\d)/.exec(text.trim());
      return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : text;
    }
    case 'base64':
      return Buffer.from(text, 'base64').toString('latin1');
    case 'array': {
      const data = elements(inner).find((n) => tagOf(n) === 'data');
      return data ? elements(childrenOf(data)).filter((n) => tagOf(n) === 'value').map((v) => decodeValue(v, depth + 1)) : [];
    }
    case 'struct': {
      const out: Record<string, XmlRpcValue> = {};
      for (const m of elements(inner)) {
        if (tagOf(m) !== 'member') continue;
        const parts = elements(childrenOf(m));
        const name = parts.find((p) => tagOf(p) === 'name');
        const v = parts.find((p) => tagOf(p) === 'value');
        // defineProperty: a member named __proto__ is data, not the object's prototype.
        if (name && v) Object.defineProperty(out, textOf(childrenOf(name)), { value: decodeValue(v, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      throw new KojiTransportError(`Cannot read the koji answer: unknown XML-RPC type <${tag.slice(0, 40)}>`);
  }
}

/** A methodResponse: its value, or a KojiFault. */
export function decodeResponse(xml: string, method: string): XmlRpcValue {
  let doc: Node[];
  try {
    doc = parser.parse(xml) as Node[];
  } catch (e) {
    throw new KojiTransportError(`Cannot read the koji answer to ${method}: not XML (${(e as Error).message})`);
  }
  const resp = elements(doc).find((n) => tagOf(n) === 'methodResponse');
  if (!resp) throw new KojiTransportError(`Cannot read the koji answer to ${method}: no methodResponse`);
  const body = elements(childrenOf(resp))[0];
  if (!body) throw new KojiTransportError(`Cannot read the koji answer to ${method}: an empty methodResponse`);
  if (tagOf(body) === 'fault') {
    const v = elements(childrenOf(body)).find((n) => tagOf(n) === 'value');
    const f = (v ? decodeValue(v) : {}) as { faultCode?: unknown; faultString?: unknown };
    throw new KojiFault(Number(f.faultCode ?? 0), String(f.faultString ?? ''), method);
  }
  const param = elements(childrenOf(body)).find((n) => tagOf(n) === 'param');
  const v = param && elements(childrenOf(param)).find((n) => tagOf(n) === 'value');
  if (!v) throw new KojiTransportError(`Cannot read the koji answer to ${method}: no value`);
  return decodeValue(v);
}

/** A methodCall (the test's hub reads requests with it). */
export function decodeCall(xml: string): { method: string; params: XmlRpcValue[] } {
  const doc = parser.parse(xml) as Node[];
  const call = elements(doc).find((n) => tagOf(n) === 'methodCall');
  if (!call) throw new KojiTransportError('Cannot read the call: no methodCall');
  const parts = elements(childrenOf(call));
  const name = parts.find((p) => tagOf(p) === 'methodName');
  const params = parts.find((p) => tagOf(p) === 'params');
  return {
    method: name ? textOf(childrenOf(name)) : '',
    params: params ? elements(childrenOf(params)).map((p) => decodeValue(elements(childrenOf(p)).find((v) => tagOf(v) === 'value')!)) : [],
  };
}

/** Keyword arguments, koji's way. */
export const kwargs = (o: Record<string, XmlRpcValue>): XmlRpcValue => ({ ...o, __starstar: true });

export interface KojiBuildInfo {
  build_id: number;
  id: number;
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  nvr: string;
  state: number;
  task_id: number | null;
  owner_name?: string;
  completion_ts?: number;
  [k: string]: unknown;
}
export interface KojiRpmInfo {
  id: number;
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string;
  build_id: number;
  buildroot_id: number | null;
  payloadhash: string;
  size: number | bigint;
  [k: string]: unknown;
}
export interface KojiTask {
  id: number;
  method: string;
  arch: string;
  label?: string | null;
  create_ts?: number;
  state: number;
  [k: string]: unknown;
}

export interface KojiClientOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class KojiClient {
  constructor(
    readonly hubUrl: string,
    private readonly options: KojiClientOptions = {},
  ) {}

  async call<T = XmlRpcValue>(method: string, ...params: XmlRpcValue[]): Promise<T> {
    const signals = [AbortSignal.timeout(this.options.timeoutMs ?? 60_000), ...(this.options.signal ? [this.options.signal] : [])];
    let text: string;
    try {
      const res = await fetch(this.hubUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeCall(method, params), signal: AbortSignal.any(signals) });
      text = await res.text();
      if (!res.ok) throw new KojiTransportError(`Cannot call koji ${method} at ${this.hubUrl}: HTTP ${res.status}`);
    } catch (e) {
      if (e instanceof KojiTransportError) throw e;
      const err = e as Error;
      throw new KojiTransportError(`Cannot call koji ${method} at ${this.hubUrl}: ${err.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs ?? 60_000} ms` : ((err.cause as Error | undefined)?.message ?? err.message)}`);
    }
    if (text.length > 256 << 20) throw new KojiTransportError(`Cannot read the koji answer to ${method}: over 256 MiB`);
    return decodeResponse(text, method) as T;
  }

  /** Several calls in one request; each answer is its value or a KojiFault. */
  async multiCall(calls: { method: string; params: XmlRpcValue[] }[]): Promise<(XmlRpcValue | KojiFault)[]> {
    const answers = await this.call<XmlRpcValue[]>('multiCall', calls.map((c) => ({ methodName: c.method, params: c.params })));
    if (!Array.isArray(answers) || answers.length !== calls.length) throw new KojiTransportError(`Cannot read the koji multiCall answer: ${Array.isArray(answers) ? answers.length : 'no'} answers to ${calls.length} calls`);
    return answers.map((a, i) => {
      if (Array.isArray(a)) return a[0] ?? null;
      const f = a as { faultCode?: unknown; faultString?: unknown };
      return new KojiFault(Number(f?.faultCode ?? 0), String(f?.faultString ?? 'no answer'), calls[i]!.method);
    });
  }

  getBuild(build: number | string): Promise<KojiBuildInfo | null> {
    return this.call('getBuild', build);
  }
  listRPMs(buildID: number): Promise<KojiRpmInfo[]> {
    return this.call('listRPMs', kwargs({ buildID }));
  }
  getTaskChildren(taskId: number): Promise<KojiTask[]> {
    return this.call('getTaskChildren', taskId);
  }
  listBuildroots(taskID: number): Promise<{ id: number; arch: string; [k: string]: unknown }[]> {
    return this.call('listBuildroots', kwargs({ taskID }));
  }
  getBuildroot(id: number): Promise<Record<string, XmlRpcValue> | null> {
    return this.call('getBuildroot', id);
  }
  getBuildrootListing(id: number): Promise<Record<string, XmlRpcValue>[]> {
    return this.call('getBuildrootListing', id);
  }
  getRPMChecksums(rpmId: number): Promise<Record<string, Record<string, string>>> {
    return this.call('getRPMChecksums', rpmId, kwargs({ checksum_types: ['sha256'] }));
  }
  listTagged(tag: string, options: { latest?: boolean; inherit?: boolean } = {}): Promise<KojiBuildInfo[]> {
    return this.call('listTagged', tag, kwargs({ latest: options.latest ?? true, inherit: options.inherit ?? false }));
  }
}
