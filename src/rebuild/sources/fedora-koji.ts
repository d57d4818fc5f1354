// The Fedora source: koji builds, learnt from fedora-messaging and caught up from
// koji itself. The listener (amqplib) declares a durable queue bound to the topic
// exchange (amq.topic) for the build topics: `buildsys.build.state.change` with
// state COMPLETE (1), `buildsys.tag` (a build tagged into one of the configured
// tags). fedora-messaging's envelope is read: the `fedora_messaging_schema` and
// `sent-at` headers, the message id, a JSON body. Each build is resolved through
// koji the way Fedora's rebuilder does (getBuild; listRPMs and their SHA-256; the
// earliest buildArch child task for the local architecture, listBuildroots,
// getBuildrootListing), its buildroot listing stored as a blob (the fedora
// backend's build info), and the message acknowledged only once the job is
// committed. Builds are resolved in batches (what arrived while the last batch
// ran): one multiCall per step for the whole batch, one transaction, then the
// acknowledgements, so a burst of thousands costs a few requests a batch. A
// duplicate (same message id, or a build already known) makes no second job. A
// malformed message is logged with its id and dropped; a koji fault on one build's
// call puts that message back after a delay while the rest of its batch goes on; a
// request that fails as a whole (a timeout) puts its batch back, and those builds
// are then resolved one by one, so one build that makes koji hang holds back only
// itself. The connection is remade with backoff. sync() is the catch-up:
// listTagged for each tag, new builds queued.
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import type { SyncPackage } from '../../api/schemas.js';
import { DEFAULT_KOJI_PACKAGE_URL } from '../buildinfo/koji.js';
import { mapLimited } from '../../compare/semaphore.js';
import { KojiClient, KojiFault, kwargs, type KojiBuildInfo, type KojiCall, type KojiRpmInfo, type KojiTask, type XmlRpcValue } from './koji-client.js';
import { type Source, type SourceConfig, type SourceContext, type SourceSyncOutcome, sourceOptions, maintainerOf, nameFilter, packageInput } from './source.js';

export const STATE_CHANGE_TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';
export const TAG_TOPIC = 'org.fedoraproject.prod.buildsys.tag';
const COMPLETE = 1;
/** Buildroot listings in one multiCall answer: Fedora's run to hundreds of RPMs (a few hundred KiB of XML) each, so an answer is tens of MiB, well under the client's 256 MiB cap. */
const LISTINGS_PER_REQUEST = 50;
/** How long a delivery may wait for its batch to fill while another batch runs. */
const LINGER_MS = 50;

export const FedoraKojiOptions = Type.Object({
  hub: Type.String({ minLength: 1, maxLength: 2048, description: 'koji hub XML-RPC URL, e.g. https://koji.fedoraproject.org/kojihub' }),
  /** Where RPMs are: DEFAULT_KOJI_PACKAGE_URL's placeholders. */
  packageUrl: Type.Optional(Type.String({ maxLength: 2048 })),
  /** mock configuration of the fedora backend's recipe, e.g. fedora-41-x86_64. */
  mockConfig: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$' }),
  /** Builds count once tagged into one of these (buildsys.tag); also what catch-up lists. Without tags, a COMPLETE build counts. */
  tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$' }), { maxItems: 64 })),
  include: Type.Optional(Type.Array(Type.String({ maxLength: 255 }))),
  exclude: Type.Optional(Type.Array(Type.String({ maxLength: 255 }))),
  amqp: Type.Optional(
    Type.Object({
      url: Type.String({ minLength: 1, maxLength: 2048 }),
      queue: Type.String({ minLength: 1, maxLength: 255 }),
      exchange: Type.Optional(Type.String({ maxLength: 255 })),
      topics: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 64 })),
      /** TLS client certificate, key and CA (files), and the EXTERNAL mechanism (Fedora's public broker). */
      cert: Type.Optional(Type.String()),
      key: Type.Optional(Type.String()),
      ca: Type.Optional(Type.String()),
      external: Type.Optional(Type.Boolean()),
      prefetch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
      /** AMQP heartbeat (default 30 s; a `heartbeat` in the URL wins): a connection that died silently is noticed. */
      heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    }),
  ),
  timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** Batches of builds resolving at once (default 4). */
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  /** Builds resolved together, through one multiCall per step (default 500). */
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** Calls in one multiCall request; more go in several (default 1000). */
  callsPerRequest: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  /** Seconds before a message whose resolution failed is put back (default 5). */
  retryDelaySeconds: Type.Optional(Type.Number({ minimum: 0 })),
});
export type FedoraKojiOptions = Static<typeof FedoraKojiOptions>;

