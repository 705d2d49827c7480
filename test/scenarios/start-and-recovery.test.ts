// One app through a day's life, with healthspan's defaults (the 30 s warm-up included): a cold
// start under traffic (fresh pool, cold plans, Redis connecting) that must page nobody, a hard
// load that must not either, then three faults at once that must be found and, once fixed,
// must resolve on their own while the score climbs back. Timings are recorded, never asserted.
import autocannon from 'autocannon';
import { afterAll, describe, expect, it } from 'vitest';
import { everyday, load, observation, record, report, startScenarioApp, watch, type Load, type Observation, type ScenarioApp } from './harness.ts';

const all: Observation[] = [];
afterAll(() => report('start-and-recovery', all));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('start, load, faults and recovery in one app', { timeout: 400_000 }, () => {
  it('pages nobody for a cold start or a hard load, finds three faults, and resolves them once fixed', async () => {
    const app: ScenarioApp = await startScenarioApp(); // the default warm-up
    const started = Date.now();
    const loads: Load[] = [];
    try {
      // Cold start: traffic from the first moment, with a burst that makes the pool open all
      // ten connections at once (each first query of a connection plans cold).
      const cold = observation('cold start (default 30 s warm-up)');
      all.push(cold);
      loads.push(load(app.url, { concurrency: 4, paths: everyday(), paceMs: 5 }));
      const burst = load(app.url, { concurrency: 10, paths: everyday() });
      await sleep(1500);
      await burst.stop();
      const scores: number[] = [];
      while (Date.now() - started < 40_000) {
        const a = await app.analytics();
        record(cold, a, started);
        if (Date.now() - started > 32_000 && a.health.score !== undefined) scores.push(a.health.score);
        await sleep(1000);
      }
      cold.scoreAfter = Math.min(...scores);
      expect(cold.falseAlerts).toEqual([]);
      expect(cold.scoreAfter).toBeGreaterThanOrEqual(95);

      // Healthy under a hard load: 20 connections as fast as the app answers, 10 s.
      const hard = observation('healthy under a hard load (autocannon, 20 connections, 10 s)');
      all.push(hard);
      const requests = ['/products/3', '/search?q=lamp', '/orders/9', '/dashboard', '/pay', '/products/17'].map((path) => ({ method: 'GET' as const, path }));
      const run = autocannon({ url: app.url, connections: 20, duration: 10, requests });
      const loadStart = Date.now();
      let done = false;
      const result = new Promise<autocannon.Result>((resolve) =>
        run.once('done', (r: autocannon.Result) => {
          done = true;
          resolve(r);
        }),
      );
      while (!done) {
        record(hard, await app.analytics(), loadStart);
        await sleep(1000);
      }
      const r = await result;
      hard.notes.push(`${r.requests.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors, p99 ${r.latency.p99} ms`);
      await sleep(1500);
      const afterLoad = await app.analytics();
      record(hard, afterLoad, loadStart);
      hard.scoreAfter = afterLoad.health.score;
      expect(r.errors).toBe(0);
      expect(r.non2xx).toBe(0);
      expect(hard.falseAlerts).toEqual([]);
      expect(hard.scoreDuring).toBeGreaterThanOrEqual(95);

      // Three faults at once, then fixed: they must be found, then resolve on evidence.
      const faults = observation('recovery: slow route 2.5×, 5xx burst 4×, N+1', {
        'slow_request GET /slow/c': ['high'],
        'error_rate GET /pay': ['critical'],
        'n_plus_one GET /orders/:id → postgresql SELECT id, product_id, qty FROM items WHERE id = $1': ['low', 'high'],
      });
      all.push(faults);
      faults.scoreBefore = afterLoad.health.score;
      await app.fault({ slow: { c: 2500 }, errorEvery: 5, nPlusOne: true });
      const since = Date.now();
      loads.push(load(app.url, { concurrency: 10, paths: () => '/slow/c' }));
      let n = 0;
      loads.push(load(app.url, { concurrency: 4, paths: () => (n++ % 2 ? '/pay' : `/orders/${(n % 200) + 1}`) }));
      await watch(app, faults, since, 60_000, 3000);
      for (const [key, bands] of Object.entries(faults.expected)) {
        expect(faults.detected[key], `${key} was not raised`).toBeDefined();
        expect(bands).toContain(faults.detected[key].severity);
      }
      expect(faults.falseAlerts).toEqual([]);
      expect(faults.scoreDuring).toBeLessThan(60);

      await app.fault({ slow: {}, errorEvery: 0, nPlusOne: false });
      const fixed = Date.now();
      const resolvedAfter: Record<string, number> = {};
      const ruleKeys = Object.keys(faults.expected);
      while (Object.keys(resolvedAfter).length < ruleKeys.length && Date.now() - fixed < 240_000) {
        for (const a of await app.resolved()) {
          const k = `${a.rule} ${a.key}`;
          if (ruleKeys.includes(k) && resolvedAfter[k] === undefined) {
            resolvedAfter[k] = Date.now() - fixed;
            expect(a.resolvedBy, k).toBe('signal');
          }
        }
        await sleep(1000);
      }
      faults.notes.push(
        `resolved after ${ruleKeys.map((k) => `${k.split(' ')[0]} ${resolvedAfter[k] !== undefined ? `${(resolvedAfter[k] / 1000).toFixed(0)} s` : 'never'}`).join(', ')}`,
      );
      expect(Object.keys(resolvedAfter).sort()).toEqual(ruleKeys.slice().sort());
      const back = await app.analytics();
      faults.scoreAfter = back.health.score;
      expect(back.alerts).toEqual([]);
      expect(back.health.score).toBeGreaterThanOrEqual(90);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      await app.stop();
    }
  });
});
