// createCache() with the L1 tier only, against docs/cache.md: TTL and sweep, LRU bounds,
// jitter, wrap (coalescing, stale-while-revalidate, errors), the Keyv-style methods, stats,
// and the exact spans and metrics it emits through the global OpenTelemetry API.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, metrics, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createCache, type CacheOptions } from '../../src/index.js';
import { cacheTelemetry } from '../helpers/cache-telemetry.ts';

type Cache = ReturnType<typeof createCache>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jsonSize = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// Caches made by a test are disconnected after it, so no sweep timer outlives its test.
let made: Cache[] = [];
let seq = 0;
/** A cache with a unique name, so spans and metric points can be told apart per test. */
function cache(options: Partial<CacheOptions> = {}): Cache {
  const c = createCache({ name: `unit-${++seq}`, ...options });
  made.push(c);
  return c;
}
afterEach(async () => {
  vi.useRealTimers();
  for (const c of made) await c.disconnect();
  made = [];
});

// ---- Without any SDK: the global API is a no-op. Runs first, before the providers exist. ----

describe('without an SDK', () => {
  it('works as a cache when the global API is a no-op', async () => {
    expect(trace.getTracerProvider().getTracer('x').startSpan('probe').isRecording()).toBe(false);
    const c = cache({ ttl: 1000 });
    expect(await c.set('a', { n: 1 })).toBe(true);
    expect(await c.get('a')).toEqual({ n: 1 });
    expect(await c.get('missing')).toBeUndefined();
    const loader = vi.fn(async () => 'loaded');
    expect(await Promise.all([c.wrap('w', loader), c.wrap('w', loader)])).toEqual(['loaded', 'loaded']);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await c.getMany(['a', 'missing', 'w'])).toEqual([{ n: 1 }, undefined, 'loaded']);
    expect(await c.has('a')).toBe(true);
    expect(await c.delete('a')).toBe(true);
    expect(await c.invalidate('*')).toBe(1);
    expect(c.stats()).toMatchObject({ sets: 2, deletes: 1, entries: 0 });
  });
});

// ---- With an in-memory SDK ----

const { spans, tracerProvider, meterProvider, reader, spansOf, pointsOf, requests } = cacheTelemetry();
const caller = tracerProvider.getTracer('test');

/** `healthspan.cache.evictions` as { reason: count }. */
async function evictionMetric(c: Cache): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of await pointsOf('healthspan.cache.evictions', c)) {
    expect(Object.keys(p.attributes).sort()).toEqual(['cache.name', 'reason']);
    out[String(p.attributes.reason)] = p.value as number;
  }
  return out;
}

/** Span attributes without cache.coalesced / cache.stale when false: the spec only defines them when true. */
function attrs(s: ReadableSpan): Attributes {
  const a = { ...s.attributes };
  for (const k of ['cache.coalesced', 'cache.stale']) if (a[k] === false) delete a[k];
  return a;
}

const DOCUMENTED_SPAN_ATTRIBUTES = new Set([
  'cache.name',
  'cache.operation',
  'cache.hit',
  'cache.tier',
  'cache.coalesced',
  'cache.stale',
  'cache.item_size',
  'error.type',
  'cache.key',
]);

