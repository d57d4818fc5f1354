// The unsubscribe page of the notification mails: GET shows a button (so a mail
// scanner following links unsubscribes no one), POST with the signed token
// records the address; the notifier mails no unsubscribed address again.
import type { FastifyReply } from 'fastify';
import { HttpError } from '../errors.js';
import type { App } from '../context.js';
import { dbOf } from '../store-reads.js';
import { type WebDeps, sendHtml } from './context.js';
import { Layout, render } from './layout.js';
import { one, visible } from './security.js';
import { checkUnsubscribeToken } from './unsubscribe.js';

function checked(deps: WebDeps, raw: Record<string, unknown>): { address: string; token: string } {
  const address = one(raw['address']);
  const token = one(raw['token']);
  if (!address || !token || address.length > 320 || token.length > 100 || !checkUnsubscribeToken(deps.unsubscribeSecret, address, token)) {
    throw new HttpError(400, 'bad-request', 'Cannot unsubscribe: the link is incomplete or its signature does not match the address');
  }
  return { address: address.toLowerCase(), token };
}

export function mailRoutes(app: App, deps: WebDeps): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.get('/unsubscribe', { schema: { hide: true } }, async (request, reply: FastifyReply) => {
    const { address, token } = checked(deps, request.query as Record<string, unknown>);
    return sendHtml(
      reply,
      await render(
        <Layout title="Unsubscribe">
          <h1>Unsubscribe</h1>
          <form method="post" action="/unsubscribe">
            <input type="hidden" name="address" value={address} />
            <input type="hidden" name="token" value={token} />
            <p>
              Stop mail about regressions and fixes to <bdi class="mono">{visible(address)}</bdi>?
            </p>
            <button type="submit">Unsubscribe</button>
          </form>
        </Layout>,
      ),
    );
  });
  app.post('/unsubscribe', { schema: { hide: true } }, async (request, reply: FastifyReply) => {
    const { address } = checked(deps, (request.body ?? {}) as Record<string, unknown>);
    await dbOf(deps.store).insertInto('mail_unsubscribes').values({ address, created_at: deps.now() }).onConflict((oc) => oc.doNothing()).execute();
    return sendHtml(
      reply,
      await render(
        <Layout title="Unsubscribed">
          <h1>Unsubscribed</h1>
          <p>
            No more mail goes to <bdi class="mono">{visible(address)}</bdi>.
          </p>
        </Layout>,
      ),
    );
  });
}
