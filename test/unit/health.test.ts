import { describe, expect, it } from 'vitest';
import { apdexBucket, apdexCounts, computeHealth, trend, type HealthInput, type HealthOptions } from '../../src/insight/health.js';

/** The one component of a report built from `input`; fails loudly if it was left out. */
function only(input: HealthInput, options?: HealthOptions) {
  const r = computeHealth(input, options);
  expect(r.components).toHaveLength(1);
  return { ...r.components[0], total: r.score };
}
const names = (input: HealthInput) => computeHealth(input).components.map((c) => c.name);
const reqs = (satisfied: number, tolerating: number, frustrated: number) => ({ satisfied, tolerating, frustrated });

const healthy: HealthInput = {
  requests: reqs(100, 0, 0),
  errors: { total: 100, failed: 0 },
  resources: { heapUsed: 500, heapLimit: 1000, eventLoopDelayP99Ms: 10 },
  database: reqs(100, 0, 0),
  cache: { hits: 100, misses: 0 },
};

describe('apdexBucket / apdexCounts', () => {
  it.each([
    [0, 500, false, 'satisfied'],
    [500, 500, false, 'satisfied'], // ≤ T
    [501, 500, false, 'tolerating'],
    [2000, 500, false, 'tolerating'], // ≤ 4T
    [2001, 500, false, 'frustrated'],
    [10, 500, true, 'frustrated'], // a fast 5xx is still a failure
    [Number.NaN, 500, false, 'frustrated'],
  ])('%s ms against T = %s (failed %s) is %s', (d, t, failed, bucket) => {
    expect(apdexBucket(d, t, failed)).toBe(bucket);
  });

  it('counts durations, with failed operations frustrated', () => {
    expect(apdexCounts([100, 500, 600, 2000, 2001, 50], 500, [false, false, false, false, false, true])).toEqual({
      satisfied: 2,
      tolerating: 2,
      frustrated: 2,
    });
    expect(apdexCounts([], 500)).toEqual({ satisfied: 0, tolerating: 0, frustrated: 0 });
  });
});

