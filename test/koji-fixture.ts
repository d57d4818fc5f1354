// A local koji hub for the Fedora source's tests and bench: an XML-RPC server
// answering getBuild, listRPMs, getTaskChildren, listBuildroots, getBuildroot,
// getBuildrootListing, getRPMChecksums, listTagged and multiCall with values shaped
// like koji's (field names from koji's hub: build_id, nvr, state, task_id;
// rpm id, arch, buildroot_id, payloadhash; task method/arch/label; buildroot listing
// entries rpm_id, external_repo_name, is_update); a multiCall answers a list of
// [result] or fault structs, as koji's hub does. `faults` makes a build's getBuild
// answer a fault that many times, `callFaults` any call by method and first id; `hang` makes a request with its getBuild (alone or
// in a multiCall) never answer.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeCall, encodeFault, encodeResponse, type XmlRpcValue } from '../src/rebuild/sources/koji-client.js';

export interface FakeKoji {
  url: string;
  server: Server;
  /** Calls answered, per method (the calls inside a multiCall each count). */
  calls: Map<string, number>;
  /** HTTP requests answered, per method (a multiCall is one). */
  requests: Map<string, number>;
  /** Milliseconds this process spent reading requests and writing answers (the hub's share of a bench). */
  busy: { ms: number };
  faults: Map<number, number>;
  /** `method id` (the call's first number: getBuildrootListing 7, listRPMs 12) -> how many times it answers a fault. */
  callFaults: Map<string, number>;
  /** The getBuild ids of each request, in order: which builds were asked about together. */
  getBuildRequests: number[][];
  hang: Set<number>;
  tagged: Map<string, number[]>;
  close(): Promise<void>;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
export const buildName = (id: number) => `pkg${id}`;

function build(id: number): Record<string, XmlRpcValue> {
  return { build_id: id, id, name: buildName(id), version: '1.0', release: `${id % 7}.fc41`, epoch: id % 5 === 0 ? 1 : null, nvr: `${buildName(id)}-1.0-${id % 7}.fc41`, state: 1, task_id: id * 10, owner_name: 'packager', completion_ts: 1_700_000_000 + id, volume_name: 'DEFAULT', extra: null };
}
function rpms(id: number): Record<string, XmlRpcValue>[] {
  const b = build(id);
  const one = (rid: number, name: string, arch: string) => ({ id: rid, name, version: b['version']!, release: b['release']!, epoch: b['epoch']!, arch, build_id: id, buildroot_id: id * 100, payloadhash: hex(`${rid}`).slice(0, 32), size: BigInt(1000 + rid), external_repo_id: 0, external_repo_name: 'INTERNAL', metadata_only: false, extra: null });
  return [one(id * 10 + 1, buildName(id), 'src'), one(id * 10 + 2, buildName(id), 'x86_64'), one(id * 10 + 3, `${buildName(id)}-doc`, 'noarch'), one(id * 10 + 4, buildName(id), 'aarch64')];
}

export async function startFakeKoji(): Promise<FakeKoji> {
  const calls = new Map<string, number>();
  const faults = new Map<number, number>();
  const hang = new Set<number>();
  const tagged = new Map<string, number[]>();
  const requests = new Map<string, number>();
  const busy = { ms: 0 };
  const callFaults = new Map<string, number>();
  const getBuildRequests: number[][] = [];
  const answer = (method: string, params: XmlRpcValue[]): XmlRpcValue => {
    calls.set(method, (calls.get(method) ?? 0) + 1);
    const kw = (params[params.length - 1] ?? {}) as Record<string, XmlRpcValue>;
    const key = `${method} ${Number(typeof params[0] === 'object' && params[0] !== null ? Object.values(params[0])[0] : params[0])}`;
    const n = callFaults.get(key) ?? 0;
    if (n > 0) {
      callFaults.set(key, n - 1);
      throw Object.assign(new Error(`GenericError: ${key} failed on purpose`), { code: 1000 });
    }
    switch (method) {
      case 'getBuild': {
        const id = Number(params[0]);
        const f = faults.get(id) ?? 0;
        if (f > 0) {
          faults.set(id, f - 1);
          throw Object.assign(new Error(`GenericError: database unavailable for build ${id}`), { code: 1000 });
        }
        return id > 0 && id < 10_000_000 ? build(id) : null;
      }
      case 'listRPMs':
        return rpms(Number(kw['buildID']));
      case 'getTaskChildren': {
        const task = Number(params[0]);
        return ['aarch64', 'x86_64'].map((arch, i) => ({ id: task + i + 1, method: 'buildArch', arch, label: arch, create_ts: 1_700_000_000 + i, state: 2, parent: task, request: [`tasks/${task}/x.src.rpm`, 'f41-build', arch, true, {}] }));
      }
      case 'listBuildroots': {
        const task = Number(kw['taskID']);
        return [{ id: task * 3, arch: (task % 10) === 1 ? 'aarch64' : 'x86_64', task_id: task, tag_name: 'f41-build', repo_id: 5, state: 3, host_name: 'buildvm-x86-01.fedoraproject.org', create_event_id: BigInt(2 ** 40) }];
      }
      case 'getBuildroot':
        return { id: Number(params[0]), arch: 'x86_64', tag_name: 'f41-build' };
      case 'getBuildrootListing':
        return [
          { rpm_id: 1, name: 'bash', version: '5.2.26', release: '3.fc41', epoch: null, arch: 'x86_64', build_id: 2, external_repo_id: 0, external_repo_name: 'INTERNAL', is_update: false },
          { rpm_id: 2, name: 'gcc', version: '14.2.1', release: '1.fc41', epoch: null, arch: 'x86_64', build_id: 3, external_repo_id: 0, external_repo_name: 'INTERNAL', is_update: false },
        ];
      case 'getRPMChecksums':
        return { '105ef944': { sha256: hex(`rpm ${String(params[0])}`) } };
      case 'listTagged':
        return (tagged.get(String(params[0])) ?? []).map(build);
      default:
        throw Object.assign(new Error(`koji.GenericError: Invalid method: ${method}`), { code: 1000 });
    }
  };
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const started = performance.now();
      let call;
      try {
        call = decodeCall(Buffer.concat(parts).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      // A hanging build makes the whole request hang, as one slow call holds a real hub's multiCall.
      const inner = call.method === 'multiCall' ? (call.params[0] as { methodName: string; params: XmlRpcValue[] }[]) : [{ methodName: call.method, params: call.params }];
      const asked = inner.filter((c) => c.methodName === 'getBuild').map((c) => Number(c.params[0]));
      if (asked.length) getBuildRequests.push(asked);
      if (asked.some((id) => hang.has(id))) return;
      requests.set(call.method, (requests.get(call.method) ?? 0) + 1);
      let body: string;
      try {
        if (call.method === 'multiCall') {
          body = encodeResponse(
            inner.map((c) => {
              try {
                return [answer(c.methodName, c.params)];
              } catch (e) {
                return { faultCode: 1000, faultString: (e as Error).message };
              }
            }),
          );
        } else body = encodeResponse(answer(call.method, call.params));
      } catch (e) {
        body = encodeFault(1000, (e as Error).message);
      }
      res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
      busy.ms += performance.now() - started;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/kojihub`,
    server,
    calls,
    requests,
    busy,
    faults,
    callFaults,
    getBuildRequests,
    hang,
    tagged,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
