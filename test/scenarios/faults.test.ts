// Known faults injected into a real app (node:http + pg + a traced cache over the real Redis),
// under real load, with healthspan's default thresholds: each must raise the right rule, key
// and severity band, nothing else, and show in the score (critical < 60, high < 75). Timings
// are recorded for the report, never asserted: how loaded the machine is decides them.
import { afterAll, describe, expect, it } from 'vitest';
import { everyday, load, observation, record, report, startScenarioApp, watch, type Load, type Observation, type ScenarioApp } from './harness.ts';

const all: Observation[] = [];
afterAll(() => report('faults', all));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  app: ScenarioApp;
  loads: Load[];
  o: Observation;
}

/**
 * Starts the app with a 3 s warm-up (the default 30 s is the cold-start scenario's subject),
 * runs the everyday traffic for 5 s, and returns with the baseline recorded.
 */
async function begin(name: string, expected: Record<string, string[]>, start: Parameters<typeof startScenarioApp>[0] = {}): Promise<Run> {
  const app = await startScenarioApp({ ...start, env: { HEALTHSPAN_INSIGHT_WARMUP_MS: '3000', ...start.env } });
  const loads = [load(app.url, { concurrency: 4, paths: everyday(), paceMs: 5 })];
  const o = observation(name, expected);
  all.push(o);
  await sleep(5000);
  const before = await app.analytics();
  o.scoreBefore = before.health.score;
  const seen = observation('baseline');
  record(seen, before, Date.now());
  for (const a of seen.falseAlerts) o.falseAlerts.push(`${a} before the fault`);
  o.notes.push(...seen.notes);
  return { app, loads, o };
}

async function end(run: Run): Promise<void> {
  await Promise.all(run.loads.map((l) => l.stop()));
  await run.app.stop();
  for (const l of run.loads) expect(l.failed, 'requests that got no answer').toBe(0);
}

function expectFound(o: Observation): void {
  for (const [key, bands] of Object.entries(o.expected)) {
    expect(o.detected[key], `${key} was not raised; false alerts: ${o.falseAlerts.join(', ')}`).toBeDefined();
    expect(bands, `${key}: ${o.detected[key].message}`).toContain(o.detected[key].severity);
  }
  expect(o.falseAlerts).toEqual([]);
}

const cycle = (paths: string[]) => {
  let i = 0;
  return () => paths[i++ % paths.length];
};