describe('components', () => {
  it.each([
    [reqs(100, 0, 0), 100, 'Apdex 1.00 over 100 requests (T = 500 ms)'],
    [reqs(0, 100, 0), 50, 'Apdex 0.50 over 100 requests (T = 500 ms)'],
    [reqs(0, 0, 100), 0, 'Apdex 0.00 over 100 requests (T = 500 ms)'],
    [reqs(1110, 12, 78), 93, 'Apdex 0.93 over 1,200 requests (T = 500 ms)'],
  ])('responseTime: %o → %i', (requests, score, detail) => {
    expect(only({ requests })).toMatchObject({
      name: 'responseTime',
      score,
      samples: requests.satisfied + requests.tolerating + requests.frustrated,
      detail,
      weight: 1,
    });
  });

  it('responseTime: 5xx answers count as frustrated however fast they were', () => {
    const durations = Array.from({ length: 20 }, () => 100);
    const failed = durations.map((_, i) => i < 4); // 4 of 20 answered 5xx
    expect(only({ requests: apdexCounts(durations, 500, failed) }).score).toBe(80);
  });

  it.each([
    [0, 100, 'error rate 0% over 1,000 requests (budget 1%)'],
    [10, 100, 'error rate 1% over 1,000 requests (budget 1%)'], // at the budget
    [11, 99, 'error rate 1.1% over 1,000 requests (budget 1%)'], // (0.1 − 0.011) / 0.09 = 0.989
    [28, 80, 'error rate 2.8% over 1,000 requests (budget 1%)'],
    [55, 50, 'error rate 5.5% over 1,000 requests (budget 1%)'], // midpoint of 1%–10%
    [100, 0, 'error rate 10% over 1,000 requests (budget 1%)'], // 10× the budget
    [400, 0, 'error rate 40% over 1,000 requests (budget 1%)'],
    [2000, 0, 'error rate 100% over 1,000 requests (budget 1%)'], // failed > total is clamped
  ])('errors: %i of 1,000 failed → %i', (failed, score, detail) => {
    expect(only({ errors: { total: 1000, failed } })).toMatchObject({ name: 'errors', score, samples: 1000, detail });
  });

  it.each([
    [700, 10, 100, 'heap 70% of limit, event-loop delay p99 10 ms'],
    [825, 10, 50, 'heap 82.5% of limit, event-loop delay p99 10 ms'],
    [950, 10, 0, 'heap 95% of limit, event-loop delay p99 10 ms'],
    [500, 50, 100, 'heap 50% of limit, event-loop delay p99 50 ms'],
    [500, 275, 50, 'heap 50% of limit, event-loop delay p99 275 ms'],
    [500, 500, 0, 'heap 50% of limit, event-loop delay p99 500 ms'],
    [825, 140, 50, 'heap 82.5% of limit, event-loop delay p99 140 ms'], // worse of 50 and 80
    [500, 140, 80, 'heap 50% of limit, event-loop delay p99 140 ms'], // (500 − 140) / 450
  ])('resources: heap %i/1000, event-loop p99 %i ms → %i', (heapUsed, eventLoopDelayP99Ms, score, detail) => {
    const c = only({ resources: { heapUsed, heapLimit: 1000, eventLoopDelayP99Ms } });
    expect(c).toMatchObject({ name: 'resources', score, samples: 1, detail });
  });

  it('resources: a signal that cannot be measured is skipped, not scored 0', () => {
    expect(only({ resources: { heapUsed: 1, heapLimit: 0, eventLoopDelayP99Ms: 275 } })).toMatchObject({ score: 50, detail: 'event-loop delay p99 275 ms' });
    expect(only({ resources: { heapUsed: 700, heapLimit: 1000, eventLoopDelayP99Ms: Number.NaN } })).toMatchObject({ score: 100, detail: 'heap 70% of limit' });
    expect(computeHealth({ resources: { heapUsed: 1, heapLimit: 0, eventLoopDelayP99Ms: Number.NaN } }).score).toBeUndefined();
  });

  it.each([
    [reqs(30, 0, 0), 100, 'Apdex 1.00 over 30 queries (T = 100 ms)'],
    [reqs(15, 10, 5), 67, 'Apdex 0.67 over 30 queries (T = 100 ms)'],
    [reqs(0, 0, 30), 0, 'Apdex 0.00 over 30 queries (T = 100 ms)'],
  ])('database: %o → %i', (database, score, detail) => {
    expect(only({ database })).toMatchObject({ name: 'database', score, samples: 30, detail });
  });

  it.each([
    [100, 0, 100, 'hit rate 100% over 100 lookups (target 80%)'],
    [80, 20, 100, 'hit rate 80% over 100 lookups (target 80%)'], // at the target
    [60, 40, 75, 'hit rate 60% over 100 lookups (target 80%)'],
    [40, 60, 50, 'hit rate 40% over 100 lookups (target 80%)'], // half the target
    [0, 100, 0, 'hit rate 0% over 100 lookups (target 80%)'],
  ])('cache: %i hits, %i misses → %i', (hits, misses, score, detail) => {
    expect(only({ cache: { hits, misses } })).toMatchObject({ name: 'cache', score, samples: 100, detail });
  });

  it('rounds a true .5 up even when float arithmetic lands just below it', () => {
    // 0.58 / 0.8 × 100 is 72.5 on paper but 72.49999999999999 in doubles
    expect(only({ cache: { hits: 232, misses: 168 } }).score).toBe(73);
  });

  it('thresholds are configurable and show in the detail', () => {
    expect(only({ requests: apdexCounts(Array(20).fill(300), 200) }, { requestThresholdMs: 200 })).toMatchObject({
      score: 50,
      detail: 'Apdex 0.50 over 20 requests (T = 200 ms)',
    });
    expect(only({ errors: { total: 100, failed: 11 } }, { errorBudget: 0.02 }).score).toBe(50); // (0.2 − 0.11) / 0.18
    expect(only({ resources: { heapUsed: 85, heapLimit: 100, eventLoopDelayP99Ms: 0 } }, { heapGood: 0.8, heapBad: 0.9 }).score).toBe(50);
    expect(only({ resources: { heapUsed: 0, heapLimit: 100, eventLoopDelayP99Ms: 150 } }, { eventLoopDelayGoodMs: 100, eventLoopDelayBadMs: 200 }).score).toBe(
      50,
    );
    expect(only({ cache: { hits: 25, misses: 75 } }, { cacheHitTarget: 0.5 })).toMatchObject({
      score: 50,
      detail: 'hit rate 25% over 100 lookups (target 50%)',
    });
  });
});

