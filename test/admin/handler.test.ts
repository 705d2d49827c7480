import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { fixture, freePort, get, startApp, until, type App } from '../preload/child.ts';

const TOKEN = 'test-token-0123456789abcdef';
let receiver: OtlpReceiver;
let app: App;
let expressPort: number;

interface Call {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: each route answers its own JSON shape
  body: any;
  headers: Headers;
}

async function call(
  path: string,
  init: { method?: string; body?: unknown; raw?: string; token?: string | null; base?: string; type?: string } = {},
): Promise<Call> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = init.type ?? 'application/json';
  const res = await fetch(`${init.base ?? app.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HTML or empty
  }
  return { status: res.status, body, headers: res.headers };
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  app = await startApp(['--import', 'healthspan/register'], fixture('admin-app.mjs'), {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_LOGS_EXPORTER: 'none',
    HEALTHSPAN_ADMIN_TOKEN: TOKEN,
    HEALTHSPAN_SLOW_REQUEST_MS: '100',
    HEALTHSPAN_INSIGHT_INTERVAL_MS: '200',
    HEALTHSPAN_INSIGHT_WARMUP_MS: '0',
  });
  expressPort = Number(/express (\d+)/.exec(app.stdout())![1]);
  // The traffic the API reports on: 36 requests (a rule judges a route's p95 from 20 requests on).
  for (let i = 0; i < 10; i++) await get(`${app.url}/users/${i + 1}`);
  await Promise.all(Array.from({ length: 20 }, () => get(`${app.url}/slow`)));
  for (let i = 0; i < 2; i++) await get(`${app.url}/fail`);
  for (let i = 0; i < 4; i++) await get(`${app.url}/cached/1`);
  // An evaluation (every 200 ms) has seen the traffic once GET /slow's alert fires.
  await until('the slow_request alert for GET /slow', async () =>
    (await call('/_healthspan/alerts')).body.alerts?.some((a: { rule: string; key: string }) => a.rule === 'slow_request' && a.key === 'GET /slow'),
  );
});
afterAll(async () => {
  await app?.stop();
  await receiver?.close();
});

describe('admin API (mounted on the app, token set)', () => {
  it('refuses a missing or wrong token, with a message and WWW-Authenticate', async () => {
    const none = await call('/_healthspan/summary', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'this route needs Authorization: Bearer <HEALTHSPAN_ADMIN_TOKEN>' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="healthspan"');
    const wrong = await call('/_healthspan/summary', { token: 'not-the-token-000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'the bearer token is not the admin token' });
    expect((await call('/_healthspan/cache/clear', { method: 'POST', token: null })).status).toBe(401);
  });

  it('summarises the service: exactly the app requests, none of its own', async () => {
    for (let i = 0; i < 5; i++) await call('/_healthspan/summary');
    const { status, body, headers } = await call('/_healthspan/summary');
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ service: 'fixture', alerts: { firing: expect.any(Number) }, windowMinutes: 5 });
    expect(body.requests.count).toBe(36);
    expect(body.requests.errorRate).toBeCloseTo(2 / 36, 10);
    expect(body.requests.p95Ms).toBeGreaterThan(100);
    expect(body.cache).toEqual({ lookups: 4, hitRate: 0.75 });
    expect(body.memory.heapUsedBytes).toBeGreaterThan(0);
    expect(body.memory.heapLimitBytes).toBeGreaterThan(body.memory.heapUsedBytes);
    expect(typeof body.score).toBe('number');
    expect(['healthy', 'degraded', 'unhealthy']).toContain(body.status);
  });

  it('breaks the window down by route, statement and cache, with recommendations', async () => {
    const { status, body } = await call('/_healthspan/analytics?minutes=1');
    expect(status).toBe(200);
    expect(body.minutes).toBe(1);
    const routes = Object.fromEntries(body.routes.map((r: { route: string }) => [r.route, r]));
    expect(Object.keys(routes).sort()).toEqual(['GET /cached/:id', 'GET /fail', 'GET /slow', 'GET /users/:id']);
    expect(routes['GET /slow'].p95Ms).toBeGreaterThanOrEqual(100);
    expect(routes['GET /slow'].split).toBeUndefined();
    expect(routes['GET /users/:id']).toMatchObject({ count: 10, errorRate: 0 });
    expect(routes['GET /users/:id'].split.db).toBeGreaterThan(0);
    expect(routes['GET /users/:id'].split.topQueries[0].summary).toBe('SELECT');
    expect(routes['GET /fail'].errorRate).toBe(1);
    expect(body.queries.map((q: { query: string; count: number }) => [q.query, q.count])).toEqual([['postgresql SELECT $1::int AS id', 10]]);
    expect(body.caches).toEqual([{ name: 'users', lookups: 4, hitRate: 0.75 }]);
    expect(body.health.components.map((c: { name: string }) => c.name)).toContain('resources');
    expect(body.recommendations).toContainEqual(expect.stringMatching(/^GET \/slow is slow: p95 [\d,]+ ms against 100 ms\./));
    expect(body.alerts.map((a: { rule: string; key: string }) => `${a.rule} ${a.key}`)).toContain('slow_request GET /slow');
  });

  it.each([
    ['0', 'minutes must be a whole number from 1 to 5 (the window), got "0"'],
    ['6', 'minutes must be a whole number from 1 to 5 (the window), got "6"'],
    ['1.5', 'minutes must be a whole number from 1 to 5 (the window), got "1.5"'],
    ['soon', 'minutes must be a whole number from 1 to 5 (the window), got "soon"'],
  ])('refuses /analytics?minutes=%s', async (minutes, error) => {
    expect(await call(`/_healthspan/analytics?minutes=${minutes}`)).toMatchObject({ status: 400, body: { error } });
  });

  it('serves the raw figures', async () => {
    const { body } = await call('/_healthspan/metrics');
    expect(body.requests.count).toBe(36);
    expect(body.requests.errors).toBe(2);
    expect(body.requests.byRoute).toHaveLength(4);
    expect(body.database).toMatchObject({ count: 10, errors: 0 });
    expect(body.memory.rssBytes).toBeGreaterThan(body.memory.heapUsedBytes);
    expect(body.runtime.nodeVersion).toBe(process.version);
    expect(body.cache).toEqual([expect.objectContaining({ name: 'users', hits: 3, misses: 1, entries: 1 })]);
    expect(body.insight).toMatchObject({ routesFolded: 0, keys: { routes: 4, queries: 1, caches: 1 } });
  });

  it('lists, resolves by hand and shows resolved alerts', async () => {
    const firing = await call('/_healthspan/alerts');
    expect(firing.body.state).toBe('firing');
    const slow = firing.body.alerts.find((a: { rule: string; key: string }) => a.rule === 'slow_request' && a.key === 'GET /slow');
    expect(slow).toMatchObject({ state: 'firing', severity: expect.any(String), exemplarTraceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await call(`/_healthspan/alerts/${encodeURIComponent(slow.id)}/resolve`, { method: 'GET' })).toMatchObject({ status: 405 });
    const resolved = await call(`/_healthspan/alerts/${encodeURIComponent(slow.id)}/resolve`, { method: 'POST' });
    expect(resolved).toMatchObject({ status: 200, body: { resolved: { id: slow.id } } });
    const history = await call('/_healthspan/alerts?state=resolved');
    expect(history.body.alerts.find((a: { id: string }) => a.id === slow.id)).toMatchObject({ state: 'resolved', resolvedBy: 'hand' });
    expect(await call(`/_healthspan/alerts/${encodeURIComponent(slow.id)}/resolve`, { method: 'POST' })).toMatchObject({
      status: 404,
      body: { error: `no firing alert with id ${JSON.stringify(slow.id)}` },
    });
    expect(await call('/_healthspan/alerts?state=pending')).toMatchObject({ status: 400, body: { error: 'state must be firing or resolved, got "pending"' } });
  });

  it('changes thresholds at once and refuses bad ones, naming the field', async () => {
    expect((await call('/_healthspan/thresholds')).body.thresholds).toMatchObject({ requestMs: 100, queryMs: 100, errorRate: 0.05 });
    const put = await call('/_healthspan/thresholds', { method: 'PUT', body: { requestMs: 5000, routes: { 'GET /fail': 10 } } });
    expect(put).toMatchObject({ status: 200, body: { thresholds: { requestMs: 5000, routes: { 'GET /fail': 10 } } } });
    expect((await call('/_healthspan/thresholds')).body.thresholds.requestMs).toBe(5000);
    const cases: [unknown, number, string][] = [
      [
        { bogus: 1 },
        400,
        'unknown field "bogus"; the thresholds are requestMs, routes, queryMs, errorRate, errorMinSamples, heapRatio, eventLoopP99Ms, rssRatio',
      ],
      [{ requestMs: -5 }, 400, 'requestMs must be milliseconds from 1 to 3600000 (got -5)'],
      [{ queryMs: 1e12 }, 400, 'queryMs must be milliseconds from 1 to 3600000 (got 1000000000000)'],
      [{ errorRate: 'high' }, 400, 'errorRate must be a share from 0.0001 to 1 (got "high")'],
      // Refused since one rule serves env, setThresholds() and this route (CHANGELOG, Changed).
      [{ requestMs: 0.5 }, 400, 'requestMs must be milliseconds from 1 to 3600000 (got 0.5)'],
      [{ routes: [1] }, 400, 'routes must be an object of "METHOD /route": milliseconds'],
      [[1, 2], 400, 'the body must be a JSON object of thresholds, e.g. {"requestMs": 500}'],
    ];
    for (const [body, status, error] of cases)
      expect(await call('/_healthspan/thresholds', { method: 'PUT', body })).toMatchObject({ status, body: { error } });
    expect(await call('/_healthspan/thresholds', { method: 'PUT', raw: '{"requestMs":' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^the body is not valid JSON: /) },
    });
    expect(await call('/_healthspan/thresholds', { method: 'PUT', raw: 'requestMs=1', type: 'application/x-www-form-urlencoded' })).toMatchObject({
      status: 415,
    });
    expect(await call('/_healthspan/thresholds', { method: 'PUT', raw: JSON.stringify({ routes: { x: 'y'.repeat(20_000) } }) })).toMatchObject({ status: 413 });
    // Nothing was applied by the refused calls.
    expect((await call('/_healthspan/thresholds')).body.thresholds.requestMs).toBe(5000);
    await call('/_healthspan/thresholds', { method: 'PUT', body: { requestMs: 100 } });
  });

  it('shows and clears the caches, by pattern or whole', async () => {
    const stats = await call('/_healthspan/cache/stats');
    expect(stats.body.caches).toEqual([expect.objectContaining({ name: 'users', hits: 3, misses: 1, entries: 1, hitRate: 0.75 })]);
    expect(stats.body.untracked).toBe(0);
    expect(await call('/_healthspan/cache/clear', { method: 'POST', body: { pattern: '' } })).toMatchObject({
      status: 400,
      body: { error: 'pattern must be a non-empty glob such as "users:*"' },
    });
    expect(await call('/_healthspan/cache/clear', { method: 'POST', body: { pattern: 7 } })).toMatchObject({ status: 400 });
    expect(await call('/_healthspan/cache/clear', { method: 'POST', body: { keys: ['a'] } })).toMatchObject({
      status: 400,
      body: { error: 'unknown field "keys"; use pattern and/or cache' },
    });
    expect(await call('/_healthspan/cache/clear', { method: 'POST', body: { cache: 'nope' } })).toMatchObject({
      status: 404,
      body: { error: 'no cache named "nope"' },
    });
    expect(await call('/_healthspan/cache/clear', { method: 'POST', body: { pattern: 'other:*' } })).toMatchObject({
      status: 200,
      body: { cleared: [{ name: 'users', removed: 0 }] },
    });
    expect(await call('/_healthspan/cache/clear', { method: 'POST', body: { pattern: 'user:*' } })).toMatchObject({
      status: 200,
      body: { cleared: [{ name: 'users', removed: 1 }], pattern: 'user:*' },
    });
    expect((await call('/_healthspan/cache/stats')).body.caches[0].entries).toBe(0);
    await get(`${app.url}/cached/2`);
    expect(await call('/_healthspan/cache/clear', { method: 'POST' })).toMatchObject({ status: 200, body: { cleared: [{ name: 'users' }] } });
    expect((await call('/_healthspan/cache/stats')).body.caches[0].entries).toBe(0);
  });

  it('serves the status page from <prefix>/ with a strict CSP, redirecting the bare prefix', async () => {
    const bare = await call('/_healthspan', { token: null });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/_healthspan/');
    const page = await call('/_healthspan/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; /);
    expect(page.body).toMatch(/^<!doctype html>/i);
    expect(await call('/_healthspan/nope')).toMatchObject({ status: 404, body: { error: 'no admin route /nope; see docs/admin.md' } });
  });

  it('works under express app.use(prefix), and neither mount is traced nor counted', async () => {
    const base = `http://127.0.0.1:${expressPort}`;
    // Both mounts read the same state, and calling them adds nothing to it.
    const direct = (await call('/_healthspan/summary')).body.requests.count;
    expect(direct).toBeGreaterThanOrEqual(36);
    expect((await call('/ops/summary', { base })).body.requests.count).toBe(direct);
    expect((await call('/_healthspan/summary')).body.requests.count).toBe(direct);
    expect(await call('/ops/summary', { base, token: null })).toMatchObject({ status: 401 });
    const bare = await call('/ops', { base, token: null });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/ops/');
    expect((await call('/ops/', { base, token: null })).status).toBe(200);
    await get(`${base}/hello`);
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'GET /hello'));
    const paths = spans.filter((s) => s.kind === 2).map((s) => String(s.attributes['url.path'] ?? s.name));
    expect(paths.some((p) => p.startsWith('/_healthspan') || p.startsWith('/ops'))).toBe(false);
    expect(spans.some((s) => /healthspan|ops|summary|analytics/.test(s.name) && !s.name.startsWith('GET /hello'))).toBe(false);
  });
});