const evr = (b: { epoch: number | null; version: string; release: string }) => `${b.epoch !== null && b.epoch !== undefined ? `${b.epoch}:` : ''}${b.version}-${b.release}`;
const fill = (t: string, v: Record<string, string>) => t.replace(/\{(\w+)\}/g, (m, k: string) => v[k] ?? m);

/** A fedora-messaging message, decoded, or why it is refused. */
export interface BuildMessage {
  id: string;
  topic: string;
  buildId: number;
  tag?: string;
}

export function decodeMessage(msg: Pick<ConsumeMessage, 'content' | 'fields' | 'properties'>, tags: readonly string[] | undefined): BuildMessage | { ignore: string } | { error: string } {
  const id = typeof msg.properties.messageId === 'string' ? msg.properties.messageId : '';
  if (!id) return { error: 'no message id' };
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  if (typeof headers['fedora_messaging_schema'] !== 'string') return { error: 'no fedora_messaging_schema header' };
  if (headers['sent-at'] !== undefined && typeof headers['sent-at'] !== 'string') return { error: 'a sent-at header that is not a string' };
  if (msg.content.length > 1 << 20) return { error: `a body of ${msg.content.length} bytes` };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(msg.content.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    return { error: `a body that is not JSON (${(e as Error).message.slice(0, 100)})` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'a body that is not a JSON object' };
  const topic = msg.fields.routingKey;
  const buildId = body['build_id'];
  if (typeof buildId !== 'number' || !Number.isSafeInteger(buildId) || buildId <= 0) return { error: `build_id ${JSON.stringify(buildId)?.slice(0, 40)} is not a build id` };
  if (topic.endsWith('.buildsys.build.state.change')) {
    if (body['new'] !== COMPLETE) return { ignore: `state ${String(body['new'])}, not COMPLETE` };
    if (tags && tags.length) return { ignore: 'COMPLETE, waiting for its tag' };
    return { id, topic, buildId };
  }
  if (topic.endsWith('.buildsys.tag')) {
    const tag = body['tag'];
    if (typeof tag !== 'string') return { error: 'a tag message without a tag' };
    if (tags && tags.length && !tags.includes(tag)) return { ignore: `tag ${tag} is not followed` };
    return { id, topic, buildId, tag };
  }
  return { ignore: `topic ${topic}` };
}

/** What became of one build: a package to queue, nothing for this architecture or filter, skipped for good (why), or to be tried again (a koji fault or timeout). */
export type Resolution = { kind: 'queue'; pkg: SyncPackage } | { kind: 'nothing' } | { kind: 'skip'; why: string } | { kind: 'retry'; error: Error };

export interface FedoraKojiSource extends Source {
  /** Tests: drops the broker connection as a network failure would (silently: the socket closed without an error, which amqplib does not notice by itself). */
  dropConnection(silently?: boolean): void;
  /** Builds resolved and committed by the listener so far. */
  readonly committed: number;
}

export function fedoraKojiSource(config: SourceConfig): FedoraKojiSource {
  const { name, kind, distribution, suite, architecture } = config;
  const o = sourceOptions(config, FedoraKojiOptions);
  const passes = nameFilter(o.include, o.exclude);
  const koji = new KojiClient(o.hub, { timeoutMs: (o.timeoutSeconds ?? 60) * 1000 });
  const packageUrl = o.packageUrl ?? DEFAULT_KOJI_PACKAGE_URL;
  const concurrency = o.concurrency ?? 4;
  const batchSize = o.batchSize ?? 500;
  const callsPerRequest = o.callsPerRequest ?? 1000;
  const retryDelayMs = (o.retryDelaySeconds ?? 5) * 1000;
  let connection: ChannelModel | null = null;
  let committed = 0;

  /**
   * Koji builds as the fedora backend's package records, many at once: each step is
   * one multiCall round for the whole batch (getBuild; listRPMs and
   * getTaskChildren; listBuildroots and getRPMChecksums; getBuildrootListing, one
   * per buildroot), so a burst costs a few requests, not eight per build. A fault
   * on one build's call settles that build alone (`retry`); a request that fails as
   * a whole rejects, for the caller to put the batch back.
   */
  async function resolveBuilds(ctx: SourceContext, buildIds: readonly number[]): Promise<Map<number, Resolution>> {
    const out = new Map<number, Resolution>();
    const settle = (id: number, r: Resolution) => out.set(id, r);
    const answers = <T>(a: XmlRpcValue | KojiFault, id: number): T | undefined => {
      if (a instanceof KojiFault) {
        settle(id, { kind: 'retry', error: a });
        return undefined;
      }
      return a as T;
    };
    const multi = (calls: KojiCall[], perRequest = callsPerRequest) => koji.multiCallAll(calls, { perRequest });

    const gotBuilds = await multi(buildIds.map((id) => ({ method: 'getBuild', params: [id] })));
    const builds: { id: number; build: KojiBuildInfo }[] = [];
    buildIds.forEach((id, i) => {
      const build = answers<KojiBuildInfo | null>(gotBuilds[i]!, id);
      if (build === undefined) return;
      if (!build) settle(id, { kind: 'skip', why: `koji has no build ${id}` });
      else if (build.state !== COMPLETE) settle(id, { kind: 'skip', why: `build ${build.nvr} is in state ${build.state}, not COMPLETE` });
      else if (!passes(build.name)) settle(id, { kind: 'nothing' });
      else builds.push({ id, build });
    });

    const withTask = builds.filter((b) => b.build.task_id !== null && b.build.task_id !== undefined);
    const gotRpmsAndTasks = await multi([...builds.map((b) => ({ method: 'listRPMs', params: [kwargs({ buildID: Number(b.build.build_id ?? b.build.id) })] })), ...withTask.map((b) => ({ method: 'getTaskChildren', params: [b.build.task_id!] }))]);
    const childrenOf = new Map(withTask.map((b, i) => [b.id, gotRpmsAndTasks[builds.length + i]!]));
    const found: { id: number; build: KojiBuildInfo; srpm: KojiRpmInfo; mine: KojiRpmInfo[]; task: KojiTask }[] = [];
    builds.forEach((b, i) => {
      const rpms = answers<KojiRpmInfo[]>(gotRpmsAndTasks[i]!, b.id);
      if (rpms === undefined) return;
      const mine = rpms.filter((r) => r.arch === architecture || r.arch === 'noarch');
      const srpm = rpms.find((r) => r.arch === 'src');
      if (mine.length === 0 || !srpm) return settle(b.id, { kind: 'nothing' });
      const got = childrenOf.get(b.id);
      if (got === undefined) return settle(b.id, { kind: 'skip', why: `build ${b.build.nvr} has no task (imported), so no buildroot` });
      const children = answers<KojiTask[]>(got, b.id)?.filter((t) => t.method === 'buildArch');
      if (children === undefined) return;
      const ours = children.filter((t) => t.arch === architecture || t.label === architecture);
      const task = (ours.length ? ours : children).sort((x, y) => (x.create_ts ?? x.id) - (y.create_ts ?? y.id) || x.id - y.id)[0];
      if (!task) return settle(b.id, { kind: 'skip', why: `build ${b.build.nvr} has no buildArch task` });
      found.push({ id: b.id, build: b.build, srpm, mine, task });
    });

    const checksumCalls = found.flatMap((f) => [f.srpm, ...f.mine].map((r) => ({ method: 'getRPMChecksums', params: [r.id, kwargs({ checksum_types: ['sha256'] })] })));
    const gotRootsAndSums = await multi([...found.map((f) => ({ method: 'listBuildroots', params: [kwargs({ taskID: f.task.id })] })), ...checksumCalls]);
    const rooted: { id: number; build: KojiBuildInfo; srpm: KojiRpmInfo; mine: KojiRpmInfo[]; task: KojiTask; rootId: number; sums: Map<number, string> }[] = [];
    let next = found.length;
    found.forEach((f, i) => {
      const rpms = [f.srpm, ...f.mine];
      const sumAnswers = gotRootsAndSums.slice(next, next + rpms.length);
      next += rpms.length;
      const roots = answers<{ id: number; arch: string }[]>(gotRootsAndSums[i]!, f.id);
      if (roots === undefined) return;
      const root = roots.find((r) => r.arch === architecture) ?? roots[0];
      if (!root) return settle(f.id, { kind: 'skip', why: `task ${f.task.id} of ${f.build.nvr} has no buildroot` });
      const sums = new Map<number, string>();
      for (const [j, r] of rpms.entries()) {
        const c = answers<Record<string, Record<string, string>> | null>(sumAnswers[j]!, f.id);
        if (c === undefined) return;
        const sha = Object.values(c ?? {}).map((x) => x?.['sha256']).find((v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v));
        if (!sha) return settle(f.id, { kind: 'skip', why: `koji has no SHA-256 of ${r.name}-${r.version}-${r.release}.${r.arch}.rpm` });
        sums.set(r.id, sha);
      }
      rooted.push({ ...f, rootId: Number(root.id), sums });
    });

    // Builds that share a buildroot (koji reuses none, but a retried task may) share its listing's call.
    // A listing is hundreds of RPMs (a few hundred KiB of XML): fewer of them go in one answer.
    const gotListings = await multi(rooted.map((r) => ({ method: 'getBuildrootListing', params: [r.rootId] })), Math.min(callsPerRequest, LISTINGS_PER_REQUEST));
    await mapLimited(rooted, 16, async (r, i) => {
      const listing = answers<Record<string, XmlRpcValue>[]>(gotListings[i]!, r.id);
      if (listing === undefined) return;
      const { build, srpm, mine, sums } = r;
      const url = (p: KojiRpmInfo) => fill(packageUrl, { build_name: build.name, build_version: build.version, build_release: build.release, name: p.name, version: p.version, release: p.release, arch: p.arch });
      const wrapper = {
        build: { name: build.name, version: build.version, release: build.release, epoch: build.epoch, arch: architecture },
        buildroot: listing,
      };
      try {
        const blob = await ctx.store.putBlob([Buffer.from(JSON.stringify(wrapper, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)))]);
        // The build's koji owner (a Fedora account, no address: named in feeds, not mailed).
        const maintainer = maintainerOf(build.owner_name);
        settle(r.id, {
          kind: 'queue',
          pkg: {
            name: build.name,
            version: evr(build),
            backend: 'fedora',
            recipe: { srpm: { url: url(srpm), sha256: sums.get(srpm.id)! }, config: o.mockConfig },
            buildinfo: { url: `blob:${blob.sha256}`, sha256: blob.sha256 },
            artifacts: mine.map((p) => ({ name: `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`, url: url(p), sha256: sums.get(p.id)!, size: Number(p.size) })),
            ...(maintainer !== undefined ? { maintainer } : {}),
          },
        });
      } catch (e) {
        settle(r.id, { kind: 'retry', error: e as Error });
      }
    });
    return out;
  }

  /** Commits builds as one partial sync (duplicates within it merged). */
  async function commit(ctx: SourceContext, packages: SyncPackage[]) {
    const unique = new Map(packages.map((p) => [`${p.name}\u0000${p.version}`, p]));
    return ctx.store.syncPackages({ distribution, suite, architecture, mode: 'partial', packages: [...unique.values()].map(packageInput) });
  }

  async function listen(ctx: SourceContext): Promise<void> {
    if (!o.amqp) return;
    const amqp = o.amqp;
    // Enough unacknowledged deliveries for the next batches to gather while one resolves.
    const prefetch = amqp.prefetch ?? Math.min(2 * batchSize, 10_000);
    const amqplib = await import('amqplib');
    // Message ids and builds already committed (the oldest forgotten past a bound): a
    // redelivered or repeated message is acknowledged without asking koji again.
    const seenIds = new Map<string, true>();
    const seenBuilds = new Map<number, true>();
    // Builds of a batch whose koji request failed as a whole: resolved alone until they settle.
    const suspects = new Map<number, true>();
    const remember = <K>(m: Map<K, true>, k: K) => {
      m.delete(k);
      m.set(k, true);
      if (m.size > 100_000) m.delete(m.keys().next().value as K);
    };
    const aborted = new Promise<void>((r) => {
      if (ctx.signal.aborted) r();
      else ctx.signal.addEventListener('abort', () => r(), { once: true });
    });
    const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
    const sleep = (ms: number) => {
      let t: NodeJS.Timeout | undefined;
      return Promise.race([new Promise<void>((r) => (t = setTimeout(r, ms))), aborted]).finally(() => clearTimeout(t));
    };
    // The broker URL with a heartbeat, so that a connection that died silently is noticed.
    const url = new URL(amqp.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(amqp.heartbeatSeconds ?? 30));
    const tls: Record<string, unknown> = {};
    if (amqp.cert) tls['cert'] = readFileSync(amqp.cert);
    if (amqp.key) tls['key'] = readFileSync(amqp.key);
    if (amqp.ca) tls['ca'] = [readFileSync(amqp.ca)];
    if (amqp.external) tls['credentials'] = amqplib.credentials.external();
    const socketOf = (c: ChannelModel) => (c as unknown as { connection?: { stream?: { destroy(e?: Error): void; once(ev: 'close', f: () => void): void; emit(ev: 'end'): boolean } } }).connection?.stream;
    /** Closes a connection, or destroys its socket when the broker does not answer the close. */
    const shut = async (c: ChannelModel) => {
      const done = await Promise.race([c.close().then(() => true, () => true), delay(2000).then(() => false)]);
      if (!done) socketOf(c)?.destroy();
    };
    let backoff = 1000;
    while (!ctx.signal.aborted) {
      let conn: ChannelModel | null = null;
      try {
        conn = await amqplib.connect(url.toString(), { ...tls, clientProperties: { connection_name: `reprove ${name} (${amqp.queue})` } } as Options.Connect);
        connection = conn;
        // Lost: the connection closed (broker, network, heartbeat), its socket closed
        // under it, or the channel closed (a channel error); the listener connects again.
        const lost = new Promise<string>((r) => {
          let connClosed = false;
          conn!.on('close', (e?: Error) => {
            connClosed = true;
            r(e ? e.message : 'closed by the broker');
          });
          conn!.on('error', (e: Error) => ctx.log(`reprove: source ${name}: broker connection error: ${e.message}`));
          const socket = socketOf(conn!);
          socket?.once('close', () => {
            r('socket closed');
            // amqplib tears a connection down on the socket's 'end' or 'error' only: a socket
            // closed without either would leave its channels and heartbeat timers behind.
            if (!connClosed) setImmediate(() => connClosed || socket.emit('end'));
          });
        });
        const ch: Channel = await conn.createChannel();
        const channelClosed = new Promise<string>((r) => ch.on('close', () => setImmediate(() => r('channel closed'))));
        ch.on('error', (e: Error) => ctx.log(`reprove: source ${name}: channel error: ${e.message}`));
        await ch.prefetch(prefetch);
        const exchange = amqp.exchange ?? 'amq.topic';
        await ch.assertQueue(amqp.queue, { durable: true, autoDelete: false, exclusive: false });
        for (const t of amqp.topics ?? [STATE_CHANGE_TOPIC, TAG_TOPIC]) await ch.bindQueue(amqp.queue, exchange, t);

        // Acknowledgements on a channel that went away throw; the broker redelivers those messages.
        const ack = (m: ConsumeMessage) => {
          try {
            ch.ack(m);
          } catch {
            // redelivered on the next connection
          }
        };
        const requeue = (m: ConsumeMessage) => {
          try {
            ch.nack(m, false, true);
          } catch {
            // redelivered on the next connection
          }
        };
        // Deliveries wait in `waiting`; up to `concurrency` batches resolve at once,
        // each taking what has arrived (at most batchSize builds), so a burst makes big
        // batches and a trickle small ones. A batch is committed in one transaction,
        // then its messages acknowledged.
        const waiting: { msg: ConsumeMessage; id: string; buildId: number }[] = [];
        let batches = 0;
        let stopping = false;
        const putBack = (msgs: ConsumeMessage[]) => void sleep(retryDelayMs).then(() => msgs.forEach(requeue));
        /** The next batch: a suspect build alone, else up to batchSize others. */
        const take = () => {
          if (suspects.has(waiting[0]!.buildId)) return waiting.splice(0, 1);
          const batch: typeof waiting = [];
          const rest: typeof waiting = [];
          for (const w of waiting) (batch.length < batchSize && !suspects.has(w.buildId) ? batch : rest).push(w);
          waiting.splice(0, waiting.length, ...rest);
          return batch;
        };
        const runBatch = async (batch: typeof waiting) => {
          const buildIds = [...new Set(batch.map((b) => b.buildId))];
          let resolved: Map<number, Resolution>;
          try {
            resolved = await resolveBuilds(ctx, buildIds);
          } catch (e) {
            // The request failed as a whole (a timeout, the hub down): every build of the
            // batch goes back, and each is resolved alone from now on, so that one build
            // that makes koji hang cannot hold the others back again.
            if (buildIds.length > 1) for (const id of buildIds) remember(suspects, id);
            ctx.log(`reprove: source ${name}: ${batch.length} messages (builds ${buildIds.slice(0, 5).join(', ')}${buildIds.length > 5 ? '…' : ''}) put back: ${(e as Error).message}`);
            putBack(batch.map((b) => b.msg));
            return;
          }
          const done: typeof waiting = [];
          const again: typeof waiting = [];
          const pkgs: SyncPackage[] = [];
          for (const b of batch) {
            const r = resolved.get(b.buildId)!;
            if (r.kind === 'retry') {
              ctx.log(`reprove: source ${name}: message ${b.id} (build ${b.buildId}) put back: ${r.error.message}`);
              again.push(b);
              continue;
            }
            if (r.kind === 'skip') ctx.log(`reprove: source ${name}: message ${b.id} (build ${b.buildId}) skipped: ${r.why}`);
            if (r.kind === 'queue') pkgs.push(r.pkg);
            done.push(b);
          }
          putBack(again.map((b) => b.msg));
          try {
            if (pkgs.length) await commit(ctx, pkgs);
          } catch (e) {
            ctx.log(`reprove: source ${name}: cannot commit ${pkgs.length} builds (messages ${done.map((b) => b.id).slice(0, 5).join(', ')}…): ${(e as Error).message}; they will be redelivered`);
            done.forEach((b) => requeue(b.msg));
            return;
          }
          committed += new Set(pkgs.map((p) => `${p.name}\u0000${p.version}`)).size;
          for (const b of done) {
            remember(seenIds, b.id);
            remember(seenBuilds, b.buildId);
            suspects.delete(b.buildId);
            ack(b.msg);
          }
        };
        // A batch starts when none is running, when enough has arrived to fill one of the
        // prefetch window's shares, or when the oldest waiting message has waited
        // LINGER_MS: small batches started at once beside a running one would each pay a
        // full round of koji requests for a few builds, and a batch held up by a koji that
        // does not answer must not hold the next messages back.
        const enough = Math.max(1, Math.min(batchSize, Math.floor(prefetch / concurrency)));
        let lingering: NodeJS.Timeout | null = null;
        const pump = (lingered = false) => {
          while (!stopping && batches < concurrency && waiting.length && (lingered || batches === 0 || waiting.length >= enough)) {
            lingered = false;
            const batch = take();
            batches++;
            void runBatch(batch)
              .catch((e: Error) => ctx.log(`reprove: source ${name}: ${batch.length} messages: ${e.message}; they will be redelivered`))
              .finally(() => {
                batches--;
                pump();
              });
          }
          if (!stopping && waiting.length && batches < concurrency && !lingering) {
            lingering = setTimeout(() => {
              lingering = null;
              pump(true);
            }, LINGER_MS).unref();
          }
        };
        const deliver = (msg: ConsumeMessage) => {
          const d = decodeMessage(msg, o.tags);
          if ('error' in d) {
            ctx.log(`reprove: source ${name}: message ${msg.properties.messageId ?? '(no id)'} dropped: ${d.error}`);
            ack(msg);
          } else if ('ignore' in d || seenIds.has(d.id) || seenBuilds.has(d.buildId)) ack(msg);
          else {
            waiting.push({ msg, id: d.id, buildId: d.buildId });
            pump();
          }
        };
        const { consumerTag } = await ch.consume(amqp.queue, (msg) => {
          if (msg) deliver(msg); // null: cancelled by the broker (queue deleted); the channel closes or we reconnect
        });
        backoff = 1000;
        ctx.log(`reprove: source ${name}: listening on ${amqp.queue}`);
        const why = await Promise.race([lost, channelClosed, aborted.then(() => null)]);
        if (why === null) {
          // Stopping: no new deliveries; those not started yet are left unacknowledged
          // (the broker redelivers them); work under way is committed and acknowledged,
          // within a bound: a koji call that hangs does not hold the daemon's close.
          stopping = true;
          waiting.length = 0;
          await Promise.race([ch.cancel(consumerTag).catch(() => undefined), delay(2000)]);
          const deadline = Date.now() + 10_000;
          while (batches && Date.now() < deadline) await delay(20);
          if (batches) ctx.log(`reprove: source ${name}: ${batches} batches still being resolved at close; the broker will redeliver their messages`);
          await shut(conn);
          return;
        }
        ctx.log(`reprove: source ${name}: connection to the broker lost (${why}); reconnecting`);
        stopping = true;
        waiting.length = 0;
        await shut(conn);
        await sleep(250);
      } catch (e) {
        if (conn) await shut(conn);
        ctx.log(`reprove: source ${name}: cannot listen: ${(e as Error).message}; again in ${backoff / 1000} s`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 60_000);
      } finally {
        if (connection === conn) connection = null;
      }
    }
  }

  return {
    name,
    kind,
    target: { distribution, suite, architecture },
    intervalSeconds: config.intervalSeconds ?? 0,
    get committed() {
      return committed;
    },
    dropConnection(silently = false) {
      const c = connection as unknown as { connection?: { stream?: { destroy(e?: Error): void } } } | null;
      c?.connection?.stream?.destroy(silently ? undefined : new Error('connection dropped'));
    },
    listen,
    /** Catch-up: the latest builds of each tag that are not known yet. */
    async sync(ctx: SourceContext): Promise<SourceSyncOutcome> {
      const started = Date.now();
      if (!o.tags?.length) return { packages: 0, skipped: 0, summary: null, ms: 0 };
      const known = new Set((await ctx.store.knownBuildinfo(distribution, suite, architecture)).keys());
      const todo: KojiBuildInfo[] = [];
      for (const tag of o.tags) for (const b of await koji.listTagged(tag, { latest: true })) if (!known.has(`${b.name}\u0000${evr(b)}`) && passes(b.name)) todo.push(b);
      const packages: SyncPackage[] = [];
      let skipped = 0;
      for (let i = 0; i < todo.length; i += batchSize) {
        const batch = todo.slice(i, i + batchSize);
        let resolved: Map<number, Resolution>;
        try {
          resolved = await resolveBuilds(ctx, batch.map((b) => Number(b.build_id ?? b.id)));
        } catch (e) {
          skipped += batch.length;
          ctx.log(`reprove: source ${name}: catch-up: ${batch.length} builds (${batch.slice(0, 5).map((b) => b.nvr).join(', ')}${batch.length > 5 ? '…' : ''}) skipped for now: ${(e as Error).message}`);
          continue;
        }
        for (const b of batch) {
          const r = resolved.get(Number(b.build_id ?? b.id))!;
          if (r.kind === 'queue') packages.push(r.pkg);
          else if (r.kind === 'skip') {
            skipped++;
            ctx.log(`reprove: source ${name}: catch-up: build ${b.nvr} skipped: ${r.why}`);
          } else if (r.kind === 'retry') {
            skipped++;
            ctx.log(`reprove: source ${name}: catch-up: build ${b.nvr} skipped for now: ${r.error.message}`);
          }
        }
      }
      const summary = packages.length ? await commit(ctx, packages) : null;
      return { packages: packages.length, skipped, summary, ms: Date.now() - started };
    },
  };
}
