// createCache() with a real Redis L2, against docs/cache.md: backfill, glob and tag
// invalidation across tiers and instances, and faults (Redis stopped, frozen, slow writes)
// that must never reach the host as a rejection, a hang or a changed return value.
// The shared Redis on 6379 holds the happy paths (one namespace per test); faults use a
// private redis-server from test/helpers/redis-server.ts.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, metrics, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createRequire } from 'node:module';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import type { createClient as CreateClient } from 'redis';
import { createCache, type CacheOptions } from '../../src/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { cacheTelemetry } from '../helpers/cache-telemetry.ts';

type Cache = ReturnType<typeof createCache>;
// Loaded in beforeAll, after the instrumentation is enabled, so node-redis is patched for the
// cache's own client too (it loads the same module).
let createClient: typeof CreateClient;
const instrumentation = new RedisInstrumentation({ enabled: false });
const newClient = (url: string) => createClient({ url });
type Client = ReturnType<typeof newClient>;

const SHARED = 'redis://127.0.0.1:6379';
const RUN = `hs-cache-${process.pid}-${Date.now().toString(36)}`;
const OP_TIMEOUT = 50;
// "Bounded" is checked by what ended each call, not by a stopwatch (a loaded CI machine makes any
// millisecond bound flaky): while Redis is frozen only the L2 timeout can end a call, so each call
// resolving and `l2.timeouts` counting one budget per L2 operation proves the bound; a call that
// waited for Redis instead would hang until the test's own timeout.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { spans, tracerProvider, meterProvider, spansOf, pointsOf, requests } = cacheTelemetry();

let shared: Client;
let made: Cache[] = [];
let servers: RedisServer[] = [];
let clients: Client[] = [];
let seq = 0;

/** A namespace no other run or test uses. */
const namespace = () => `${RUN}-${++seq}`;

function cache(options: Partial<CacheOptions> & { name?: string }): Cache {
  // Tests of what the cache stores get a generous L2 timeout: on a loaded CI machine the first
  // call (connect + command) can take longer than the 50 ms default and would read as a miss.
  // The fault tests set opTimeoutMs themselves.
  const l2 = options.l2 && options.l2.opTimeoutMs === undefined ? { ...options.l2, opTimeoutMs: 2000 } : options.l2;
  const c = createCache({ name: `cache-${++seq}`, ...options, ...(l2 ? { l2 } : {}) });
  made.push(c);
  return c;
}

async function connect(url: string): Promise<Client> {
  const c = newClient(url);
  c.on('error', () => {}); // our own inspection client; fault tests break its server too
  await c.connect();
  clients.push(c);
  return c;
}

async function ownServer(): Promise<RedisServer> {
  const s = await startRedisServer();
  servers.push(s);
  return s;
}

/** Every key under a namespace, via SCAN. */
async function keysOf(client: Client, ns: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const r = await client.scan(cursor, { MATCH: `${ns}:*`, COUNT: 1000 });
    cursor = String(r.cursor);
    out.push(...r.keys);
  } while (cursor !== '0');
  return out.sort();
}

async function l2StateGauge(c: Cache): Promise<unknown[]> {
  return (await pointsOf('healthspan.cache.l2.state', c)).map((p) => p.value);
}

/** Runs one cache call, labelled; a rejection fails the test with the call's name. */
async function call<T>(label: string, fn: () => Promise<T>): Promise<{ value: T; label: string }> {
  return { value: await fn(), label };
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.enable();
  ({ createClient } = createRequire(import.meta.url)('redis') as { createClient: typeof CreateClient });
  shared = newClient(SHARED);
  await shared.connect();
});

afterAll(async () => {
  const leftover = await keysOf(shared, `${RUN}*`);
  if (leftover.length) await shared.unlink(leftover);
  await shared?.quit();
  instrumentation.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  context.disable();
  trace.disable();
  metrics.disable();
});

beforeEach(() => spans.reset());

afterEach(async () => {
  for (const s of servers) if (s.state === 'paused') s.resume();
  for (const c of made) await c.disconnect();
  for (const c of clients) c.destroy();
  for (const s of servers) await s.close();
  made = [];
  clients = [];
  servers = [];
});