describe('faults, one app each, default thresholds', { timeout: 120_000 }, () => {
  it('a slow route at 1.2×, 1.7×, 2.5× and 3.5× its threshold: low, medium, high, critical', async () => {
    const expected = {
      'slow_request GET /slow/a': ['low'],
      'slow_request GET /slow/b': ['medium'],
      'slow_request GET /slow/c': ['high'],
      'slow_request GET /slow/d': ['critical'],
    };
    const run = await begin('slow route ×4', expected);
    try {
      await run.app.fault({ slow: { a: 1200, b: 1700, c: 2500, d: 3500 } });
      const since = Date.now();
      run.loads.push(load(run.app.url, { concurrency: 40, paths: cycle(['/slow/a', '/slow/b', '/slow/c', '/slow/d']) }));
      await watch(run.app, run.o, since, 60_000, 2000);
      expectFound(run.o);
      expect(run.o.scoreDuring).toBeLessThan(60); // a critical alert is firing
    } finally {
      await end(run);
    }
  });

  it('a slow search (2.35× the query threshold) is found among fast lookups with the same summary: high, its route mostly database', async () => {
    const run = await begin('slow query', {});
    try {
      const search = (await run.app.analytics()).queries.find((q) => q.query.includes('pause('))!;
      expect(search.query).toBe('postgresql SELECT p.id, p.name FROM products p, (SELECT pause($2::float8)) d WHERE p.name ILIKE $1 ORDER BY p.id LIMIT ?');
      run.o.expected = { [`slow_query ${search.query}`]: ['high'] };
      await run.app.fault({ searchSleep: 0.235 });
      const since = Date.now();
      run.loads.push(load(run.app.url, { concurrency: 8, paths: () => '/search?q=lamp' }));
      const last = await watch(run.app, run.o, since, 60_000, 2000);
      expectFound(run.o);
      expect(run.o.scoreDuring).toBeLessThan(75); // a high alert is firing
      const route = last.routes.find((r) => r.route === 'GET /search')!;
      run.o.notes.push(`GET /search database share ${Math.round(route.split!.db * 100)}%`);
      // The rest is waiting for one of the pool's 10 connections (no span of its own: own time).
      expect(route.split!.db).toBeGreaterThan(0.75);
    } finally {
      await end(run);
    }
  });

  it('an N+1 (12 item queries in a loop) is reported on its route; three different queries in a row are not', async () => {
    const expected = { 'n_plus_one GET /orders/:id → postgresql SELECT id, product_id, qty FROM items WHERE id = $1': ['low', 'high'] };
    const run = await begin('N+1 vs three queries', expected);
    try {
      await run.app.fault({ nPlusOne: true });
      const since = Date.now();
      run.loads.push(load(run.app.url, { concurrency: 4, paths: cycle(['/orders/7', '/dashboard', '/orders/42', '/dashboard']) }));
      const last = await watch(run.app, run.o, since, 30_000, 3000);
      expectFound(run.o);
      // 12 fast queries on loopback take well under 50 ms together: low. On a machine so loaded
      // that they take longer, 12 of them are high (12 / 5 = 2.4); the length is always 12.
      const alert = last.alerts.find((a) => a.rule === 'n_plus_one')!;
      expect(alert.observed).toBe(12);
      expect(alert.message).toMatch(/^N\+1: 12 sequential "SELECT items" queries per GET \/orders\/:id request \(\d+ ms\), [\d,]+ times in the last 60 s$/);
    } finally {
      await end(run);
    }
  });

  it('a 5xx burst at 4× the error-rate threshold is critical; as many 404s are no error', async () => {
    const run = await begin('5xx burst vs 404s', { 'error_rate GET /pay': ['critical'] });
    try {
      await run.app.fault({ errorEvery: 5 });
      const since = Date.now();
      let n = 0;
      run.loads.push(load(run.app.url, { concurrency: 4, paths: () => (n++ % 2 ? '/pay' : `/missing/${n}`) }));
      await watch(run.app, run.o, since, 30_000, 3000);
      expectFound(run.o);
      expect(run.o.scoreDuring).toBeLessThan(60);
      expect(run.loads[1].statuses.get(404)).toBeGreaterThan(50);
    } finally {
      await end(run);
    }
  });

  it('a route that retains memory until the heap runs out is caught before the crash: heap growth, critical', async () => {
    // A small old space, as a container would set it; heap_size_limit also counts the young generation.
    const run = await begin('heap growth to OOM', { 'memory heap_growth': ['high', 'critical'] }, { nodeFlags: ['--max-old-space-size=160'] });
    try {
      await run.app.fault({ retainKiB: 512 });
      const since = Date.now();
      run.loads.push(load(run.app.url, { concurrency: 1, paths: () => '/remember', paceMs: 150 }));
      await watch(run.app, run.o, since, 90_000);
      expect(run.app.proc.exitCode, `the app crashed before an alert: ${run.app.stderr().slice(-500)}`).toBeNull();
      expectFound(run.o);
      expect(run.o.scoreDuring).toBeLessThan(75);
    } finally {
      await end(run).catch(() => {});
    }
  });

  it('event-loop blocking: 260 ms blocks every second are low, 500 ms blocks high', async () => {
    const run = await begin('event-loop blocking', { 'event_loop p99': ['low', 'medium'] });
    try {
      await run.app.fault({ blockMs: 260 });
      let since = Date.now();
      await watch(run.app, run.o, since, 30_000, 2000);
      expectFound(run.o);
      const first = { ...run.o.detected['event_loop p99'] };
      // A 260 ms block reads 250–270 ms against 200 ms (ratio 1.25–1.35): low, or medium if this
      // machine stretches a block by 40 ms more.
      run.o.notes.push(`260 ms blocks: ${first.severity} after ${(first.afterMs / 1000).toFixed(1)} s (${first.message})`);
      await run.app.fault({ blockMs: 500 });
      since = Date.now();
      run.o.expected = { 'event_loop p99': ['high'] };
      await watch(run.app, run.o, since, 30_000, 2000);
      expectFound(run.o);
      expect(run.o.scoreDuring).toBeLessThan(75);
    } finally {
      await end(run);
    }
  });

  it('a cold cache (every lookup misses) raises no alert and costs the score its cache part only, with advice', async () => {
    const run = await begin('cold cache', {});
    try {
      await run.app.fault({ coldCache: true });
      const since = Date.now();
      const last = await watch(run.app, run.o, since, 15_000);
      expect(run.o.falseAlerts).toEqual([]);
      const cache = last.health.components.find((c) => c.name === 'cache')!;
      run.o.notes.push(`cache component ${cache.score} (${cache.detail})`);
      expect(cache.score).toBeLessThan(80);
      expect(run.o.scoreDuring).toBeGreaterThanOrEqual(80);
      expect(last.recommendations.join('\n')).toMatch(/Cache "products" answers only [\d.]+% of [\d,]+ lookups/);
    } finally {
      await end(run);
    }
  });

  it('RSS over the memory limit is critical at once and shows in the score', async () => {
    const run = await begin('RSS over its limit', { 'memory rss': ['critical'] }, { env: { HEALTHSPAN_MEMORY_LIMIT_MB: '64' } });
    try {
      // The app is over 64 MiB from its start: the baseline already saw the alert.
      run.o.falseAlerts = run.o.falseAlerts.filter((a) => !a.startsWith('memory rss'));
      const since = Date.now();
      await watch(run.app, run.o, since, 15_000);
      expectFound(run.o);
      expect(run.o.scoreDuring).toBeLessThan(60);
    } finally {
      await end(run);
    }
  });
});
