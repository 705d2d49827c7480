import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { MemoryStore, globToRegExp, sizeOf, type EvictionReason } from './memory-store.js';
import { RedisTier, type RedisLike } from './redis-tier.js';
import { trackCache, type CacheStats } from './registry.js';
import { instruments, keyAttributes, registerGauges, tracer, type KeyAttribute } from './telemetry.js';

export interface CacheOptions {
  /** `cache.name` on spans and metrics; also the default namespace. */
  name: string;
  /** Key prefix in Redis (`<namespace>:<key>`). @default name */
  namespace?: string;
  /** Default time to live in ms; 0 = no expiry. @default 60000 */
  ttl?: number;
  /** Each TTL is shortened by up to this fraction at random (0–1). @default 0 */
  ttlJitter?: number;
  /** The in-memory tier, or false for none. @default { maxEntries: 1000 } */
  l1?: { maxEntries?: number; maxBytes?: number; ttl?: number; sweepIntervalMs?: number } | false;
  /** The Redis tier. @default none */
  l2?: {
    url?: string;
    client?: RedisLike;
    /** @default 50 */
    opTimeoutMs?: number;
    /** @default { failures: 5, openMs: 5000 } */
    breaker?: { failures?: number; openMs?: number };
    /** @default 'await' */
    writeMode?: 'await' | 'background';
  };
  /** How long after expiry wrap() may serve the old value while one refresh runs. @default 0 */
  staleWhileRevalidate?: number;
  /** Whether spans carry `cache.key`. Keys are never metric attributes. @default 'none' */
  keyAttribute?: KeyAttribute;
  /** wrap() caches a loader's rejection for the entry's TTL. @default false */
  cacheErrors?: boolean;
}

export type { CacheStats };

export interface SetOptions {
  ttl?: number;
  tags?: string[];
}
export interface WrapOptions extends SetOptions {
  staleWhileRevalidate?: number;
}

type Tier = 'l1' | 'l2' | 'none';
type Op = 'get' | 'set' | 'delete' | 'has' | 'clear' | 'wrap' | 'invalidate' | 'invalidate_tags' | 'get_many';
const CACHED_ERROR = Symbol('healthspan.cache.error');
const READS = new Set<Op>(['get', 'has', 'wrap']);
interface CachedError {
  [CACHED_ERROR]: true;
  message: string;
  name: string;
}

/**
 * A cache a careful engineer would choose even without the tracing: L1 memory LRU with TTL,
 * optional L2 Redis that never hangs (timeout + circuit breaker), wrap() with coalescing and
 * stale-while-revalidate, pattern and tag invalidation, stats — and a span and metrics for
 * every operation through the global OpenTelemetry API. Keyv's method names and return
 * conventions: get → undefined on a miss, set → true, delete → whether something was deleted.
 */
export class TracedCache<V = unknown> extends EventEmitter {
  readonly name: string;
  private readonly namespace: string;
  private readonly l1: MemoryStore | undefined;
  private readonly l2: RedisTier | undefined;
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly refreshing = new Set<string>();
  private readonly unregister: () => void;
  private readonly untrack: () => void;
  private readonly counts = { l1Hits: 0, l1Misses: 0, l2Hits: 0, l2Misses: 0, sets: 0, deletes: 0, errors: 0, expirations: 0 };
  private readonly evictions: Record<EvictionReason, number> = { capacity: 0, expired: 0, invalidated: 0 };
  private readonly base: Attributes;
  private readonly metricAttributes = new Map<string, { request: Attributes; duration: Attributes }>();

  constructor(private readonly o: CacheOptions) {
    super();
    if (!o || typeof o.name !== 'string' || o.name === '') throw new TypeError('createCache: `name` must be a non-empty string');
    this.name = o.name;
    this.namespace = o.namespace ?? o.name;
    this.base = { 'cache.name': this.name };
    if (o.l1 !== false) {
      this.l1 = new MemoryStore({
        maxEntries: o.l1?.maxEntries,
        maxBytes: o.l1?.maxBytes,
        sweepIntervalMs: o.l1?.sweepIntervalMs,
        onEvict: (key, reason) => this.onEvict(key, reason),
      });
    }
    if (o.l2 && (o.l2.url || o.l2.client)) {
      this.l2 = new RedisTier({
        ...o.l2,
        onState: (state) => {
          if (state === 'open') this.safeEmit('l2:open');
          else if (state === 'closed') this.safeEmit('l2:closed');
        },
        onError: (err) => {
          this.counts.errors++;
          this.safeEmit('error', err);
        },
      });
    }
    this.unregister = registerGauges({
      name: this.name,
      entries: () => this.l1?.size ?? 0,
      l2State: () => (this.l2 ? { closed: 0, open: 1, 'half-open': 2 }[this.l2.state] : undefined),
    });
    this.untrack = trackCache(this);
  }

