// Unsubscribe tokens: an HMAC of the address under the site's secret, so a link
// in a mail unsubscribes exactly that address and no one can forge one for another.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function unsubscribeToken(secret: string, address: string): string {
  return createHmac('sha256', secret).update(`unsubscribe\0${address.toLowerCase()}`).digest('base64url');
}

export function checkUnsubscribeToken(secret: string, address: string, token: string): boolean {
  const want = Buffer.from(unsubscribeToken(secret, address));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got);
}
