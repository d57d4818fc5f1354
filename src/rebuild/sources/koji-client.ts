// A small XML-RPC client for koji's hub, over fetch (the codec is xml-rpc.ts).
// multiCall answers each call's result or fault in order. Keyword arguments go
// the way koji's own client sends them: a last struct with `__starstar: true`.
import { mapLimited } from '../../compare/semaphore.js';
import { KojiFault, KojiTransportError, decodeResponse, encodeCall, type XmlRpcValue } from './xml-rpc.js';

export { KojiFault, KojiTransportError, decodeCall, decodeResponse, encodeCall, encodeFault, encodeResponse, encodeValue, type XmlRpcValue } from './xml-rpc.js';

/** One call of a multiCall. */
export interface KojiCall {
  method: string;
  params: XmlRpcValue[];
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
  async multiCall(calls: KojiCall[]): Promise<(XmlRpcValue | KojiFault)[]> {
    const answers = await this.call<XmlRpcValue[]>('multiCall', calls.map((c) => ({ methodName: c.method, params: c.params })));
    if (!Array.isArray(answers) || answers.length !== calls.length) throw new KojiTransportError(`Cannot read the koji multiCall answer: ${Array.isArray(answers) ? answers.length : 'no'} answers to ${calls.length} calls`);
    return answers.map((a, i) => {
      if (Array.isArray(a)) return a[0] ?? null;
      const f = a as { faultCode?: unknown; faultString?: unknown };
      return new KojiFault(Number(f?.faultCode ?? 0), String(f?.faultString ?? 'no answer'), calls[i]!.method);
    });
  }

  /**
   * Many calls as few multiCall requests: identical calls (same method and
   * parameters) are made once, at most `perRequest` calls go in one request and
   * `parallel` requests run at once. Each answer is its value or a KojiFault, in the
   * order of `calls`; a request that fails as a whole (transport) rejects.
   */
  async multiCallAll(calls: KojiCall[], options: { perRequest?: number; parallel?: number } = {}): Promise<(XmlRpcValue | KojiFault)[]> {
    const slots = new Map<string, number>();
    const unique: KojiCall[] = [];
    const slotOf = calls.map((c) => {
      const key = `${c.method}\u0000${JSON.stringify(c.params, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      let slot = slots.get(key);
      if (slot === undefined) {
        slot = unique.push(c) - 1;
        slots.set(key, slot);
      }
      return slot;
    });
    const perRequest = options.perRequest ?? 1000;
    const requests: KojiCall[][] = [];
    for (let i = 0; i < unique.length; i += perRequest) requests.push(unique.slice(i, i + perRequest));
    const answers = (await mapLimited(requests, options.parallel ?? 4, (r) => this.multiCall(r))).flat();
    return slotOf.map((slot) => answers[slot]!);
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
