import { describe, expect, it } from 'vitest';
import { TraceBreakdown, addSplit, splitSummary, type SplitTotals } from '../../src/insight/breakdown.js';
import { recommend, whereTimeGoes } from '../../src/insight/recommend.js';
import { RollingWindows } from '../../src/insight/window.js';
import type { Alert } from '../../src/insight/alerts.js';

describe('TraceBreakdown', () => {
  it('splits a request into database, outgoing HTTP and cache time by its child operations', () => {
    const b = new TraceBreakdown();
    b.add('t1', 'q1', 'req', 'db', 30, 'SELECT users');
    b.add('t1', 'q2', 'req', 'db', 10, 'SELECT orders');
    b.add('t1', 'h1', 'req', 'http', 20);
    b.add('t1', 'c1', 'req', 'cache', 5);
    const split = b.take('t1', 100)!;
    expect({ db: split.db, http: split.http, cache: split.cache, scale: split.scale }).toEqual({ db: 40, http: 20, cache: 5, scale: 1 });
    expect(split.queries.filter((q) => q.counted).map((q) => [q.summary, q.ms])).toEqual([
      ['SELECT users', 30],
      ['SELECT orders', 10],
    ]);
    expect(b.size).toBe(0);
    expect(b.take('t1', 100)).toBeUndefined();
  });

  it('does not count an operation nested in a counted one twice (Redis under a cache lookup)', () => {
    const b = new TraceBreakdown();
    b.add('t1', 'redis', 'lookup', 'db', 4, 'GET ?', true); // ends first, inside the lookup
    b.add('t1', 'lookup', 'req', 'cache', 6);
    const split = b.take('t1', 50)!;
    expect([split.db, split.cache]).toEqual([0, 6]);
    expect(split.queries.some((q) => q.counted)).toBe(false);
  });

  it("counts a loader's query under a cache miss as database time, taken off the cache's", () => {
    const b = new TraceBreakdown();
    b.add('t1', 'l2', 'wrap', 'db', 2, 'GET', true); // the cache's own Redis read: cache time
    b.add('t1', 'q', 'wrap', 'db', 30, 'SELECT users'); // the loader
    b.add('t1', 'call', 'wrap', 'http', 10); // the loader's outgoing call
    b.add('t1', 'wrap', 'req', 'cache', 45);
    const split = b.take('t1', 50)!;
    expect([split.db, split.http, split.cache]).toEqual([30, 10, 5]);
    expect(split.queries.filter((q) => q.counted).map((q) => q.summary)).toEqual(['SELECT users']);
  });

  it('scales parallel operations that add up to more than the request down to its duration', () => {
    const b = new TraceBreakdown();
    for (let i = 0; i < 4; i++) b.add('t1', `q${i}`, 'req', 'db', 50, 'SELECT a');
    const split = b.take('t1', 100)!;
    expect(split.db).toBe(100);
    expect(split.scale).toBe(0.5);
  });

  it('ignores root operations and keeps traces and parts bounded, counting what it forgets', () => {
    const b = new TraceBreakdown({ maxTraces: 10, maxPerTrace: 2 });
    b.add('root', 'q', undefined, 'db', 5);
    expect(b.size).toBe(0);
    for (let i = 0; i < 100; i++) b.add(`t${i}`, 'q', 'p', 'db', 1);
    expect(b.size).toBe(10);
    expect(b.abandoned).toBe(90);
    for (let i = 0; i < 5; i++) b.add('t99', `x${i}`, 'p', 'http', 2);
    // Past maxPerTrace the time still counts, unchecked for nesting.
    expect(b.take('t99', 1000)).toMatchObject({ db: 1, http: 10 });
  });
});

describe('route split in the request windows', () => {
  it('turns summed splits into shares of the route time, with the queries that take most of it', () => {
    let now = 1_000_000;
    const w = new RollingWindows<SplitTotals>({ windowMs: 60_000, now: () => now });
    const b = new TraceBreakdown();
    for (let i = 0; i < 10; i++) {
      b.add(`t${i}`, 'a', 'r', 'db', 60, 'SELECT orders');
      b.add(`t${i}`, 'b', 'r', 'db', 10, 'SELECT users');
      b.add(`t${i}`, 'c', 'r', 'http', 10);
      const slice = w.record('GET /orders', 100);
      addSplit(slice, b.take(`t${i}`, 100)!);
    }
    // Requests without any child operation count as own code only where a split exists.
    w.record('GET /orders', 100);
    now += 1000;
    const s = splitSummary(w, 'GET /orders')!;
    expect(s.requests).toBe(10);
    expect(s.db).toBeCloseTo(0.7, 10);
    expect(s.http).toBeCloseTo(0.1, 10);
    expect(s.cache).toBe(0);
    expect(s.own).toBeCloseTo(0.2, 10);
    expect(s.topQueries.map((q) => [q.summary, Math.round(q.share * 100)])).toEqual([
      ['SELECT orders', 60],
      ['SELECT users', 10],
    ]);
    expect(splitSummary(w, 'GET /none')).toBeUndefined();
  });
});

