// `reprove ctl`: the operator's command line for a running daemon, rebuilderd's
// rebuildctl and what its users miss (per-worker status, retry and drop of any
// job, the history of a version). A thin caller of the typed API client.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, ReproveClient } from '../api/client.js';
import type { PackageSummary, SyncPackage, SyncRequest } from '../api/schemas.js';
import { parseJsonReport } from '../present/json.js';
import { renderText } from '../present/text.js';
import { UsageError } from './options.js';

export const ctlUsage = `Usage: reprove ctl [--server URL] [--token T] [--json] COMMAND

Talks to a running reprove daemon. Without --server it uses $REPROVE_SERVER, or the
daemon that \`npm start\` / \`reprove serve\` runs from ./data (data/daemon.json); admin
commands take the admin token from --token, $REPROVE_ADMIN_TOKEN or data/admin-token.

Commands:
  status                                   packages, verdicts, queue and workers
  pkgs ls [--distribution D] [--suite S] [--arch A] [--name SUBSTRING]
          [--verdict V|UNKNOWN] [--left] [--limit N] [--offset N]
  pkgs sync --distribution D --suite S --arch A [FILE|-]
                                           a JSON list of packages (or a whole sync request)
                                           from FILE or standard input, like rebuildctl pkgs sync-stdin
  pkgs log NAME|RESULT_ID [--version V]    the build log of the newest result
  pkgs diff NAME|RESULT_ID [--version V] [--html]
                                           the comparison report (text, or the HTML page)
  pkgs history NAME [--distribution D] [--suite S] [--arch A]
                                           every result of every version
  queue ls [--all] [--limit N]             running and waiting jobs (--all: finished ones too)
  queue push DIST SUITE ARCH NAME [VERSION] [--priority N]
  queue retry JOB_ID...                    queue finished or failed jobs again
  queue drop JOB_ID...                     take jobs off the queue
  workers ls
  workers add NAME                         prints the new worker's token (shown once)
  workers remove NAME
  result show RESULT_ID
  sources ls                               the configured sources: last sync, its figures, last error
  sources sync NAME                        sync (or catch up) a source now and print its figures

  --json    print the API's JSON instead of a table
  --data-dir DIR   where to look for daemon.json and admin-token (default ./data)
`;

interface Discovered {
  server: string;
  token: string | undefined;
}

async function readIfExists(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then(
    (t) => t.trim(),
    () => undefined,
  );
}

/** Where the daemon is and the admin token: flags, then environment, then the local data directory. */
async function discover(server: string | undefined, token: string | undefined, dataDir: string): Promise<Discovered> {
  let url = server ?? process.env['REPROVE_SERVER'];
  if (!url) {
    const info = await readIfExists(join(dataDir, 'daemon.json'));
    if (info) url = (JSON.parse(info) as { url?: string }).url;
  }
  return {
    server: url ?? 'http://127.0.0.1:8484',
    token: token ?? process.env['REPROVE_ADMIN_TOKEN'] ?? (await readIfExists(join(dataDir, 'admin-token'))),
  };
}