describe('L2 on a shared Redis', () => {
  it('an L2 hit backfills L1, and the next read is an L1 hit', async () => {
    const ns = namespace();
    const a = cache({ name: `${ns}-a`, namespace: ns, l2: { url: SHARED } });
    const b = cache({ name: `${ns}-b`, namespace: ns, l2: { url: SHARED } });
    const user = { id: 1, name: 'Ada' };
    expect(await a.set('user:1', user)).toBe(true);
    expect(await shared.exists(`${ns}:user:1`)).toBe(1);

    expect(await b.get('user:1')).toEqual(user);
    let [span] = spansOf(b);
    expect(span.name).toBe(`cache.get ${b.name}`);
    expect(span.attributes).toMatchObject({ 'cache.tier': 'l2', 'cache.hit': true });
    expect(b.stats()).toMatchObject({ hits: 1, misses: 0, l1: { hits: 0, misses: 1, entries: 1 }, l2: { hits: 1, misses: 0 } });

    spans.reset();
    expect(await b.get('user:1')).toEqual(user);
    [span] = spansOf(b);
    expect(span.attributes).toMatchObject({ 'cache.tier': 'l1', 'cache.hit': true });
    expect(b.stats()).toMatchObject({ hits: 2, misses: 0, l1: { hits: 1, misses: 1 }, l2: { hits: 1, misses: 0 } });
    expect(await requests(b)).toEqual({ 'get l2 hit': 1, 'get l1 hit': 1 });

    // wrap() finds what another instance stored, without running its loader.
    await a.set('user:2', { id: 2 });
    const loader = vi.fn(async () => ({ id: -1 }));
    expect(await b.wrap('user:2', loader)).toEqual({ id: 2 });
    expect(loader).not.toHaveBeenCalled();
  });

  it('a miss in both tiers is a miss, counted once', async () => {
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: SHARED } });
    expect(await c.get('nope')).toBeUndefined();
    expect(spansOf(c)[0].attributes).toMatchObject({ 'cache.hit': false, 'cache.tier': 'none' });
    expect(c.stats()).toMatchObject({ hits: 0, misses: 1, l1: { misses: 1 }, l2: { misses: 1, errors: 0, timeouts: 0, state: 'closed' } });
    expect(await requests(c)).toEqual({ 'get none miss': 1 });
  });

  it('a backfilled entry does not outlive the TTL it was written with', async () => {
    const ns = namespace();
    const a = cache({ namespace: ns, ttl: 60_000, l2: { url: SHARED } });
    const b = cache({ namespace: ns, ttl: 60_000, l2: { url: SHARED } });
    await a.set('short', 'v', 300);
    await sleep(100);
    expect(await b.get('short')).toBe('v'); // backfills b's L1
    await sleep(300); // past the 300 ms it was written with
    expect(await b.get('short')).toBeUndefined();
  });

  it('l1.ttl caps the L1 TTL while L2 keeps the value', async () => {
    const ns = namespace();
    const c = cache({ namespace: ns, ttl: 60_000, l1: { maxEntries: 100, ttl: 30 }, l2: { url: SHARED } });
    await c.set('k', 'v');
    await sleep(60);
    spans.reset();
    expect(await c.get('k')).toBe('v');
    expect(spansOf(c)[0].attributes['cache.tier']).toBe('l2');
  });

  it('returns falsy values stored through Redis as they were', async () => {
    const ns = namespace();
    const a = cache({ namespace: ns, l2: { url: SHARED } });
    const b = cache({ namespace: ns, l2: { url: SHARED } });
    const values: Record<string, unknown> = { zero: 0, empty: '', no: false, nil: null, list: [1, 'two'], nested: { a: { b: [null] } } };
    for (const [k, v] of Object.entries(values)) expect(await a.set(k, v)).toBe(true);
    for (const [k, v] of Object.entries(values)) expect(await b.get(k)).toEqual(v);
  });

  it("invalidate('users:*') removes matching keys from both tiers and nothing else", async () => {
    const ns = namespace();
    const other = namespace();
    const a = cache({ namespace: ns, l2: { url: SHARED } });
    const b = cache({ namespace: ns, l2: { url: SHARED } });
    const neighbour = cache({ namespace: other, l2: { url: SHARED } });
    for (const k of ['users:1', 'users:2', 'orders:1', 'usersX']) await a.set(k, k);
    await b.set('users:3', 'users:3'); // only in Redis, as far as a knows
    await neighbour.set('users:1', 'theirs');

    expect(await a.invalidate('users:*')).toBe(3);
    expect(await keysOf(shared, ns)).toEqual([`${ns}:orders:1`, `${ns}:usersX`]);
    expect(await shared.exists(`${other}:users:1`)).toBe(1);
    expect(await a.getMany(['users:1', 'users:2', 'users:3', 'orders:1', 'usersX'])).toEqual([undefined, undefined, undefined, 'orders:1', 'usersX']);
    expect(await neighbour.get('users:1')).toBe('theirs');
    expect(a.stats().evictions.invalidated).toBe(2); // the two a held in L1
  });

  it('invalidate walks the whole keyspace (SCAN cursor) and counts every key', async () => {
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: SHARED } });
    const n = 1200;
    // Written behind the cache's back: only Redis has them, so the count is SCAN's alone.
    await shared.mSet(Array.from({ length: n }, (_, i) => [`${ns}:bulk:${i}`, String(i)] as [string, string]));
    await c.set('keep', 1);
    expect((await keysOf(shared, ns)).length).toBe(n + 1);
    expect(await c.invalidate('bulk:*')).toBe(n);
    expect(await keysOf(shared, ns)).toEqual([`${ns}:keep`]);
  });

  it('invalidate counts cache keys only, not tag bookkeeping', async () => {
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: SHARED } });
    await c.set('a', 1, { tags: ['t'] });
    await c.set('b', 2, { tags: ['t'] });
    expect(await c.invalidate('*')).toBe(2);
  });

  it('invalidateTags removes tagged keys from both tiers of this instance', async () => {
    const ns = namespace();
    const a = cache({ namespace: ns, l2: { url: SHARED } });
    await a.set('a', 1, { tags: ['t1'] });
    await a.set('b', 2, { tags: ['t2'] });
    await a.set('c', 3, { tags: ['t1', 't2'] });
    expect(await a.invalidateTags(['t1'])).toBe(2);
    expect(await shared.exists([`${ns}:a`, `${ns}:c`])).toBe(0);
    expect(await shared.exists(`${ns}:b`)).toBe(1);
    expect(await a.getMany(['a', 'b', 'c'])).toEqual([undefined, 2, undefined]);
  });

  it('invalidateTags from another instance removes keys it read through L2', async () => {
    const ns = namespace();
    const a = cache({ namespace: ns, l2: { url: SHARED } });
    const b = cache({ namespace: ns, l2: { url: SHARED } });
    await a.set('d', 4, { tags: ['t3'] });
    await a.set('e', 5, { tags: ['t3'] });
    await a.set('f', 6, { tags: ['t4'] });
    expect(await b.get('d')).toBe(4); // now in b's L1 too
    expect(await b.invalidateTags(['t3'])).toBe(2);
    expect(await shared.exists([`${ns}:d`, `${ns}:e`])).toBe(0);
    expect(await shared.exists(`${ns}:f`)).toBe(1);
    expect(await b.getMany(['d', 'e', 'f'])).toEqual([undefined, undefined, 6]);
  });

  it('invalidateTags reaches values stored by wrap() on another instance', async () => {
    const ns = namespace();
    const a = cache({ namespace: ns, l2: { url: SHARED } });
    const b = cache({ namespace: ns, l2: { url: SHARED } });
    await a.wrap('w', async () => 'first', { tags: ['org:1'] });
    expect(await b.invalidateTags(['org:1'])).toBe(1);
    const loader = vi.fn(async () => 'second');
    expect(await b.wrap('w', loader, { tags: ['org:1'] })).toBe('second');
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('coalesces concurrent wrap() misses when L2 is configured too', async () => {
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: SHARED, opTimeoutMs: 1000 } });
    await c.get('warm'); // connects
    const loader = vi.fn(async () => ({ id: 9 }));
    const results = await Promise.all(Array.from({ length: 100 }, () => c.wrap('user:9', loader)));
    expect(loader).toHaveBeenCalledTimes(1);
    for (const r of results) expect(r).toEqual({ id: 9 });
    expect(spansOf(c).filter((s) => s.name === `cache.wrap ${c.name}` && s.attributes['cache.coalesced'] === true)).toHaveLength(99);
  });

  it('nests the Redis command spans under the cache span', async () => {
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: SHARED } });
    await c.get('warm'); // connects
    spans.reset();
    await c.get('k');
    const [get] = spansOf(c);
    const children = spans.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === get.spanContext().spanId);
    // 'GET' with stable DB semconv, 'redis-GET' with the old one: either is the command span.
    const commands = children.filter((s) => s.kind === SpanKind.CLIENT && /(^|-)GET$/.test(s.name));
    expect(commands).toHaveLength(1);
    expect(commands[0].spanContext().traceId).toBe(get.spanContext().traceId);
  });

  it('uses a node-redis client passed as l2.client and leaves it open on disconnect()', async () => {
    const ns = namespace();
    const mine = await connect(SHARED);
    const c = createCache({ name: `${ns}-client`, namespace: ns, l2: { client: mine as never, opTimeoutMs: 2000 } });
    expect(await c.set('k', 'v')).toBe(true);
    expect(await mine.exists(`${ns}:k`)).toBe(1);
    const other = cache({ namespace: ns, l2: { url: SHARED } });
    expect(await other.get('k')).toBe('v');
    await c.disconnect();
    expect(mine.isOpen).toBe(true);
    expect(await mine.ping()).toBe('PONG');
  });

  it('clear() empties both tiers of this namespace only', async () => {
    const ns = namespace();
    const other = namespace();
    const c = cache({ namespace: ns, l2: { url: SHARED } });
    const neighbour = cache({ namespace: other, l2: { url: SHARED } });
    await c.set('x', 1, { tags: ['t'] });
    await c.set('y', 2);
    await neighbour.set('x', 'theirs');
    expect(await c.clear()).toBeUndefined();
    expect(await keysOf(shared, ns)).toEqual([]);
    expect(await c.get('x')).toBeUndefined();
    expect(await neighbour.get('x')).toBe('theirs');
  });
});

