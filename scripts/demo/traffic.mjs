// The demo's traffic: a fixed mix of HTTP requests (the same every run) and, at the same time,
// a few WebSocket clients.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isShuttingDown } from '../dev/supervisor.mjs';

/** How long the traffic is spread over. */
export const TRAFFIC_MS = 3500;
export const CONCURRENCY = 8;

function random(seed) {
  // mulberry32: the same run every time
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function trafficPlan(total) {
  const rnd = random(20251121);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const kinds = [
    [14, () => ({ label: 'GET /users', method: 'GET', path: `/users?limit=${int(5, 50)}` })],
    // Read through the app's `users` cache: mostly a few popular users (hits after the first
    // read), some others (misses), and ids 51-60 that do not exist (404, cached as such).
    [
      26,
      () => {
        const r = rnd();
        const id = r < 0.8 ? int(1, 6) : r < 0.92 ? int(7, 50) : int(51, 60);
        return { label: 'GET /users/:id', method: 'GET', path: `/users/${id}` };
      },
    ],
    [20, () => ({ label: 'GET /users/:id/orders', method: 'GET', path: `/users/${int(1, 50)}/orders` })],
    [
      16,
      () => {
        const bad = rnd() < 0.15;
        return {
          label: 'POST /orders',
          method: 'POST',
          path: '/orders',
          body: bad
            ? '{"user_id": 1, "item": '
            : JSON.stringify({ user_id: int(1, 53), item: ['cable', 'stand', 'charger'][int(0, 2)], quantity: int(1, 3), price_cents: int(199, 4999) }),
        };
      },
    ],
    [6, () => ({ label: 'GET /slow', method: 'GET', path: '/slow' })],
    [5, () => ({ label: 'GET /error', method: 'GET', path: '/error' })],
    // One query per order, for users with 5 to 7 orders (id % 8 >= 5): an N+1 alert.
    [5, () => ({ label: 'GET /users/:id/orders-n1', method: 'GET', path: `/users/${8 * int(0, 5) + int(5, 7)}/orders-n1` })],
    [8, () => ({ label: 'GET /health', method: 'GET', path: '/health' })],
  ];
  const weight = kinds.reduce((s, [w]) => s + w, 0);
  return Array.from({ length: total }, () => {
    let r = rnd() * weight;
    for (const [w, make] of kinds) if ((r -= w) < 0) return make();
    return kinds[0][1]();
  });
}

export async function driveTraffic(baseUrl, total) {
  const plan = trafficPlan(total);
  const stats = new Map(); // label -> Map(status -> n)
  const failures = [];
  let next = 0;
  const t0 = Date.now();
  const gap = TRAFFIC_MS / total;
  async function worker() {
    while (next < plan.length && !isShuttingDown()) {
      const i = next++;
      const wait = t0 + i * gap - Date.now();
      if (wait > 0) await sleep(wait);
      const r = plan[i];
      let status;
      try {
        const res = await fetch(baseUrl + r.path, {
          method: r.method,
          body: r.body,
          headers: r.body ? { 'content-type': 'application/json' } : undefined,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        status = res.status;
      } catch (err) {
        status = 'failed';
        if (failures.length < 5) failures.push(`${r.method} ${r.path}: ${err.cause?.message ?? err.message}`);
      }
      const byStatus = stats.get(r.label) ?? new Map();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      stats.set(r.label, byStatus);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = Date.now() - t0;
  const failed = [...stats.values()].reduce((s, m) => s + (m.get('failed') ?? 0), 0);
  // Each answered request is a SERVER span, plus one for the /internal/price call that
  // every answered /users/:id/orders request makes.
  const orders = [...(stats.get('GET /users/:id/orders') ?? new Map())].reduce((s, [st, n]) => s + (st === 'failed' ? 0 : n), 0);
  return { stats, failures, failed, elapsed, sent: plan.length, internalCalls: orders, expectedServerSpans: plan.length - failed + orders };
}

/**
 * A few WebSocket clients (the `ws` package) on /ws, each asking for the order count of some
 * users, one message at a time, spread over the HTTP traffic.
 */
export async function driveWebSockets(baseUrl, connections, messages) {
  const { default: WebSocket } = await import('ws');
  const rnd = random(7);
  const result = { connections, opened: 0, sent: 0, answered: 0, failures: [] };
  const client = async (n) => {
    await sleep((n * TRAFFIC_MS) / (connections + 1));
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { handshakeTimeout: 5000 });
    const replies = [];
    let wake = () => {};
    socket.on('message', (data) => {
      replies.push(String(data));
      wake();
    });
    try {
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('closed before opening')));
      });
      result.opened++;
      socket.on('error', () => {});
      for (let i = 0; i < messages && !isShuttingDown(); i++) {
        const userId = 1 + Math.floor(rnd() * 50);
        const answered = new Promise((resolve) => (wake = resolve));
        socket.send(JSON.stringify({ userId }));
        result.sent++;
        const reply = await Promise.race([answered.then(() => replies.at(-1)), sleep(5000).then(() => null)]);
        if (reply === null) throw new Error(`no answer to {"userId":${userId}} within 5 s`);
        if (!/"orders":\d+/.test(reply)) throw new Error(`unexpected answer ${reply.slice(0, 100)}`);
        result.answered++;
        await sleep(TRAFFIC_MS / (messages * 2));
      }
      socket.close(1000, 'done');
      await Promise.race([once(socket, 'close'), sleep(2000)]);
    } catch (err) {
      if (result.failures.length < 3) result.failures.push(err.cause?.message ?? err.message);
      socket.terminate();
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, n) => client(n)));
  return result;
}