/** Rows as an aligned table with a header line. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : null);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runCtl(args: string[]): Promise<number> {
  try {
    return await ctl(args);
  } catch (e) {
    if (e instanceof ApiError) throw new Error(`the daemon answered ${e.status} (${e.error}): ${e.message}`);
    throw e;
  }
}

async function ctl(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
      distribution: { type: 'string' },
      suite: { type: 'string' },
      arch: { type: 'string' },
      name: { type: 'string' },
      verdict: { type: 'string' },
      version: { type: 'string' },
      left: { type: 'boolean' },
      all: { type: 'boolean' },
      html: { type: 'boolean' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      priority: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(ctlUsage);
    return values.help ? 0 : 2;
  }
  const number = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(v)}`);
    return Number(v);
  };
  const { server, token } = await discover(values.server, values.token, values['data-dir'] ?? 'data');
  const client = new ReproveClient(server, token ? { token } : {});
  const out = (data: unknown, text: () => string) => process.stdout.write(values.json ? JSON.stringify(data, null, 2) + '\n' : text());
  const [group, action, ...rest] = positionals;
  const packageRows = (items: PackageSummary[]) =>
    table(
      ['ID', 'DISTRIBUTION', 'SUITE', 'ARCH', 'NAME', 'VERSION', 'VERDICT', 'IN ARCHIVE'],
      items.map((p) => [p.id, p.distribution, p.suite, p.architecture, p.name, p.version, p.verdict ?? 'UNKNOWN', p.inArchive ? 'yes' : 'no']),
    );
  /** The result a NAME or RESULT_ID argument means: a number is a result id, a name its newest version's result. */
  const resultFor = async (arg: string | undefined): Promise<number> => {
    if (!arg) throw new UsageError(`reprove ctl ${group} ${action} takes a package name or a result id`);
    if (/^\d+$/.test(arg)) return Number(arg);
    const list = await client.packages({ name: arg, limit: 1000, ...filters() });
    const exact = list.items.filter((p) => p.name === arg && (values.version === undefined || p.version === values.version) && p.resultId !== null);
    if (exact.length === 0) throw new UsageError(`No result for package ${arg}${values.version ? ` ${values.version}` : ''} yet`);
    exact.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.id - a.id);
    return exact[0]!.resultId!;
  };
  const filters = () => ({
    ...(values.distribution !== undefined ? { distribution: values.distribution } : {}),
    ...(values.suite !== undefined ? { suite: values.suite } : {}),
    ...(values.arch !== undefined ? { architecture: values.arch } : {}),
  });
  const blobText = async (sha: string | null, what: string) => {
    if (!sha) throw new UsageError(`That result has no ${what}`);
    return (await client.blob(sha)).text();
  };

  switch (`${group} ${action ?? ''}`.trim()) {
    case 'status': {
      const s = await client.status();
      out(s, () => {
        const verdicts = Object.entries(s.verdicts).map(([v, n]) => `${v} ${n}`).join(', ');
        return (
          `packages: ${s.packages} (${verdicts})\nqueue: ${s.queue.queued} waiting, ${s.queue.running} running\nworkers: ${s.workers.online} online of ${s.workers.total}\n` +
          (s.distributions.length ? '\n' + table(['DISTRIBUTION', 'SUITE', 'ARCH', 'PACKAGES', 'VERDICTS'], s.distributions.map((d) => [d.distribution, d.suite, d.architecture, d.packages, Object.entries(d.verdicts).map(([v, n]) => `${v} ${n}`).join(', ')])) : '')
        );
      });
      return 0;
    }
    case 'pkgs ls': {
      const list = await client.packages({
        ...filters(),
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(values.verdict !== undefined ? { verdict: values.verdict } : {}),
        ...(values.left ? { inArchive: false } : {}),
        ...(values.limit !== undefined ? { limit: number(values.limit, '--limit')! } : {}),
        ...(values.offset !== undefined ? { offset: number(values.offset, '--offset')! } : {}),
      });
      out(list, () => packageRows(list.items) + `(${list.items.length} of ${list.total})\n`);
      return 0;
    }
    case 'pkgs sync': {
      const text = rest[0] && rest[0] !== '-' ? await readFile(rest[0], 'utf8') : await readStdin();
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (e) {
        throw new UsageError(`Cannot read the package list: not JSON (${(e as Error).message})`);
      }
      let request: SyncRequest;
      if (Array.isArray(data)) {
        if (!values.distribution || !values.suite || !values.arch) throw new UsageError('pkgs sync of a package list needs --distribution, --suite and --arch');
        request = { distribution: values.distribution, suite: values.suite, architecture: values.arch, packages: data as SyncPackage[] };
      } else request = { ...(data as SyncRequest), ...filters() } as SyncRequest;
      const r = await client.sync(request);
      out(r, () => `added ${r.added}, unchanged ${r.unchanged}, left the archive ${r.leftArchive}, queued ${r.queued}, superseded ${r.superseded}\n`);
      return 0;
    }
    case 'pkgs log': {
      const r = await client.result(await resultFor(rest[0]));
      process.stdout.write(await blobText(r.log, 'log'));
      return 0;
    }
    case 'pkgs diff': {
      const r = await client.result(await resultFor(rest[0]));
      if (values.html) process.stdout.write(await blobText(r.reportHtml, 'HTML report'));
      else if (values.json) process.stdout.write(await blobText(r.reportJson, 'report'));
      else process.stdout.write(renderText(parseJsonReport(await blobText(r.reportJson, 'report'), `result ${r.result.id}`)));
      return 0;
    }
    case 'pkgs history': {
      const name = rest[0];
      if (!name) throw new UsageError('pkgs history takes a package name');
      const list = await client.packages({ name, limit: 1000, ...filters() });
      const mine = list.items.filter((p) => p.name === name);
      if (mine.length === 0) throw new UsageError(`No package named ${name}`);
      const details = await Promise.all([...new Set(mine.map((p) => `${p.distribution}/${p.suite}/${p.architecture}`))].map((k) => client.package(mine.find((p) => `${p.distribution}/${p.suite}/${p.architecture}` === k)!.id)));
      out(details, () =>
        details
          .map((d) => `${d.package.distribution} ${d.package.suite} ${d.package.architecture}\n` + table(['RESULT', 'VERSION', 'VERDICT', 'FINAL', 'WORKER', 'CAUSES', 'WHEN'], d.history.map((h) => [h.id, h.version, h.verdict, h.final ? 'yes' : 'no', h.worker, h.issues.join(',') || null, when(h.createdAt)])))
          .join('\n'),
      );
      return 0;
    }
    case 'queue ls': {
      const q = await client.queue({ ...(values.all ? { all: true } : {}), ...(values.limit !== undefined ? { limit: number(values.limit, '--limit')! } : {}) });
      out(q, () =>
        table(
          ['JOB', 'STATUS', 'PRIO', 'DISTRIBUTION', 'SUITE', 'ARCH', 'NAME', 'VERSION', 'BACKEND', 'WORKER', 'LEASE UNTIL', 'ATTEMPTS f/u/i'],
          q.items.map((j) => [j.jobId, j.status, j.priority, j.distribution, j.suite, j.architecture, j.name, j.version, j.backend, j.worker, when(j.leaseExpiresAt), `${j.attempts.ftbfs}/${j.attempts.unreproducible}/${j.attempts.infrastructure}`]),
        ) + `(${q.items.length} of ${q.total})\n`,
      );
      return 0;
    }
    case 'queue push': {
      const [distribution, suite, architecture, name, version] = rest;
      if (!distribution || !suite || !architecture || !name) throw new UsageError('queue push takes DIST SUITE ARCH NAME [VERSION]');
      const priority = number(values.priority, '--priority');
      const r = await client.push({ distribution, suite, architecture, name, ...(version ? { version } : {}), ...(priority !== undefined ? { priority } : {}) });
      out(r, () => `queued job ${r.jobId}\n`);
      return 0;
    }
    case 'queue retry':
    case 'queue drop': {
      if (rest.length === 0) throw new UsageError(`queue ${action} takes one or more job ids`);
      const ids = rest.map((x) => number(x, 'JOB_ID')!);
      const done: { jobId: number }[] = [];
      for (const id of ids) done.push(action === 'retry' ? await client.retry(id) : await client.drop(id));
      out(done, () => done.map((d) => `${action === 'retry' ? 'queued again' : 'dropped'}: job ${d.jobId}\n`).join(''));
      return 0;
    }
    case 'workers ls': {
      const ws = await client.workers();
      out(ws, () =>
        table(
          ['NAME', 'ONLINE', 'LAST HEARTBEAT', 'JOB', 'ARCHITECTURES', 'BACKENDS', 'MEMORY MB', 'FREE DISK GB', 'VERSION'],
          ws.map((w) => [w.name, w.online ? 'yes' : 'no', when(w.lastHeartbeatAt), w.currentJobId, w.tags.architectures.join(','), w.tags.backends.join(','), w.tags.memoryMb, w.freeDiskBytes === null ? null : (w.freeDiskBytes / 2 ** 30).toFixed(1), w.version]),
        ),
      );
      return 0;
    }
    case 'workers add': {
      const name = rest[0];
      if (!name) throw new UsageError('workers add takes a worker name');
      const r = await client.addWorker(name);
      out(r, () => `worker ${r.name} added; its token (shown once):\n${r.token}\n`);
      return 0;
    }
    case 'workers remove': {
      const name = rest[0];
      if (!name) throw new UsageError('workers remove takes a worker name');
      await client.removeWorker(name);
      out({ removed: name }, () => `worker ${name} removed\n`);
      return 0;
    }
    case 'result show': {
      const r = await client.result(await resultFor(rest[0]));
      out(r, () => {
        const lines = [
          `result ${r.result.id}: ${r.result.name} ${r.result.version} (${r.distribution} ${r.suite} ${r.architecture})`,
          `verdict: ${r.result.verdict}${r.result.final ? '' : ' (not final: rebuilt again)'}${r.result.failureClass ? ` [${r.result.failureClass}]` : ''}`,
          `worker: ${r.result.worker ?? '-'}   when: ${when(r.result.createdAt)}`,
        ];
        if (r.message) lines.push(`message: ${r.message}`);
        for (const c of r.causes as { id?: string; fix?: string; ignored?: boolean }[]) lines.push(`cause: ${c.id}${c.ignored ? ' (ignored by policy)' : ''} — fix: ${c.fix}`);
        if (r.environment.notReproduced.length) lines.push(`environment not recreated: ${r.environment.notReproduced.join('; ')}`);
        lines.push(`timings: ${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
        return lines.join('\n') + '\n';
      });
      return 0;
    }
    case 'sources ls': {
      const list = await client.sources();
      out(list, () =>
        table(
          ['NAME', 'KIND', 'DISTRIBUTION', 'SUITE', 'ARCH', 'EVERY S', 'STATE', 'LAST SYNC', 'PACKAGES', 'SKIPPED', 'QUEUED', 'LAST ERROR'],
          list.map((s) => [s.name, s.kind, s.distribution, s.suite, s.architecture, s.intervalSeconds || null, s.running ? 'syncing' : s.listening ? 'listening' : 'idle', when(s.lastSyncAt), s.lastOutcome?.packages, s.lastOutcome?.skipped, s.lastOutcome?.queued, s.lastError]),
        ),
      );
      return 0;
    }
    case 'sources sync': {
      const name = rest[0];
      if (!name) throw new UsageError('sources sync takes a source name');
      const r = await client.syncSource(name);
      out(r, () => `${name}: ${r.packages} packages, ${r.added} new, ${r.leftArchive} left the archive, ${r.queued} queued, ${r.skipped} entries skipped, ${(r.ms / 1000).toFixed(1)} s\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown ctl command ${JSON.stringify(positionals.join(' '))}\n\n${ctlUsage}`);
  }
}
