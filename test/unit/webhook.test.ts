import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/insight/alerts.js';
import { WebhookNotifier } from '../../src/insight/webhook.js';

const servers: http.Server[] = [];
afterEach(async () => {
  while (servers.length) await new Promise((r) => servers.pop()!.close(r));
});

const alert = (key: string): Alert => ({
  id: `slow_request:${key}#1`,
  rule: 'slow_request',
  key,
  severity: 'high',
  state: 'firing',
  observed: 2500,
  threshold: 1000,
  ratio: 2.5,
  firstAt: 1,
  lastAt: 1,
  message: `slow route ${key}`,
});

/** A real receiver answering with `statuses` in turn (then 200), recording what it got. */
async function receiver(statuses: number[] = []) {
  const got: { body: unknown; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req
      .on('data', (c) => (body += c))
      .on('end', () => {
        got.push({ body: JSON.parse(body), headers: req.headers });
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

describe('WebhookNotifier', () => {
  it('POSTs each transition as JSON, in order, with the configured headers', async () => {
    const r = await receiver();
    const w = new WebhookNotifier({ url: r.url, headers: { authorization: 'Bearer t' } });
    w.notify(alert('GET /a'), 'fired');
    w.notify(alert('GET /a'), 'resolved');
    await w.idle();
    expect(r.got.map((g) => g.body)).toEqual([
      { transition: 'fired', alert: alert('GET /a') },
      { transition: 'resolved', alert: alert('GET /a') },
    ]);
    expect(r.got[0].headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer t' });
    expect({ sent: w.sent, dropped: w.dropped }).toEqual({ sent: 2, dropped: 0 });
  });

  it('retries with backoff after failures and gives up after the retries, counting the drop', async () => {
    const r = await receiver([500, 503]);
    const w = new WebhookNotifier({ url: r.url, retries: 2, backoffMs: 10 });
    w.notify(alert('GET /b'), 'fired');
    await w.idle();
    expect(r.got).toHaveLength(3);
    expect(w.sent).toBe(1);
    const drops: string[] = [];
    const dead = new WebhookNotifier({ url: 'http://127.0.0.1:1/hook', retries: 1, backoffMs: 5, onDrop: (why) => drops.push(why) });
    // notify never waits: it returns nothing to await, before the first attempt has failed.
    expect(dead.notify(alert('GET /c'), 'fired')).toBeUndefined();
    expect({ dropped: dead.dropped, drops }).toEqual({ dropped: 0, drops: [] });
    await dead.idle();
    expect(dead.dropped).toBe(1);
    expect(drops).toEqual(['ECONNREFUSED']);
  });

  it('bounds its queue and counts what it drops', async () => {
    const w = new WebhookNotifier({ url: 'http://127.0.0.1:1/hook', retries: 0, maxQueue: 3 });
    for (let i = 0; i < 10; i++) w.notify(alert(`GET /${i}`), 'fired');
    await w.idle();
    // The first is taken off the queue at once, 3 wait, 6 are dropped as the queue is full;
    // the 4 sent ones fail on the closed port and are dropped too.
    expect(w.dropped).toBe(10);
    expect(w.sent).toBe(0);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new WebhookNotifier({ url: 'ftp://x/y' })).toThrow('alert webhook: ftp://x/y is not an http(s) URL');
  });
});