describe('minimum samples', () => {
  it.each<[string, HealthInput, string[]]>([
    ['19 requests', { requests: reqs(19, 0, 0), errors: { total: 19, failed: 0 } }, []],
    ['20 requests', { requests: reqs(20, 0, 0), errors: { total: 20, failed: 0 } }, ['responseTime', 'errors']],
    ['19 queries', { database: reqs(10, 5, 4) }, []],
    ['20 queries', { database: reqs(10, 5, 5) }, ['database']],
    ['19 lookups', { cache: { hits: 10, misses: 9 } }, []],
    ['20 lookups', { cache: { hits: 10, misses: 10 } }, ['cache']],
    ['a resources snapshot', { resources: { heapUsed: 1, heapLimit: 10, eventLoopDelayP99Ms: 1 } }, ['resources']],
  ])('%s → counted: %j', (_, input, expected) => {
    expect(names(input)).toEqual(expected);
  });

  it('minimums are configurable', () => {
    const r = computeHealth({ requests: reqs(5, 0, 0), cache: { hits: 1, misses: 0 } }, { minRequests: 5, minCacheLookups: 2 });
    expect(r.components.map((c) => c.name)).toEqual(['responseTime']);
  });
});

describe('weighting', () => {
  it('uses 30/25/20/15/10 by default', () => {
    const r = computeHealth({ ...healthy, errors: { total: 1000, failed: 28 } }); // errors 80, the rest 100
    expect(r.components.map((c) => [c.name, c.weight])).toEqual([
      ['responseTime', 0.3],
      ['errors', 0.25],
      ['resources', 0.2],
      ['database', 0.15],
      ['cache', 0.1],
    ]);
    expect(r.score).toBe(95); // 100 − 0.25 × 20
  });

  it('renormalises over the components with data', () => {
    const r = computeHealth({ requests: reqs(100, 0, 0), errors: { total: 1000, failed: 28 } });
    expect(r.components.map((c) => c.weight)).toEqual([30 / 55, 25 / 55]);
    expect(r.score).toBe(91); // (30 × 100 + 25 × 80) / 55 = 90.9
  });

  it('leaves out under-minimum components before renormalising', () => {
    const r = computeHealth({ ...healthy, database: reqs(0, 0, 19), cache: { hits: 0, misses: 19 } });
    expect(r.components.map((c) => c.weight)).toEqual([30 / 75, 25 / 75, 20 / 75]);
    expect(r.score).toBe(100);
  });

  it('takes custom weights; weight 0 leaves a component out', () => {
    const r = computeHealth({ ...healthy, cache: { hits: 0, misses: 100 } }, { weights: { cache: 0, responseTime: 10 } });
    expect(r.components.map((c) => [c.name, c.weight])).toEqual([
      ['responseTime', 10 / 70],
      ['errors', 25 / 70],
      ['resources', 20 / 70],
      ['database', 15 / 70],
    ]);
    expect(r.score).toBe(100);
  });

  it('weights of every report sum to 1', () => {
    const r = computeHealth({ requests: reqs(20, 0, 0), database: reqs(20, 0, 0), cache: { hits: 20, misses: 0 } });
    expect(r.components.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1, 12);
  });
});