const alert = (a: Partial<Alert>): Alert => ({
  id: 'x',
  rule: 'slow_request',
  key: 'GET /orders',
  severity: 'low',
  state: 'firing',
  observed: 1500,
  threshold: 1000,
  ratio: 1.5,
  firstAt: 0,
  lastAt: 0,
  message: '',
  ...a,
});

describe('recommend', () => {
  const split = { requests: 10, db: 0.72, http: 0.05, cache: 0, own: 0.23, topQueries: [{ summary: 'SELECT orders', share: 0.65 }] };

  it('explains a slow route by where its time goes and which query takes most of it', () => {
    const lines = recommend({
      alerts: [alert({})],
      routes: [
        {
          route: 'GET /orders',
          count: 40,
          errors: 0,
          errorRate: 0,
          ratePerSecond: 1,
          meanMs: 950,
          p50Ms: 900,
          p95Ms: 1500,
          p99Ms: 1600,
          maxMs: 1700,
          thresholdMs: 1000,
          split,
        },
      ],
      caches: [],
      cacheHitTarget: 0.8,
      minCacheLookups: 20,
    });
    expect(lines).toEqual(['GET /orders is slow: p95 1,500 ms against 1,000 ms. Most of its time (72%) is in the database, mostly "SELECT orders" (65%).']);
  });

  it('puts the most severe alert first, then caches under their hit-rate target, five lines at most', () => {
    const lines = recommend({
      alerts: [
        alert({ rule: 'slow_query', key: 'postgresql SELECT a', severity: 'low', observed: 120, threshold: 100, ratio: 1.2 }),
        alert({ rule: 'error_rate', key: 'POST /pay', severity: 'critical', observed: 0.2, threshold: 0.05, ratio: 4, exemplarTraceId: 'abc' }),
        alert({ rule: 'memory', key: 'heap', severity: 'medium', observed: 0.91, threshold: 0.85, ratio: 1.07 }),
        alert({ rule: 'event_loop', key: 'p99', severity: 'high', observed: 450, threshold: 200, ratio: 2.25 }),
        alert({
          rule: 'n_plus_one',
          key: 'postgresql SELECT items',
          severity: 'low',
          ratio: 1.2,
          message: 'N+1: 6 sequential "SELECT items" queries under one span (84 ms)',
        }),
      ],
      routes: [],
      caches: [
        { name: 'users', lookups: 100, hitRate: 0.35 },
        { name: 'tiny', lookups: 5, hitRate: 0 },
        { name: 'good', lookups: 100, hitRate: 0.95 },
      ],
      cacheHitTarget: 0.8,
      minCacheLookups: 20,
    });
    expect(lines).toEqual([
      'POST /pay fails 20% of its requests, over the 5% allowed; trace abc shows one.',
      'The event loop is blocked: delay p99 450 ms. Look for synchronous work on the request path (large JSON, crypto, sync file access) and move it off the loop.',
      'The JavaScript heap is at 91% of its limit: look for caches or collections that keep growing, or raise --max-old-space-size.',
      'The query "postgresql SELECT a" is slow: p95 120 ms against 100 ms. Run EXPLAIN on it; a missing index or a scan of a large table is the usual cause.',
      'N+1 pattern: 6 sequential "SELECT items" queries under one span (84 ms). Load the rows in one query (WHERE … IN (…) or a JOIN) or batch the lookups.',
    ]);
  });

  it('names a cache with a low hit rate when nothing fires', () => {
    expect(recommend({ alerts: [], routes: [], caches: [{ name: 'users', lookups: 100, hitRate: 0.35 }], cacheHitTarget: 0.8, minCacheLookups: 20 })).toEqual([
      'Cache "users" answers only 35% of 100 lookups from memory or Redis (target 80%): check that its keys repeat and that its TTL is not shorter than the data stays valid.',
    ]);
    expect(recommend({ alerts: [], routes: [], caches: [], cacheHitTarget: 0.8, minCacheLookups: 20 })).toEqual([]);
  });

  it('says when a route has no traced child operation at all', () => {
    expect(whereTimeGoes(undefined)).toBe('No database, HTTP or cache call was seen under it: the time is spent in its own code.');
    expect(whereTimeGoes({ ...split, db: 0.1, own: 0.85, http: 0.05, topQueries: [] })).toBe('Most of its time (85%) is in its own code.');
  });
});
