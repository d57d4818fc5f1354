// Mail to maintainers: on a regression (reproduced before, not now) and on a fix,
// one mail per event or, with a digest, one mail per address per digest period;
// every mail carries a signed unsubscribe link (and List-Unsubscribe), and each
// address gets at most `perHour` mails an hour (the rest wait for the next hour).
// The notifier reads the changes the store recorded and not yet taken, and takes
// each (sets notified_at) before mailing it: a restart or a second daemon on the
// same database mails nothing twice, and what waits for a digest or the hourly
// allowance waits in the database, not in memory. A failed send gives its changes
// back. Changes older than `maxAgeMs` when first seen are taken unmailed.
import nodemailer, { type Transporter } from 'nodemailer';
import type { FeedEvent } from '../../api/schemas.js';
import { chunks } from '../../store/context.js';
import type { Store } from '../../store/index.js';
import { dbOf } from '../store-reads.js';
import { VERDICT_TEXT } from './layout.js';
import { changes, feedEvent } from './reads.js';
import { unsubscribeToken } from './unsubscribe.js';

export interface MailOptions {
  /** SMTP URL (smtp://host:port) or nodemailer transport options. */
  transport: string | Parameters<typeof nodemailer.createTransport>[0];
  from: string;
  /** The website's public URL, for links. */
  publicUrl: string;
  /** Key of the unsubscribe links (the website's). */
  unsubscribeSecret: string;
  /** Gather each address's events and mail them once per this period (ms); 0: one mail per event (default). */
  digestMs?: number;
  /** Most mails per address per hour (default 4). */
  perHour?: number;
  /** Changes older than this are not mailed (default 2 days): mail switched on late sends no old news. */
  maxAgeMs?: number;
  now?: () => number;
}

/** The address of "Name <address>" or of a bare address; undefined when there is none. */
export function addressOf(maintainer: string | null | undefined): string | undefined {
  if (!maintainer) return undefined;
  const m = /<([^<>\s@]+@[^<>\s@]+)>\s*$/.exec(maintainer) ?? /^([^<>\s@]+@[^<>\s@]+)$/.exec(maintainer.trim());
  return m?.[1]?.toLowerCase();
}

function line(e: FeedEvent): string {
  const p = e.package;
  const what = e.kind === 'regression' ? 'no longer reproduces' : 'reproduces again';
  return `${p.name} ${p.version} ${what} in ${p.distribution}/${p.suite}/${p.architecture}: ${VERDICT_TEXT[e.verdict] ?? e.verdict} (${e.previousVersion} was ${VERDICT_TEXT[e.previousVerdict] ?? e.previousVerdict})`;
}

/** Changes read per tick, oldest first. */
const CHANGES_PER_TICK = 5_000;

export class Notifier {
  private readonly transporter: Transporter;
  private readonly sent = new Map<string, number[]>();
  private lastDigest: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: MailOptions,
  ) {
    this.transporter = nodemailer.createTransport(options.transport as never);
    this.now = options.now ?? Date.now;
    this.lastDigest = this.now();
  }

  /** Takes, unmailed, the changes too old to be news. */
  async start(): Promise<void> {
    const before = this.now() - (this.options.maxAgeMs ?? 2 * 86_400_000);
    await dbOf(this.store).updateTable('verdict_changes').set({ notified_at: this.now() }).where('notified_at', 'is', null).where('created_at', '<', before).execute();
  }

  /** Mails the regressions and fixes not yet taken (at the end of a digest period, when digests are on); returns the mails sent. */
  async tick(): Promise<number> {
    const digest = this.options.digestMs ?? 0;
    if (digest > 0 && this.now() - this.lastDigest < digest) return 0;
    this.lastDigest = this.now();
    await this.start();
    const rows = await changes(this.store).where('c.notified_at', 'is', null).orderBy('c.result_id').limit(CHANGES_PER_TICK).execute();
    const byAddress = new Map<string, FeedEvent[]>();
    const unmailable: number[] = [];
    for (const row of rows) {
      const to = addressOf(row.maintainer);
      if (to === undefined) unmailable.push(Number(row.change_result_id));
      else {
        let list = byAddress.get(to);
        if (!list) byAddress.set(to, (list = []));
        list.push(feedEvent(row));
      }
    }
    const unsubscribed = new Set(
      (await dbOf(this.store).selectFrom('mail_unsubscribes').select('address').where('address', 'in', [...byAddress.keys(), '']).execute()).map((r) => r.address),
    );
    for (const to of unsubscribed) unmailable.push(...(byAddress.get(to) ?? []).map((e) => e.resultId));
    await this.take(unmailable);

    const perHour = this.options.perHour ?? 4;
    let count = 0;
    for (const [to, list] of byAddress) {
      if (unsubscribed.has(to)) continue;
      const recent = (this.sent.get(to) ?? []).filter((t) => this.now() - t < 3_600_000);
      this.sent.set(to, recent);
      // The rest stay untaken for a later tick.
      const batches = (digest > 0 ? [list] : list.map((e) => [e])).slice(0, Math.max(0, perHour - recent.length));
      for (const batch of batches) {
        const taken = new Set(await this.take(batch.map((e) => e.resultId)));
        const mine = batch.filter((e) => taken.has(e.resultId)); // another daemon may have taken some
        if (mine.length === 0) continue;
        try {
          await this.send(to, mine);
        } catch (e) {
          await this.giveBack(mine.map((x) => x.resultId));
          throw e;
        }
        recent.push(this.now());
        count++;
      }
    }
    return count;
  }

  /** Marks changes taken, returning those this call took (not already taken by another daemon). */
  private async take(resultIds: number[]): Promise<number[]> {
    const taken: number[] = [];
    for (const part of chunks(resultIds, 500)) {
      const rows = await dbOf(this.store).updateTable('verdict_changes').set({ notified_at: this.now() }).where('result_id', 'in', part).where('notified_at', 'is', null).returning('result_id').execute();
      taken.push(...rows.map((r) => Number(r.result_id)));
    }
    return taken;
  }

  private async giveBack(resultIds: number[]): Promise<void> {
    await dbOf(this.store).updateTable('verdict_changes').set({ notified_at: null }).where('result_id', 'in', resultIds).execute();
  }

  private async send(to: string, list: FeedEvent[]): Promise<void> {
    const base = this.options.publicUrl.replace(/\/+$/, '');
    const unsubscribe = `${base}/unsubscribe?address=${encodeURIComponent(to)}&token=${unsubscribeToken(this.options.unsubscribeSecret, to)}`;
    const regressions = list.filter((e) => e.kind === 'regression').length;
    const subject =
      list.length === 1
        ? `[reprove] ${line(list[0]!)}`.slice(0, 200)
        : `[reprove] ${regressions} regression(s) and ${list.length - regressions} fix(es) in your packages`;
    const text = [
      ...list.map((e) => `${line(e)}\n  ${base}/packages/${e.package.id}`),
      '',
      `You get this mail because you maintain these packages. To get no more: ${unsubscribe}`,
      '',
    ].join('\n');
    await this.transporter.sendMail({
      from: this.options.from,
      to,
      subject: subject.replace(/[\r\n]+/g, ' '),
      text,
      headers: { 'List-Unsubscribe': `<${unsubscribe}>` },
    });
  }

  close(): void {
    this.transporter.close();
  }
}