  async get(key: string): Promise<V | undefined> {
    return this.traced('get', key, async (span) => {
      const found = await this.lookup(key);
      this.annotate(span, found.tier, found.value !== undefined, found.bytes);
      return found;
    }).then((f) => f.value);
  }

  async getMany(keys: string[]): Promise<(V | undefined)[]> {
    return (
      await this.traced('get_many', undefined, async () => ({ tier: 'none' as Tier, value: await Promise.all(keys.map((k) => this.lookup(k))) }))
    ).value.map((f) => f.value);
  }

  async has(key: string): Promise<boolean> {
    return (await this.traced('has', key, async () => this.lookup(key))).value !== undefined;
  }

  async set(key: string, value: V, ttlOrOptions?: number | SetOptions): Promise<boolean> {
    const opts = typeof ttlOrOptions === 'number' ? { ttl: ttlOrOptions } : (ttlOrOptions ?? {});
    await this.traced('set', key, async (span) => {
      span?.setAttribute('cache.item_size', sizeOf(value));
      await this.store(key, value, opts);
      return { tier: this.l2 ? 'l2' : 'l1', value: undefined };
    });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const r = await this.traced('delete', key, async () => {
      const inL1 = this.l1?.delete(key) ?? false;
      const inL2 = this.l2 ? ((await this.l2.delete([this.redisKey(key)])) ?? 0) > 0 : false;
      if (inL1 || inL2) this.counts.deletes++;
      return { tier: 'none' as Tier, value: inL1 || inL2 };
    });
    return r.value;
  }

  async clear(): Promise<void> {
    await this.traced('clear', undefined, async () => {
      this.l1?.clear();
      // Everything under the namespace, tag sets included.
      await this.l2?.invalidate(`${escapeGlob(this.namespace)}:*`);
      return { tier: 'none', value: undefined };
    });
  }

  /** Get-or-set: one loader run per key at a time; optional stale-while-revalidate. */
  async wrap(key: string, loader: () => V | Promise<V>, options: WrapOptions = {}): Promise<V> {
    const r = await this.traced('wrap', key, async (span) => {
      const swr = options.staleWhileRevalidate ?? this.o.staleWhileRevalidate ?? 0;
      const hit = this.l1?.peek(key);
      if (hit && !hit.stale) {
        this.counts.l1Hits++;
        this.annotate(span, 'l1', true, hit.entry.bytes);
        return { tier: 'l1' as Tier, value: unwrapError(hit.entry.value as V) };
      }
      if (hit?.stale && swr > 0) {
        this.counts.l1Hits++;
        span?.setAttribute('cache.stale', true);
        this.annotate(span, 'l1', true, hit.entry.bytes);
        this.refresh(key, loader, options);
        return { tier: 'l1' as Tier, value: unwrapError(hit.entry.value as V) };
      }
      if (this.l1) this.counts.l1Misses++;
      let background = false;
      if (this.l2) {
        const remote = await this.fromL2(key);
        if (remote !== undefined) {
          this.counts.l2Hits++;
          this.annotate(span, 'l2', true, remote.bytes);
          return { tier: 'l2' as Tier, value: remote.value };
        }
        this.counts.l2Misses++;
        // Redis just failed this call: do not make the caller wait for it a second time.
        if (!this.l2.lastOk) background = true;
      }
      const pending = this.inflight.get(key);
      if (pending) {
        span?.setAttribute('cache.coalesced', true);
        this.annotate(span, 'none', false, undefined);
        return { tier: 'none' as Tier, value: await pending };
      }
      this.annotate(span, 'none', false, undefined);
      return { tier: 'none' as Tier, value: await this.load(key, loader, background ? { ...options, background } : options) };
    });
    return r.value;
  }

  memoize<A extends unknown[]>(fn: (...args: A) => V | Promise<V>, options: WrapOptions & { key: (...args: A) => string }): (...args: A) => Promise<V> {
    return (...args: A) => this.wrap(options.key(...args), () => fn(...args), options);
  }

