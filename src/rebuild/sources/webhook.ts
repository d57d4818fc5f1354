// Webhooks: another build system (OBS, a CI) tells the daemon about its builds by
// POSTing `{packages: [SyncPackage...]}` to /api/v1/webhooks/NAME, signed with the
// webhook's secret: `X-Reprove-Timestamp: <unix seconds>` and
// `X-Reprove-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
// A signature that does not verify, a timestamp outside the allowed skew, or a
// signature seen before (a replay, remembered for the skew window) is refused.
// The builds are added to the webhook's (distribution, suite, architecture)
// without anything else leaving it ('partial' sync).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type Source, type SourceConfig, SourceError } from './source.js';

export const WebhookOptions = Type.Object({
  secret: Type.String({ minLength: 16, maxLength: 1024 }),
  /** How far the timestamp may be from the daemon's clock (default 300 s); signatures are remembered this long. */
  maxSkewSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
});
export type WebhookOptions = Static<typeof WebhookOptions>;

export interface WebhookSource extends Source {
  /** Why a delivery is refused, or null when it is authentic and new (then it is remembered). */
  verify(timestamp: string | undefined, signature: string | undefined, raw: Buffer, now?: number): string | null;
}

/** The signature header's value for a body: what a sender computes. */
export function webhookSignature(secret: string, timestamp: string, raw: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`;
}

export function isWebhook(s: Source | undefined): s is WebhookSource {
  return s !== undefined && s.kind === 'webhook' && typeof (s as Partial<WebhookSource>).verify === 'function';
}

export function webhookSource(config: SourceConfig): WebhookSource {
  const { name, kind, distribution, suite, architecture, intervalSeconds: _i, ...rest } = config;
  if (!Value.Check(WebhookOptions, rest)) {
    const first = Value.Errors(WebhookOptions, rest).First();
    throw new SourceError(`Cannot configure source ${name}: ${first?.path || '/'} ${first?.message ?? 'invalid'}`);
  }
  const options = rest as WebhookOptions;
  const skewMs = (options.maxSkewSeconds ?? 300) * 1000;
  const seen = new Map<string, number>();
  return {
    name,
    kind,
    target: { distribution, suite, architecture },
    intervalSeconds: 0,
    async sync() {
      return { packages: 0, skipped: 0, summary: null, ms: 0 };
    },
    verify(timestamp, signature, raw, now = Date.now()) {
      if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return 'no X-Reprove-Timestamp (unix seconds)';
      if (!signature || !/^sha256=[0-9a-f]{64}$/.test(signature)) return 'no X-Reprove-Signature (sha256=<hex>)';
      const expected = Buffer.from(webhookSignature(options.secret, timestamp, raw));
      if (!timingSafeEqual(expected, Buffer.from(signature))) return 'the signature does not match the body';
      if (Math.abs(now - Number(timestamp) * 1000) > skewMs) return `the timestamp is more than ${skewMs / 1000} s from the daemon's clock`;
      for (const [s, at] of seen) if (now - at > 2 * skewMs) seen.delete(s);
      if (seen.has(signature)) return 'this delivery was received before (a replay)';
      seen.set(signature, now);
      return null;
    },
  };
}