describe('L2 on a private redis-server', () => {
  it('invalidates and clears with SCAN, never KEYS', async () => {
    const s = await ownServer();
    const inspect = await connect(s.url);
    const c = cache({ namespace: 'scan', l2: { url: s.url } });
    for (let i = 0; i < 20; i++) await c.set(`users:${i}`, i, { tags: ['t'] });
    await inspect.configResetStat();
    expect(await c.invalidate('users:1*')).toBe(11);
    await c.clear();
    const stats = await inspect.info('commandstats');
    expect(stats).toMatch(/cmdstat_scan:/);
    expect(stats).not.toMatch(/cmdstat_keys:/);
  });

  it('Redis down for the whole test: bounded calls, host-visible results unchanged, breaker opens and closes', async () => {
    const s = await ownServer();
    await s.stop();
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: s.url, opTimeoutMs: OP_TIMEOUT, breaker: { failures: 3, openMs: 400 } } });
    const events: string[] = [];
    c.on('l2:open', () => events.push('open'));
    c.on('l2:closed', () => events.push('closed'));
    // No 'error' listener on purpose: an unlistened error event must not throw.

    const calls: { label: string }[] = [];
    for (let i = 1; i <= 3; i++) {
      expect(c.stats().l2.state).toBe('closed');
      expect(events).toEqual([]);
      const r = await call(`get #${i}`, () => c.get(`miss:${i}`));
      expect(r.value).toBeUndefined();
      calls.push(r);
    }
    expect(events).toEqual(['open']);
    expect(c.stats().l2.state).toBe('open');
    expect(c.stats().l2.errors).toBe(3);
    expect(await l2StateGauge(c)).toEqual([1]);

    // Open: L2 is skipped, the app still gets the spec's answers.
    const skipped = c.stats().l2;
    const set = await call('set (open)', () => c.set('k', { v: 1 }));
    expect(set.value).toBe(true);
    const get = await call('get (open)', () => c.get('k'));
    expect(get.value).toEqual({ v: 1 });
    const miss = await call('get miss (open)', () => c.get('nothing'));
    expect(miss.value).toBeUndefined();
    const loader = vi.fn(async () => 'loaded');
    const wrap = await call('wrap (open)', () => c.wrap('w', loader));
    expect(wrap.value).toBe('loaded');
    expect(loader).toHaveBeenCalledTimes(1);
    calls.push(set, get, miss, wrap);
    expect(c.stats().l2).toMatchObject({ errors: skipped.errors, timeouts: skipped.timeouts });

    // Redis comes back: after openMs a probe closes the breaker, without recreating the cache.
    await s.restart();
    let probe = 0;
    await until('l2:closed', async () => {
      const r = await call(`probe #${++probe}`, () => c.get(`probe:${probe}`));
      calls.push(r);
      expect(r.value).toBeUndefined();
      return events.includes('closed');
    });
    expect(events[0]).toBe('open');
    expect(events.at(-1)).toBe('closed');
    expect(c.stats().l2.state).toBe('closed');
    expect(await l2StateGauge(c)).toEqual([0]);

    const inspect = await connect(s.url);
    expect(await c.set('after', 'back')).toBe(true);
    expect(await inspect.exists(`${ns}:after`)).toBe(1);
    const other = cache({ namespace: ns, l2: { url: s.url } });
    expect(await other.get('after')).toBe('back');
  });

  it('Redis down: every kind of call is bounded before the breaker opens', async () => {
    const s = await ownServer();
    await s.stop();
    const c = cache({ l2: { url: s.url, opTimeoutMs: OP_TIMEOUT, breaker: { failures: 1000, openMs: 60_000 } } });
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    const calls = [
      await call('get', () => c.get('a')),
      await call('set', () => c.set('a', 1)),
      await call('get after set', () => c.get('a')),
      await call('wrap miss', () => c.wrap('w', async () => 'loaded')),
      await call('wrap hit', () => c.wrap('w', async () => 'other')),
      await call('has', () => c.has('zz')),
      await call('getMany', () => c.getMany(['x', 'y', 'a'])),
      await call('delete', () => c.delete('a')),
    ];
    expect(calls.map((r) => [r.label, r.value])).toEqual([
      ['get', undefined],
      ['set', true],
      ['get after set', 1],
      ['wrap miss', 'loaded'],
      ['wrap hit', 'loaded'],
      ['has', false],
      ['getMany', [undefined, undefined, 1]],
      ['delete', true],
    ]);
    expect(c.stats().l2.state).toBe('closed');
    expect(c.stats().l2.errors).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toBeInstanceOf(Error);
  });

  it('Redis stops mid-run: calls stay bounded and L2 is used again after it restarts', async () => {
    const s = await ownServer();
    const ns = namespace();
    const c = cache({ namespace: ns, l2: { url: s.url, opTimeoutMs: OP_TIMEOUT, breaker: { failures: 3, openMs: 300 } } });
    c.on('error', () => {});
    expect(await c.set('before', 1)).toBe(true);
    await s.stop();
    const calls = [
      await call('get miss', () => c.get('x')),
      await call('set', () => c.set('y', 2)),
      await call('get L1', () => c.get('before')),
      await call('wrap', () => c.wrap('z', async () => 3)),
    ];
    expect(calls.map((r) => r.value)).toEqual([undefined, true, 1, 3]);
    await s.restart();
    const inspect = await connect(s.url);
    await until('a write to reach the restarted Redis', async () => {
      await c.set('again', 'yes');
      return (await inspect.exists(`${ns}:again`)) === 1;
    });
    expect(c.stats().l2.state).toBe('closed');
  });

  it('a call our own blocked event loop held past the timeout is judged by the reply, not timed out', async () => {
    // A server of its own: the shared one is busy with the other test files, and this test is
    // about our loop's lag, not Redis's.
    const s = await ownServer();
    const ns = namespace();
    // No L1, so every get asks Redis; one failure would open the breaker.
    const c = cache({ namespace: ns, l1: false, l2: { url: s.url, opTimeoutMs: 50, breaker: { failures: 1, openMs: 60_000 } } });
    await cache({ namespace: ns, l2: { url: s.url } }).set('k', 'V');
    expect(await c.get('warm')).toBeUndefined(); // connected
    for (let i = 0; i < 5; i++) {
      const pending = c.get('k');
      await new Promise((r) => setImmediate(r));
      // We do not look for 150 ms (the client has not even written the command yet): when the
      // loop comes back, the 50 ms timer is long overdue and runs first. Late by more than half
      // its budget, it gives Redis another budget of loop time instead of timing the call out.
      const end = Date.now() + 150;
      while (Date.now() < end);
      expect(await pending).toBe('V');
    }
    expect(c.stats().l2).toMatchObject({ hits: 5, timeouts: 0, errors: 0, state: 'closed' });
  });

  it('Redis frozen (SIGSTOP): calls time out within the bound and it recovers on SIGCONT', async () => {
    const s = await ownServer();
    const ns = namespace();
    const writer = cache({ namespace: ns, l2: { url: s.url } });
    const c = cache({ namespace: ns, l2: { url: s.url, opTimeoutMs: OP_TIMEOUT, breaker: { failures: 1000, openMs: 60_000 } } });
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    await writer.set('a', 'A');
    await writer.set('b', 'B');
    expect(await c.get('warm')).toBeUndefined(); // connects
    expect(c.stats().l2.timeouts).toBe(0);

    s.pause();
    const get = await call('get', () => c.get('a'));
    expect(get.value).toBeUndefined();
    expect(c.stats().l2.timeouts).toBe(1);
    const set = await call('set', () => c.set('x', 1));
    expect(set.value).toBe(true);
    expect(c.stats().l2.timeouts).toBe(2);
    const loader = vi.fn(async () => 'loaded');
    const wrap = await call('wrap', () => c.wrap('y', loader));
    expect(wrap.value).toBe('loaded');
    expect(c.stats().l2.timeouts).toBeGreaterThanOrEqual(3);
    const has = await call('has', () => c.has('b'));
    expect(has.value).toBe(false);
    expect(await c.get('x')).toBe(1); // L1 kept the write
    expect(c.stats().l2.timeouts).toBeGreaterThanOrEqual(4);
    expect(errors.length).toBeGreaterThan(0);

    s.resume();
    await until('L2 to answer again', async () => (await c.get('a')) === 'A');
    spans.reset();
    const timeouts = c.stats().l2.timeouts;
    const b = await call('get after resume', () => c.get('b'));
    expect(b.value).toBe('B');
    expect(spansOf(c)[0].attributes['cache.tier']).toBe('l2');
    expect(c.stats().l2.timeouts).toBe(timeouts); // answered, not timed out
    expect(c.stats().l2.state).toBe('closed');
  });

  it('Redis frozen: invalidate, invalidateTags and clear are bounded too (by 10x opTimeoutMs: they may need several SCANs)', async () => {
    const s = await ownServer();
    const c = cache({ l2: { url: s.url, opTimeoutMs: OP_TIMEOUT, breaker: { failures: 1000, openMs: 60_000 } } });
    c.on('error', () => {});
    await c.set('users:1', 1, { tags: ['t'] });
    await c.set('users:2', 2, { tags: ['t'] });
    await c.set('other', 3);
    // A loaded machine may time out one of the writes above (50 ms): count from here.
    const before = c.stats().l2.timeouts;
    s.pause();
    const calls = [
      await call('invalidate', () => c.invalidate('users:1')),
      await call('invalidateTags', () => c.invalidateTags(['t'])),
      await call('clear', () => c.clear()),
    ];
    expect(calls.map((r) => r.value)).toEqual([1, 1, undefined]);
    expect(c.stats().l2.timeouts - before).toBe(3); // one (10x) budget each, however many SCANs they needed
    expect(await c.get('other')).toBeUndefined();
  });

  it('disconnect() does not hang on a frozen Redis', async () => {
    const s = await ownServer();
    const c = createCache({ name: `frozen-${++seq}`, l2: { url: s.url, opTimeoutMs: OP_TIMEOUT } });
    expect(await c.set('k', 1)).toBe(true);
    const inspect = await connect(s.url);
    const clients = async () => (await inspect.sendCommand(['CLIENT', 'LIST'])).toString().trim().split('\n').length;
    expect(await clients()).toBe(2);
    s.pause();
    await c.disconnect(); // QUIT gets no answer: it gives up on it (a hang fails by the test timeout)
    s.resume();
    await until("the cache's connection to be closed", async () => (await clients()) === 1);
  });

  it("writeMode 'background': set resolves without waiting for Redis, and the write lands", async () => {
    const s = await ownServer();
    const ns = namespace();
    // An awaited write would wait this long while Redis is frozen: past the test's timeout.
    const slowTimeout = 60_000;
    const c = cache({ namespace: ns, l2: { url: s.url, opTimeoutMs: slowTimeout, writeMode: 'background', breaker: { failures: 1000 } } });
    c.on('error', () => {});
    const inspect = await connect(s.url);
    expect(await c.get('warm')).toBeUndefined(); // connects
    s.pause();
    const set = await call('background set', () => c.set('bg', { v: 1 }));
    expect(set.value).toBe(true);
    expect(c.stats().l2).toMatchObject({ timeouts: 0, errors: 0 });
    expect(await c.get('bg')).toEqual({ v: 1 });
    s.resume();
    await until('the background write to land', async () => (await inspect.exists(`${ns}:bg`)) === 1, 5_000);
  });
});