describe('total', () => {
  it('is not capped by its worst component by default: a cold cache alone reads 90, not unhealthy', () => {
    const input = { ...healthy, cache: { hits: 0, misses: 100 } }; // weighted mean 90, cache 0
    expect(computeHealth(input)).toMatchObject({ score: 90, status: 'healthy' });
    expect(computeHealth(input, { maxAboveWorst: 25 })).toMatchObject({ score: 25, status: 'unhealthy' });
  });

  it.each([
    ['low', 94, 80],
    ['medium', 84, 60],
    ['high', 70, 40],
    ['critical', 45, 10],
  ] as const)('a firing %s alert caps the total at %i and its component at %i', (severity, total, component) => {
    const r = computeHealth({ ...healthy, alerts: [{ component: 'database', severity }] });
    expect(r.score).toBe(total);
    expect(r.cappedBy).toEqual({ severity, cap: total });
    expect(r.components.find((c) => c.name === 'database')).toMatchObject({
      score: component,
      detail: `Apdex 1.00 over 100 queries (T = 100 ms); capped at ${component} by a firing ${severity} alert`,
    });
  });

  it('takes the most severe of several alerts, and leaves a lower score as it is', () => {
    const r = computeHealth({
      ...healthy,
      errors: { total: 1000, failed: 100 },
      alerts: [
        { component: 'errors', severity: 'low' },
        { component: 'database', severity: 'high' },
      ],
    });
    expect(r.components.find((c) => c.name === 'errors')!.score).toBe(0); // already under the low cap
    expect(r.score).toBe(66); // 100 − 25 (errors 0) − 0.15 × 60 (database capped at 40), under the high cap of 70
    expect(computeHealth({ requests: reqs(0, 0, 100), alerts: [{ component: 'responseTime', severity: 'low' }] })).toMatchObject({ score: 0 });
  });

  it('scores RSS against the memory limit in resources: 80 % and under → 100, the limit → 0', () => {
    const at = (rss: number) => only({ resources: { heapUsed: 1, heapLimit: 100, eventLoopDelayP99Ms: 1, rss, memoryLimit: 1000 } });
    expect(at(800).score).toBe(100);
    expect(at(900).score).toBe(50);
    expect(at(1020)).toMatchObject({ score: 0, detail: 'heap 1% of limit, RSS 102% of the memory limit, event-loop delay p99 1 ms' });
  });

  it('is the weighted mean when the cap does not bite', () => {
    // responseTime 50, errors 100: mean (1500 + 2500) / 55 = 72.7; worst + 25 = 75
    expect(computeHealth({ requests: reqs(0, 100, 0), errors: { total: 100, failed: 0 } }).score).toBe(73);
  });

  it('is undefined, not 100, without data', () => {
    const unknown = { score: undefined, status: 'unknown', components: [] };
    expect(computeHealth({})).toEqual(unknown);
    expect(computeHealth({ requests: reqs(0, 0, 0), errors: { total: 0, failed: 0 }, cache: { hits: 0, misses: 0 } })).toEqual(unknown);
    expect(computeHealth(healthy, { weights: { responseTime: 0, errors: 0, resources: 0, database: 0, cache: 0 } })).toEqual(unknown);
  });

  it.each([
    [100, 'healthy'],
    [80, 'healthy'],
    [79, 'degraded'],
    [50, 'degraded'],
    [49, 'unhealthy'],
    [0, 'unhealthy'],
  ])('%i is %s', (score, status) => {
    expect(computeHealth({ requests: reqs(score, 0, 100 - score) })).toMatchObject({ score, status });
  });

  it('treats NaN and negative counts as 0 instead of throwing', () => {
    const r = computeHealth({ requests: { satisfied: 30, tolerating: Number.NaN, frustrated: -5 }, cache: { hits: -1, misses: Number.NaN } });
    expect(r).toMatchObject({ score: 100, components: [{ name: 'responseTime', samples: 30 }] });
  });
});

describe('trend', () => {
  it.each([
    [70, 80, undefined, 'improving'],
    [80, 70, undefined, 'degrading'],
    [80, 85, undefined, 'stable'], // exactly the tolerance is still noise
    [80, 75, undefined, 'stable'],
    [80, 86, undefined, 'improving'],
    [80, 74, undefined, 'degrading'],
    [80, 89, 10, 'stable'],
    [80, 81, 0, 'improving'],
    [undefined, 80, undefined, 'unknown'],
    [80, undefined, undefined, 'unknown'],
  ] as const)('%s → %s (tolerance %s) is %s', (previous, current, tolerance, expected) => {
    expect(trend(previous, current, tolerance)).toBe(expected);
  });
});