describe('with an SDK', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  });
  afterAll(async () => {
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    context.disable();
    trace.disable();
    metrics.disable();
  });
  beforeEach(() => spans.reset());

  describe('TTL', () => {
    // TTL tests run on fake time: on a loaded machine 30 real ms can pass between two calls.
    it('never serves an entry past its TTL', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 30 });
      expect(await c.set('a', 1)).toBe(true);
      expect(await c.get('a')).toBe(1);
      vi.advanceTimersByTime(60);
      expect(await c.get('a')).toBeUndefined();
      expect(await c.has('a')).toBe(false);
      expect(c.stats()).toMatchObject({ entries: 0, evictions: { capacity: 0, expired: 1, invalidated: 0 } });
    });

    it('honours a per-call TTL over the default one', async () => {
      const c = cache({ ttl: 60_000 });
      await c.set('short', 1, 30);
      await c.set('opts', 2, { ttl: 30 });
      await c.set('long', 3);
      await sleep(60);
      expect(await c.getMany(['short', 'opts', 'long'])).toEqual([undefined, undefined, 3]);
    });

    it('keeps an entry with ttl 0 forever', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 0 });
      await c.set('a', 1);
      vi.advanceTimersByTime(24 * 3600_000);
      expect(await c.get('a')).toBe(1);
    });

    it('reclaims expired entries with the sweep, without a read', async () => {
      // The sweep interval is not part of the contract: fake the clock and run ten minutes.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 30 });
      const evicted: unknown[] = [];
      c.on('evict', (e) => evicted.push(e));
      await c.set('a', 1);
      await c.set('b', 2);
      await c.set('c', 3);
      await c.set('forever', 4, 0);
      expect(c.stats().entries).toBe(4);
      vi.advanceTimersByTime(600_000);
      const s = c.stats();
      expect(s.entries).toBe(1);
      expect(s.l1.entries).toBe(1);
      expect(s.evictions).toEqual({ capacity: 0, expired: 3, invalidated: 0 });
      expect(s.expirations).toBe(3);
      expect(s.l1.bytes).toBe(jsonSize(4));
      expect(evicted).toEqual([
        { key: 'a', reason: 'expired' },
        { key: 'b', reason: 'expired' },
        { key: 'c', reason: 'expired' },
      ]);
      vi.useRealTimers();
      expect(await evictionMetric(c)).toEqual({ expired: 3 });
      expect((await pointsOf('healthspan.cache.entries', c)).map((p) => p.value)).toEqual([1]);
    });
  });

  describe('ttlJitter', () => {
    it('shortens each TTL by at most the fraction, never lengthens it', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 60_000, ttlJitter: 0.5, l1: { maxEntries: 1000 } });
      const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
      for (const k of keys) await c.set(k, 1, 1000);
      vi.advanceTimersByTime(499);
      expect((await c.getMany(keys)).filter((v) => v === undefined)).toHaveLength(0);
      vi.advanceTimersByTime(251); // t = 750: half the window has passed
      const alive = (await c.getMany(keys)).filter((v) => v !== undefined).length;
      // Uniform jitter: both halves are populated (the chance of either being empty is 2^-59).
      expect(alive).toBeGreaterThan(0);
      expect(alive).toBeLessThan(keys.length);
      vi.advanceTimersByTime(250); // t = 1000
      expect((await c.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(0);
    });

    it('applies no jitter by default', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 1000 });
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      for (const k of keys) await c.set(k, 1);
      vi.advanceTimersByTime(999);
      expect((await c.getMany(keys)).filter((v) => v === undefined)).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect((await c.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(0);
    });
  });

  describe('LRU bounds', () => {
    it('evicts the least recently used entry past maxEntries and counts it as capacity', async () => {
      const c = cache({ l1: { maxEntries: 3 } });
      const evicted: unknown[] = [];
      c.on('evict', (e) => evicted.push(e));
      await c.set('a', 1);
      await c.set('b', 2);
      await c.set('c', 3);
      expect(await c.get('a')).toBe(1); // a is now more recent than b
      await c.set('d', 4);
      expect(evicted).toEqual([{ key: 'b', reason: 'capacity' }]);
      expect(await c.getMany(['a', 'b', 'c', 'd'])).toEqual([1, undefined, 3, 4]);
      expect(c.stats().evictions).toEqual({ capacity: 1, expired: 0, invalidated: 0 });
      expect(c.stats().entries).toBe(3);
      expect(await evictionMetric(c)).toEqual({ capacity: 1 });
    });

    it('evicts by maxBytes from the JSON size and never holds more', async () => {
      const value = (ch: string) => ({ s: ch.repeat(990) });
      const size = jsonSize(value('a'));
      expect(size).toBe(998);
      const c = cache({ l1: { maxEntries: 100, maxBytes: 3500 } });
      const evicted: unknown[] = [];
      c.on('evict', (e) => evicted.push(e));
      for (const k of ['a', 'b', 'c']) await c.set(k, value(k));
      expect(c.stats().l1.bytes).toBe(3 * size);
      await c.get('a');
      await c.set('d', value('d'));
      expect(evicted).toEqual([{ key: 'b', reason: 'capacity' }]);
      expect(await c.getMany(['a', 'b', 'c', 'd'])).toEqual([value('a'), undefined, value('c'), value('d')]);
      expect(c.stats().l1).toMatchObject({ entries: 3, bytes: 3 * size });
      await c.set('huge', { s: 'x'.repeat(5000) });
      expect(c.stats().l1.bytes).toBeLessThanOrEqual(3500);
      expect(c.stats().evictions.capacity).toBeGreaterThanOrEqual(1);
      expect(await evictionMetric(c)).toEqual({ capacity: c.stats().evictions.capacity });
    });
  });

  describe('wrap', () => {
    it('runs the loader once for 100 concurrent misses; 99 spans are coalesced', async () => {
      const c = cache();
      const loader = vi.fn(async () => {
        await sleep(20);
        return { id: 7 };
      });
      const results = await caller.startActiveSpan('caller', async (parent) => {
        const r = await Promise.all(Array.from({ length: 100 }, () => c.wrap('user:7', loader)));
        parent.end();
        return r;
      });
      expect(loader).toHaveBeenCalledTimes(1);
      expect(results).toHaveLength(100);
      for (const r of results) expect(r).toEqual({ id: 7 });
      const wraps = spansOf(c).filter((s) => s.name === `cache.wrap ${c.name}`);
      expect(wraps).toHaveLength(100);
      expect(wraps.filter((s) => s.attributes['cache.coalesced'] === true)).toHaveLength(99);
      const [leader] = wraps.filter((s) => s.attributes['cache.coalesced'] !== true);
      expect(attrs(leader)).toEqual({ 'cache.name': c.name, 'cache.operation': 'wrap', 'cache.hit': false, 'cache.tier': 'none' });
      const parentId = spans
        .getFinishedSpans()
        .find((s) => s.name === 'caller')!
        .spanContext().spanId;
      for (const s of wraps) expect(s.parentSpanContext?.spanId).toBe(parentId);
      // The loaded value is cached: the next call is an L1 hit.
      expect(await c.wrap('user:7', loader)).toEqual({ id: 7 });
      expect(loader).toHaveBeenCalledTimes(1);
    });

    it('serves the expired value with cache.stale=true while one refresh runs', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 40, staleWhileRevalidate: 5000 });
      expect(await c.wrap('k', async () => 'v1')).toBe('v1');
      vi.advanceTimersByTime(70);
      const refresh = deferred<string>();
      const loader = vi.fn(() => refresh.promise);
      spans.reset();
      // The refresh is still pending here: these calls resolve only if they do not wait for it.
      expect(await c.wrap('k', loader)).toBe('v1');
      expect(await c.wrap('k', loader)).toBe('v1');
      expect(loader).toHaveBeenCalledTimes(1);
      const stale = spansOf(c).filter((s) => s.name === `cache.wrap ${c.name}`);
      expect(stale).toHaveLength(2);
      for (const s of stale) expect(s.attributes['cache.stale']).toBe(true);
      refresh.resolve('v2');
      await new Promise((r) => setImmediate(r)); // the refresh stores v2
      spans.reset();
      const third = vi.fn(async () => 'v3');
      expect(await c.wrap('k', third)).toBe('v2');
      expect(third).not.toHaveBeenCalled();
      const [fresh] = spansOf(c);
      expect(attrs(fresh)).toMatchObject({ 'cache.hit': true, 'cache.tier': 'l1' });
      expect(attrs(fresh)['cache.stale']).toBeUndefined();
    });

    it('honours staleWhileRevalidate given to wrap() itself', async () => {
      const c = cache({ ttl: 40 });
      expect(await c.wrap('k', async () => 'v1', { staleWhileRevalidate: 5000 })).toBe('v1');
      await sleep(70);
      // Without SWR this call would wait for the loader and return 'v2'.
      const loader = vi.fn(async () => {
        await sleep(100);
        return 'v2';
      });
      expect(await c.wrap('k', loader, { staleWhileRevalidate: 5000 })).toBe('v1');
      expect(loader).toHaveBeenCalledTimes(1);
    });

    it('loads synchronously once the stale window has passed too', async () => {
      const c = cache({ ttl: 30, staleWhileRevalidate: 40 });
      await c.wrap('k', async () => 'v1');
      await sleep(120);
      const loader = vi.fn(async () => 'v2');
      expect(await c.wrap('k', loader)).toBe('v2');
      expect(loader).toHaveBeenCalledTimes(1);
    });

    it('does not serve a stale entry from get()', async () => {
      const c = cache({ ttl: 30, staleWhileRevalidate: 5000 });
      await c.wrap('k', async () => 'v1');
      await sleep(60);
      expect(await c.get('k')).toBeUndefined();
      expect(await c.has('k')).toBe(false);
    });

    it('gives a loader error to every waiting caller and does not cache it', async () => {
      const c = cache();
      const boom = new Error('boom');
      const failing = vi.fn(async () => {
        await sleep(10);
        throw boom;
      });
      const settled = await Promise.allSettled(Array.from({ length: 5 }, () => c.wrap('k', failing)));
      expect(failing).toHaveBeenCalledTimes(1);
      for (const s of settled) expect(s).toEqual({ status: 'rejected', reason: boom });
      for (const s of settled) expect((s as PromiseRejectedResult).reason).toBe(boom);
      const wraps = spansOf(c);
      expect(wraps).toHaveLength(5);
      for (const s of wraps) {
        expect(s.attributes['error.type']).toBe('Error');
        expect(s.status.code).toBe(SpanStatusCode.ERROR);
      }
      expect(await requests(c)).toEqual({ 'wrap none error': 5 });
      expect(await c.get('k')).toBeUndefined();
      const ok = vi.fn(async () => 'fine');
      expect(await c.wrap('k', ok)).toBe('fine');
      expect(ok).toHaveBeenCalledTimes(1);
    });

    it('caches a loader error for its TTL with cacheErrors', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ cacheErrors: true, ttl: 40 });
      await expect(
        c.wrap('k', async () => {
          throw new TypeError('bad id');
        }),
      ).rejects.toThrow('bad id');
      const retry = vi.fn(async () => 'fine');
      const again = c.wrap('k', retry);
      await expect(again).rejects.toThrow('bad id');
      await again.catch((e: Error) => expect(e.name).toBe('TypeError'));
      expect(retry).not.toHaveBeenCalled();
      vi.advanceTimersByTime(70);
      expect(await c.wrap('k', retry)).toBe('fine');
      expect(retry).toHaveBeenCalledTimes(1);
    });

    it('makes exactly one span per wrap call, also when it loads and stores', async () => {
      const c = cache();
      await caller.startActiveSpan('caller', async (p) => {
        await c.wrap('k', async () => 1);
        p.end();
      });
      expect(spansOf(c).map((s) => s.name)).toEqual([`cache.wrap ${c.name}`]);
    });
  });

  describe('methods', () => {
    it('memoizes a function under key(...args)', async () => {
      const c = cache();
      const add = vi.fn(async (a: number, b: number) => a + b);
      const memo = c.memoize(add, { key: (a: number, b: number) => `sum:${a}:${b}` });
      expect(await memo(1, 2)).toBe(3);
      expect(await memo(1, 2)).toBe(3);
      expect(await memo(2, 3)).toBe(5);
      expect(add).toHaveBeenCalledTimes(2);
      expect(await c.get('sum:1:2')).toBe(3);
    });

    it('memoize honours ttl and tags', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const c = cache({ ttl: 60_000 });
      const fn = vi.fn(async (id: number) => ({ id }));
      const memo = c.memoize(fn, { key: (id: number) => `u:${id}`, ttl: 30, tags: ['users'] });
      await memo(1);
      vi.advanceTimersByTime(60);
      await memo(1);
      expect(fn).toHaveBeenCalledTimes(2);
      expect(await c.invalidateTags(['users'])).toBe(1);
      await memo(1);
      expect(fn).toHaveBeenCalledTimes(3);
    });

    it('getMany returns values in key order with undefined for misses', async () => {
      const c = cache();
      await c.set('a', 1);
      await c.set('c', { x: 3 });
      expect(await c.getMany(['c', 'b', 'a', 'c'])).toEqual([{ x: 3 }, undefined, 1, { x: 3 }]);
      expect(await c.getMany([])).toEqual([]);
    });

    it('returns falsy values as stored', async () => {
      const c = cache();
      const values: Record<string, unknown> = { zero: 0, empty: '', no: false, nil: null };
      for (const [k, v] of Object.entries(values)) expect(await c.set(k, v)).toBe(true);
      for (const [k, v] of Object.entries(values)) {
        expect(await c.get(k)).toBe(v);
        expect(await c.has(k)).toBe(true);
      }
      const loader = vi.fn(async () => 0);
      expect(await c.wrap('w0', loader)).toBe(0);
      expect(await c.wrap('w0', loader)).toBe(0);
      expect(loader).toHaveBeenCalledTimes(1);
    });

    it('has, delete and clear follow the Keyv conventions', async () => {
      const c = cache();
      await c.set('a', 1);
      await c.set('b', 2);
      expect(await c.has('a')).toBe(true);
      expect(await c.has('zz')).toBe(false);
      expect(await c.delete('a')).toBe(true);
      expect(await c.delete('a')).toBe(false);
      expect(await c.has('a')).toBe(false);
      expect(await c.clear()).toBeUndefined();
      expect(await c.get('b')).toBeUndefined();
      expect(c.stats().entries).toBe(0);
      expect(c.stats().l1.bytes).toBe(0);
    });

    it('invalidate removes keys matching *, ? and [abc] and counts them as invalidated', async () => {
      const c = cache();
      const evicted: unknown[] = [];
      c.on('evict', (e) => evicted.push(e));
      for (const k of ['users:1', 'users:2', 'users:10', 'orders:1', 'usera', 'userb', 'userc', 'v1.x', 'v1zx']) await c.set(k, k);
      expect(await c.invalidate('users:?')).toBe(2);
      expect(await c.invalidate('user[ab]')).toBe(2);
      expect(await c.invalidate('v1.*')).toBe(1);
      expect(await c.invalidate('users:*')).toBe(1);
      expect(await c.invalidate('nothing*')).toBe(0);
      expect(await c.getMany(['users:1', 'users:2', 'users:10', 'orders:1', 'usera', 'userb', 'userc', 'v1.x', 'v1zx'])).toEqual([
        undefined,
        undefined,
        undefined,
        'orders:1',
        undefined,
        undefined,
        'userc',
        undefined,
        'v1zx',
      ]);
      expect(evicted).toHaveLength(6);
      for (const e of evicted) expect(e).toMatchObject({ reason: 'invalidated' });
      expect(c.stats().evictions).toEqual({ capacity: 0, expired: 0, invalidated: 6 });
      expect(await evictionMetric(c)).toEqual({ invalidated: 6 });
    });

    it('invalidateTags removes every key carrying any of the tags, once each', async () => {
      const c = cache();
      await c.set('a', 1, { tags: ['t1'] });
      await c.set('b', 2, { tags: ['t2'] });
      await c.set('c', 3, { tags: ['t1', 't2'] });
      await c.set('d', 4);
      expect(await c.invalidateTags(['t1'])).toBe(2);
      expect(await c.getMany(['a', 'b', 'c', 'd'])).toEqual([undefined, 2, undefined, 4]);
      await c.set('a', 1, { tags: ['t1'] });
      await c.set('c', 3, { tags: ['t1', 't2'] });
      expect(await c.invalidateTags(['t1', 't2'])).toBe(3);
      expect(await c.invalidateTags(['t1', 't2'])).toBe(0);
      expect(await c.getMany(['a', 'b', 'c', 'd'])).toEqual([undefined, undefined, undefined, 4]);
      const loader = vi.fn(async () => 'w');
      await c.wrap('w', loader, { tags: ['t3'] });
      expect(await c.invalidateTags(['t3'])).toBe(1);
      await c.wrap('w', loader, { tags: ['t3'] });
      expect(loader).toHaveBeenCalledTimes(2);
    });

    it('stats() counts exactly', async () => {
      const c = cache();
      expect(c.stats()).toMatchObject({ hits: 0, misses: 0, hitRate: 0, sets: 0, deletes: 0, errors: 0, entries: 0 });
      await c.set('a', { n: 1 });
      await c.set('b', { n: 2 });
      await c.get('a');
      await c.get('a');
      await c.get('x');
      await c.delete('b');
      const s = c.stats();
      expect(s).toEqual({
        hits: 2,
        misses: 1,
        hitRate: 2 / 3,
        sets: 2,
        deletes: 1,
        errors: 0,
        evictions: { capacity: 0, expired: 0, invalidated: 0 },
        expirations: 0,
        entries: 1,
        l1: { hits: 2, misses: 1, entries: 1, bytes: jsonSize({ n: 1 }) },
        l2: { hits: 0, misses: 0, errors: 0, timeouts: 0, state: s.l2.state },
      });
    });
  });

  describe('telemetry', () => {
    it('names spans cache.<operation> <name> with exactly the documented attributes', async () => {
      const c = cache({ name: 'users' });
      const value = { id: 1, name: 'Ada' };
      await caller.startActiveSpan('caller', async (p) => {
        await c.set('user:1', value);
        await c.get('user:1');
        await c.get('user:2');
        await c.delete('user:1');
        p.end();
      });
      const parent = spans.getFinishedSpans().find((s) => s.name === 'caller')!;
      const mine = spansOf(c);
      expect(mine.map((s) => s.name)).toEqual(['cache.set users', 'cache.get users', 'cache.get users', 'cache.delete users']);
      for (const s of mine) {
        expect(s.kind).toBe(SpanKind.INTERNAL);
        expect(s.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
        expect(s.spanContext().traceId).toBe(parent.spanContext().traceId);
        expect(s.status.code).toBe(SpanStatusCode.UNSET);
        for (const k of Object.keys(s.attributes)) expect(DOCUMENTED_SPAN_ATTRIBUTES).toContain(k);
        expect(s.attributes['cache.key']).toBeUndefined();
      }
      expect(mine[0].attributes).toMatchObject({ 'cache.name': 'users', 'cache.operation': 'set' });
      expect(attrs(mine[1])).toEqual({
        'cache.name': 'users',
        'cache.operation': 'get',
        'cache.hit': true,
        'cache.tier': 'l1',
        'cache.item_size': jsonSize(value),
      });
      expect(attrs(mine[2])).toEqual({ 'cache.name': 'users', 'cache.operation': 'get', 'cache.hit': false, 'cache.tier': 'none' });
      expect(mine[3].attributes).toMatchObject({ 'cache.name': 'users', 'cache.operation': 'delete' });
    });

    it('counts healthspan.cache.requests by operation, tier and result', async () => {
      const c = cache();
      await c.set('a', 1);
      await c.get('a');
      await c.get('a');
      await c.get('x');
      await c.wrap('w', async () => 1);
      await c.wrap('w', async () => 1);
      const r = await requests(c);
      expect({ get_l1_hit: r['get l1 hit'], get_none_miss: r['get none miss'], wrap_l1_hit: r['wrap l1 hit'], wrap_none_miss: r['wrap none miss'] }).toEqual({
        get_l1_hit: 2,
        get_none_miss: 1,
        wrap_l1_hit: 1,
        wrap_none_miss: 1,
      });
      for (const k of Object.keys(r)) expect(k).not.toMatch(/ l2 /);
    });

    it('records healthspan.cache.operation.duration in seconds without keys', async () => {
      const c = cache();
      await c.set('secret-key', 1);
      await c.get('secret-key');
      const points = await pointsOf('healthspan.cache.operation.duration', c);
      const get = points.find((p) => p.attributes['cache.operation'] === 'get')!;
      expect(get.attributes).toEqual({ 'cache.name': c.name, 'cache.operation': 'get', 'cache.tier': 'l1' });
      const h = get.value as { count: number; sum: number };
      expect(h.count).toBe(1);
      expect(h.sum).toBeGreaterThanOrEqual(0);
      expect(h.sum).toBeLessThan(1);
    });

    it('observes healthspan.cache.entries', async () => {
      const c = cache();
      await c.set('a', 1);
      await c.set('b', 2);
      expect((await pointsOf('healthspan.cache.entries', c)).map((p) => [p.attributes, p.value])).toEqual([[{ 'cache.name': c.name }, 2]]);
    });

    it('never puts a cache key into a metric attribute', async () => {
      const c = cache({ l1: { maxEntries: 1 }, keyAttribute: 'raw' });
      await c.set('secret-key-1', 1);
      await c.set('secret-key-2', 2);
      await c.get('secret-key-2');
      await c.invalidate('secret-*');
      const { resourceMetrics } = await reader.collect();
      expect(JSON.stringify(resourceMetrics.scopeMetrics.map((s) => s.metrics.map((m) => m.dataPoints.map((p) => p.attributes))))).not.toContain('secret-key');
    });

    it("keyAttribute 'none' (default) keeps the key off every span", async () => {
      const c = cache();
      const key = 'user:secret-42';
      await c.set(key, 1);
      await c.get(key);
      await c.has(key);
      await c.wrap(key, async () => 1);
      await c.getMany([key]);
      await c.delete(key);
      const mine = spansOf(c);
      expect(mine.length).toBeGreaterThanOrEqual(6);
      for (const s of mine) {
        expect(s.name).not.toContain('secret');
        expect(JSON.stringify({ a: s.attributes, e: s.events, st: s.status })).not.toContain('secret-42');
      }
    });

    it("keyAttribute 'raw' puts the key on the span", async () => {
      const c = cache({ keyAttribute: 'raw' });
      await c.set('user:42', 1);
      await c.get('user:42');
      for (const s of spansOf(c)) expect(s.attributes['cache.key']).toBe('user:42');
    });

    it("keyAttribute 'hashed' puts a SHA-256 prefix on the span, never the key", async () => {
      const c = cache({ keyAttribute: 'hashed' });
      const key = 'user:secret-42';
      await c.set(key, 1);
      await c.get(key);
      const digest = createHash('sha256').update(key).digest('hex');
      const mine = spansOf(c);
      expect(mine).toHaveLength(2);
      for (const s of mine) {
        const v = s.attributes['cache.key'];
        expect(typeof v).toBe('string');
        expect((v as string).length).toBeGreaterThanOrEqual(8);
        expect(digest.startsWith(v as string)).toBe(true);
        expect(JSON.stringify(s.attributes)).not.toContain('secret');
      }
    });
  });
});
