// Mail to maintainers: on a regression (reproduced before, not now) and on a fix,
// one mail per event or, with a digest, one mail per address per digest period;
// every mail carries a signed unsubscribe link (and List-Unsubscribe), and each
// address gets at most `perHour` mails an hour (the rest wait for the next hour's
// digest). The notifier follows the results by id from where it started, so a
// restart mails nothing twice and nothing from before it ran.
import nodemailer, { type Transporter } from 'nodemailer';
import type { FeedEvent } from '../../api/schemas.js';
import type { Store } from '../../store/index.js';
import { dbOf } from '../store-reads.js';
import { VERDICT_TEXT } from './layout.js';
import { events } from './reads.js';
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

export class Notifier {
  private readonly transporter: Transporter;
  private cursor: number | undefined;
  private readonly pending = new Map<string, FeedEvent[]>();
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

  /** Starts following results from the newest one now stored (nothing older is mailed). */
  async start(): Promise<void> {
    const row = await dbOf(this.store).selectFrom('results').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    this.cursor = Number(row?.id ?? 0);
  }

  /** Reads the results since the last tick, mails or gathers their regressions and fixes; returns the mails sent. */
  async tick(): Promise<number> {
    if (this.cursor === undefined) await this.start();
    const found = await events(this.store, { afterResultId: this.cursor, limit: 500 });
    const newest = await dbOf(this.store).selectFrom('results').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    this.cursor = Math.max(this.cursor ?? 0, Number(newest?.id ?? 0));
    for (const e of [...found].reverse()) {
      const to = addressOf(e.package.maintainer);
      if (!to) continue;
      this.pending.set(to, [...(this.pending.get(to) ?? []), e]);
    }
    const digest = this.options.digestMs ?? 0;
    if (digest > 0 && this.now() - this.lastDigest < digest) return 0;
    this.lastDigest = this.now();
    return this.flush();
  }

  /** Sends what is pending, within each address's hourly allowance. */
  async flush(): Promise<number> {
    const unsubscribed = new Set(
      (await dbOf(this.store).selectFrom('mail_unsubscribes').select('address').where('address', 'in', [...this.pending.keys(), '']).execute()).map((r) => r.address),
    );
    const perHour = this.options.perHour ?? 4;
    const digest = (this.options.digestMs ?? 0) > 0;
    let count = 0;
    for (const [to, list] of [...this.pending]) {
      if (unsubscribed.has(to)) {
        this.pending.delete(to);
        continue;
      }
      const recent = (this.sent.get(to) ?? []).filter((t) => this.now() - t < 3_600_000);
      this.sent.set(to, recent);
      const batches = digest ? [list] : list.map((e) => [e]);
      const sending = batches.slice(0, Math.max(0, perHour - recent.length));
      for (const batch of sending) {
        await this.send(to, batch);
        recent.push(this.now());
        count++;
      }
      const left = batches.slice(sending.length).flat();
      if (left.length === 0) this.pending.delete(to);
      else this.pending.set(to, left);
    }
    return count;
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