describe('admin API without a token', () => {
  let open: App;
  beforeAll(async () => {
    open = await startApp(['--import', 'healthspan/register'], fixture('admin-app.mjs'), { OTEL_TRACES_EXPORTER: 'none', HOST: '0.0.0.0' });
  });
  afterAll(() => open?.stop());

  it('answers reads from loopback and refuses every change', async () => {
    expect((await call('/_healthspan/summary', { base: open.url, token: null })).status).toBe(200);
    expect(await call('/_healthspan/cache/clear', { base: open.url, token: null, method: 'POST' })).toMatchObject({
      status: 403,
      body: { error: 'changing anything through the admin API needs a token: set HEALTHSPAN_ADMIN_TOKEN (or createAdminHandler({ token }))' },
    });
    expect(await call('/_healthspan/thresholds', { base: open.url, token: null, method: 'PUT', body: { requestMs: 1 } })).toMatchObject({ status: 403 });
  });

  it('refuses reads from another address', async () => {
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // no non-loopback address on this machine: nothing to connect from
    const res = await call('/_healthspan/summary', { base: `http://${external.address}:${open.port}`, token: null });
    expect(res).toMatchObject({
      status: 403,
      body: { error: 'without HEALTHSPAN_ADMIN_TOKEN the admin API answers only requests from this machine (loopback)' },
    });
  });
});

describe('standalone admin server (HEALTHSPAN_ADMIN_PORT)', () => {
  it('serves the API at its root on loopback, untraced', async () => {
    const port = await freePort();
    const r = await startOtlpReceiver();
    const a = await startApp(['--import', 'healthspan/register'], fixture('admin-app.mjs'), {
      HEALTHSPAN_ADMIN_PORT: String(port),
      HEALTHSPAN_ADMIN_TOKEN: TOKEN,
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await get(`${a.url}/users/1`);
      const s = await call('/summary', { base });
      expect(s).toMatchObject({ status: 200, body: { requests: { count: 1 } } });
      expect((await call('/', { base, token: null })).status).toBe(200);
      expect(a.stderr()).toContain(`admin API and status page on http://127.0.0.1:${port}/`);
      const spans = await r.waitForSpans((all) => all.some((x) => x.name === 'GET /users/:id'));
      await new Promise((res) => setTimeout(res, 300));
      expect(r.spans.filter((x) => x.name.startsWith('GET') && x.name !== 'GET /users/:id').map((x) => x.name)).toEqual([]);
      expect(spans.length).toBeGreaterThan(0);
    } finally {
      await a.stop();
      await r.close();
    }
  });
});