  /** Removes keys matching a glob (`*`, `?`, `[abc]`) from both tiers. */
  async invalidate(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern === '') throw new TypeError('invalidate: the pattern must be a non-empty string');
    const r = await this.traced('invalidate', undefined, async () => {
      const re = globToRegExp(pattern);
      const n1 = this.l1?.invalidate((k) => re.test(k)) ?? 0;
      const n2 = (await this.l2?.invalidate(`${escapeGlob(this.namespace)}:${pattern}`, this.tagKey(''))) ?? 0;
      return { tier: 'none' as Tier, value: Math.max(n1, n2) };
    });
    return r.value;
  }

  async invalidateTags(tags: string[]): Promise<number> {
    const r = await this.traced('invalidate_tags', undefined, async () => {
      const n1 = this.l1?.invalidateTags(tags) ?? 0;
      const n2 = (await this.l2?.invalidateTags(tags.map((t) => this.tagKey(t)))) ?? 0;
      return { tier: 'none' as Tier, value: Math.max(n1, n2) };
    });
    return r.value;
  }

  stats(): CacheStats {
    const c = this.counts;
    const hits = c.l1Hits + c.l2Hits;
    // A request that missed L1 and hit L2 is one hit; a miss is a miss in the last tier asked.
    const misses = this.l2 ? c.l2Misses : c.l1Misses;
    return {
      hits,
      misses,
      hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
      sets: c.sets,
      deletes: c.deletes,
      errors: c.errors,
      evictions: { ...this.evictions },
      expirations: this.evictions.expired,
      entries: this.l1?.size ?? 0,
      l1: { hits: c.l1Hits, misses: c.l1Misses, entries: this.l1?.size ?? 0, bytes: this.l1?.bytes ?? 0 },
      l2: { hits: c.l2Hits, misses: c.l2Misses, errors: this.l2?.errors ?? 0, timeouts: this.l2?.timeouts ?? 0, state: this.l2?.state ?? 'none' },
    };
  }

  async disconnect(): Promise<void> {
    this.l1?.close();
    this.unregister();
    this.untrack();
    await this.l2?.disconnect();
  }

  // ---- internals ------------------------------------------------------------------------

  private async lookup(key: string): Promise<{ tier: Tier; value: V | undefined; bytes?: number }> {
    const hit = this.l1?.peek(key);
    if (hit && !hit.stale && !isCachedError(hit.entry.value)) {
      this.counts.l1Hits++;
      return { tier: 'l1', value: hit.entry.value as V, bytes: hit.entry.bytes };
    }
    if (this.l1) this.counts.l1Misses++;
    if (!this.l2) return { tier: 'none', value: undefined };
    const remote = await this.fromL2(key);
    if (remote === undefined) {
      this.counts.l2Misses++;
      return { tier: 'none', value: undefined };
    }
    this.counts.l2Hits++;
    return { tier: 'l2', value: remote.value, bytes: remote.bytes };
  }

  /**
   * Reads the L2 envelope and backfills L1 with what is left of the TTL it was written with,
   * and its tags, so a backfilled entry expires and invalidates like the original.
   */
  private async fromL2(key: string): Promise<{ value: V; bytes: number } | undefined> {
    const env = await this.l2!.get<Envelope<V>>(this.redisKey(key));
    if (!isEnvelope<V>(env)) return undefined;
    const now = Date.now();
    if (env.e !== 0 && env.e + (env.s ?? 0) <= now) return undefined;
    const bytes = sizeOf(env.v);
    if (this.l1) {
      const left = env.e === 0 ? 0 : Math.max(1, env.e - now);
      const staleLeft = env.e === 0 ? 0 : Math.max(0, env.e + (env.s ?? 0) - now - left);
      this.l1.set(key, env.v, this.capL1(left), { staleMs: staleLeft, tags: env.t, bytes });
    }
    return { value: env.v, bytes };
  }

  private async store(key: string, value: V, opts: WrapOptions & { background?: boolean }): Promise<void> {
    this.counts.sets++;
    const ttl = this.ttl(opts.ttl);
    const swr = opts.staleWhileRevalidate ?? this.o.staleWhileRevalidate ?? 0;
    this.l1?.set(key, value, this.capL1(ttl), { staleMs: swr, tags: opts.tags });
    if (!this.l2 || isCachedError(value)) return;
    const env: Envelope<V> = { v: value, e: ttl > 0 ? Date.now() + ttl : 0, s: swr || undefined, t: opts.tags?.length ? opts.tags : undefined };
    // Stale values must outlive their TTL in Redis too, for another instance's SWR.
    const write = this.l2.set(
      this.redisKey(key),
      env,
      ttl > 0 ? ttl + swr : 0,
      (opts.tags ?? []).map((t) => this.tagKey(t)),
    );
    if (this.o.l2?.writeMode !== 'background' && !opts.background) await write;
  }

  private load(key: string, loader: () => V | Promise<V>, options: WrapOptions & { background?: boolean }): Promise<V> {
    const run = (async () => {
      try {
        const value = await loader();
        await this.store(key, value, options);
        return value;
      } catch (err) {
        if (this.o.cacheErrors) {
          const e = err as Error;
          await this.store(key, { [CACHED_ERROR]: true, message: e?.message ?? String(err), name: e?.name ?? 'Error' } as unknown as V, options);
        }
        throw err;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, run);
    return run;
  }

  /** One background refresh per key; its failure keeps the stale value and is reported. */
  private refresh(key: string, loader: () => V | Promise<V>, options: WrapOptions): void {
    if (this.refreshing.has(key) || this.inflight.has(key)) return;
    this.refreshing.add(key);
    this.load(key, loader, options)
      .catch((err) => {
        this.counts.errors++;
        this.safeEmit('error', err);
      })
      .finally(() => this.refreshing.delete(key));
  }

  private traced<T extends { tier: Tier; value: unknown }>(op: Op, key: string | undefined, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const attrs: Attributes = { 'cache.name': this.name, 'cache.operation': op };
    if (key !== undefined) Object.assign(attrs, keyAttributes(this.o.keyAttribute ?? 'none', key));
    return tracer().startActiveSpan(`cache.${op} ${this.name}`, { kind: SpanKind.INTERNAL, attributes: attrs }, async (span) => {
      const recording = span.isRecording() ? span : undefined;
      try {
        const result = await fn(recording);
        this.record(op, result.tier, result.tier === 'none' ? 'miss' : 'hit', t0);
        return result;
      } catch (err) {
        const e = err as Error;
        span.recordException(e);
        span.setStatus({ code: SpanStatusCode.ERROR, message: e?.message });
        span.setAttribute('error.type', e?.name ?? 'Error');
        this.record(op, 'none', 'error', t0);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** Duration for every operation; requests for reads (by result) and for any failure. */
  private record(op: Op, tier: Tier, result: 'hit' | 'miss' | 'error', t0: number): void {
    const i = instruments();
    const attrs = this.attributeSet(op, tier, result);
    if (result === 'error' || READS.has(op)) i.requests.add(1, attrs.request);
    i.duration.record((performance.now() - t0) / 1000, attrs.duration);
  }

  /** Metric attribute objects, built once per (operation, tier, result): at most 72. */
  private attributeSet(op: Op, tier: Tier, result: string): { request: Attributes; duration: Attributes } {
    const k = `${op}|${tier}|${result}`;
    let a = this.metricAttributes.get(k);
    if (!a) {
      const duration = { ...this.base, 'cache.operation': op, 'cache.tier': tier };
      a = { duration, request: { ...duration, 'cache.result': result } };
      this.metricAttributes.set(k, a);
    }
    return a;
  }

  /** `bytes`: the stored size of a hit (L1 keeps it; an L2 hit is measured once). */
  private annotate(span: Span | undefined, tier: Tier, hit: boolean, bytes: number | undefined): void {
    if (!span) return;
    span.setAttribute('cache.tier', tier);
    span.setAttribute('cache.hit', hit);
    if (hit && bytes !== undefined) span.setAttribute('cache.item_size', bytes);
  }

  private onEvict(key: string, reason: EvictionReason): void {
    this.evictions[reason]++;
    instruments().evictions.add(1, { ...this.base, reason });
    this.safeEmit('evict', { key, reason });
  }

  /** Events never throw into the app: 'error' without a listener is only counted. */
  private safeEmit(event: string, ...args: unknown[]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      this.emit(event, ...args);
    } catch {
      // a listener threw: not ours to surface
    }
  }

  private ttl(ttl: number | undefined): number {
    const base = ttl ?? this.o.ttl ?? 60_000;
    const jitter = this.o.ttlJitter ?? 0;
    return base > 0 && jitter > 0 ? Math.max(1, Math.round(base * (1 - Math.random() * Math.min(jitter, 1)))) : base;
  }

  /** `l1.ttl` caps how long L1 keeps an entry (e.g. shorter than L2). */
  private capL1(ttl: number): number {
    const cap = this.o.l1 ? this.o.l1.ttl : undefined;
    return cap !== undefined && cap > 0 && (ttl === 0 || cap < ttl) ? cap : ttl;
  }

  private redisKey(key: string): string {
    return `${this.namespace}:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.namespace}:__tag:${tag}`;
  }
}

/** What L2 stores: the value, its absolute expiry (0 = none), stale window and tags. */
interface Envelope<V> {
  v: V;
  e: number;
  s?: number;
  t?: string[];
}

function isEnvelope<V>(x: unknown): x is Envelope<V> {
  return typeof x === 'object' && x !== null && 'v' in x && typeof (x as Envelope<V>).e === 'number';
}

function isCachedError(v: unknown): v is CachedError {
  return typeof v === 'object' && v !== null && (v as CachedError)[CACHED_ERROR] === true;
}

function unwrapError<V>(v: V): V {
  if (isCachedError(v)) {
    const err = new Error(v.message);
    err.name = v.name;
    throw err;
  }
  return v;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** Creates a traced two-tier cache; see docs/cache.md. */
export function createCache<V = unknown>(options: CacheOptions): TracedCache<V> {
  return new TracedCache<V>(options);
}
