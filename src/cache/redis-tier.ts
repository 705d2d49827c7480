import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import type { Keyv } from 'keyv';
import { CircuitBreaker, type BreakerState } from './breaker.js';

const load = createRequire(import.meta.url);

/** The node-redis (v4+) client methods the L2 tier uses. */
export interface RedisLike {
  isOpen?: boolean;
  isReady?: boolean;
  disconnect?(): unknown;
  connect(): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): unknown;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { PX: number }): Promise<unknown>;
  unlink(keys: string | string[]): Promise<number>;
  exists(key: string): Promise<number>;
  sAdd(key: string, members: string | string[]): Promise<number>;
  sMembers(key: string): Promise<string[]>;
  pExpire(key: string, ms: number): Promise<unknown>;
  scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string | number; keys: string[] }>;
  on?(event: 'error', listener: (err: Error) => void): unknown;
}

export interface RedisTierOptions {
  url?: string;
  client?: RedisLike;
  /** @default 50 */
  opTimeoutMs?: number;
  breaker?: { failures?: number; openMs?: number };
  onState: (state: BreakerState) => void;
  onError: (err: Error) => void;
}

export class L2TimeoutError extends Error {
  override name = 'L2TimeoutError';
}
export class L2UnavailableError extends Error {
  override name = 'L2UnavailableError';
}

/**
 * The L2 tier: Redis through Keyv (its serialization and expiry envelope), every call bounded
 * by `opTimeoutMs` and gated by a circuit breaker, so a slow or dead Redis costs at most the
 * timeout per call until the breaker opens, and nothing afterwards. We own the key layout
 * (`<namespace>:<key>`, tag sets under `<namespace>:__tag:<tag>`) so glob and tag
 * invalidation can use SCAN / sets directly.
 */
export class RedisTier {
  readonly breaker: CircuitBreaker;
  readonly client: RedisLike;
  private readonly keyv: Keyv;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;
  private connecting: Promise<unknown> | undefined;
  timeouts = 0;
  errors = 0;
  /** Whether the last call reached Redis and succeeded (false also when skipped by the breaker). */
  lastOk = true;

  constructor(private readonly o: RedisTierOptions) {
    this.timeoutMs = o.opTimeoutMs ?? 50;
    this.breaker = new CircuitBreaker({ ...o.breaker, onChange: o.onState });
    if (o.client) {
      this.client = o.client;
      this.ownsClient = false;
    } else {
      let createClient: (opts: object) => RedisLike;
      try {
        ({ createClient } = load('redis') as { createClient: (opts: object) => RedisLike });
      } catch {
        throw new TypeError('createCache: l2.url needs the `redis` package (npm install redis), or pass a connected client as l2.client');
      }
      // No offline queue: while disconnected, commands fail at once instead of piling up.
      this.client = createClient({
        url: o.url,
        disableOfflineQueue: true,
        socket: { connectTimeout: Math.max(this.timeoutMs * 4, 200), reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 2000) },
      });
      this.ownsClient = true;
    }
    this.client.on?.('error', (err) => o.onError(err));
    const client = this.client;
    const store = {
      get: async (k: string) => (await client.get(k)) ?? undefined,
      set: async (k: string, v: unknown, ttl?: number) => {
        await client.set(k, typeof v === 'string' ? v : JSON.stringify(v), ttl ? { PX: ttl } : undefined);
        return true;
      },
      delete: async (k: string) => (await client.unlink(k)) > 0,
      clear: async () => {},
    };
    // keyv is loaded with the first Redis tier, not with healthspan: most apps never make one.
    const { Keyv: KeyvClass } = load('keyv') as typeof import('keyv');
    this.keyv = new KeyvClass({ store, useKeyPrefix: false });
    this.keyv.on('error', (err: Error) => o.onError(err));
  }

  get state(): BreakerState {
    return this.breaker.state;
  }

  get<V>(key: string): Promise<V | undefined> {
    return this.call(() => this.keyv.get<V>(key));
  }

  async set(key: string, value: unknown, ttlMs: number, tagKeys: string[]): Promise<void> {
    await this.call(async () => {
      await this.keyv.set(key, value, ttlMs > 0 ? ttlMs : undefined);
      for (const tagKey of tagKeys) {
        await this.client.sAdd(tagKey, key);
        if (ttlMs > 0) await this.client.pExpire(tagKey, ttlMs * 2);
      }
    });
  }

  delete(keys: string[]): Promise<number | undefined> {
    return this.call(() => (keys.length ? this.client.unlink(keys) : Promise.resolve(0)));
  }

  /**
   * Keys matching a Redis glob, found with SCAN (never KEYS), unlinked in batches; keys
   * starting with `skipPrefix` (tag bookkeeping) are left alone and not counted.
   */
  invalidate(match: string, skipPrefix?: string): Promise<number | undefined> {
    return this.call(async () => {
      let cursor = '0';
      let n = 0;
      do {
        const r = await this.client.scan(cursor, { MATCH: match, COUNT: 500 });
        cursor = String(r.cursor);
        const keys = skipPrefix ? r.keys.filter((k) => !k.startsWith(skipPrefix)) : r.keys;
        if (keys.length) n += await this.client.unlink(keys);
      } while (cursor !== '0');
      return n;
    }, true);
  }

  invalidateTags(tagKeys: string[]): Promise<number | undefined> {
    return this.call(async () => {
      let n = 0;
      for (const tagKey of tagKeys) {
        const members = await this.client.sMembers(tagKey);
        if (members.length) n += await this.client.unlink(members);
        await this.client.unlink(tagKey);
      }
      return n;
    }, true);
  }

  /** Closes a connection we opened (gracefully when it is up, at once when it is not). */
  async disconnect(): Promise<void> {
    if (!this.ownsClient) return;
    const c = this.client;
    try {
      if (c.isReady) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          (c.quit ?? c.close)?.call(c),
          new Promise((resolve) => {
            timer = setTimeout(resolve, Math.max(this.timeoutMs * 4, 200));
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
      }
    } catch {
      // closing anyway below
    }
    if (c.isOpen) (c.destroy ?? c.disconnect)?.call(c);
  }

  /**
   * Runs `op` under the breaker and the timeout. Resolves with undefined (a miss) when L2 is
   * skipped, slow or failing; `slow` ops (SCAN) get ten times the budget.
   */
  private async call<T>(op: () => Promise<T>, slow = false): Promise<T | undefined> {
    if (!this.breaker.allow()) {
      this.lastOk = false;
      return undefined;
    }
    const budget = slow ? this.timeoutMs * 10 : this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let check: NodeJS.Immediate | undefined;
    try {
      if (!this.client.isOpen && this.ownsClient)
        this.connecting ??= this.client
          .connect()
          .catch(() => undefined)
          .finally(() => (this.connecting = undefined));
      let settled = false;
      const run = (async () => {
        if (this.connecting) await this.connecting;
        if (this.client.isOpen === false) throw new L2UnavailableError('Redis is not connected');
        return op();
      })();
      // The abandoned operation may still settle later: never let it reject unhandled.
      run.then(
        () => (settled = true),
        () => (settled = true),
      );
      const timeout = new Promise<never>((_, reject) => {
        const due = performance.now() + budget;
        const expire = () => {
          if (!settled) reject(new L2TimeoutError(`Redis did not answer within ${budget} ms`));
        };
        timer = setTimeout(() => {
          // Timers run before I/O in a loop turn: when our own loop lagged past the budget, a
          // reply that arrived in time may still sit unread in the socket (a bare race counted
          // 10–26 false timeouts per run under load). Judge by the reply: one setImmediate lets
          // the poll phase read what is there; a timer late by more than half the budget means
          // the loop, not Redis, held the call, so Redis gets one more budget of loop time.
          if (performance.now() - due > budget / 2) {
            timer = setTimeout(expire, budget);
            timer.unref();
          } else check = setImmediate(expire);
        }, budget);
        timer.unref();
      });
      const result = await Promise.race([run, timeout]);
      this.breaker.success();
      this.lastOk = true;
      return result;
    } catch (err) {
      if (err instanceof L2TimeoutError) this.timeouts++;
      this.errors++;
      this.lastOk = false;
      this.breaker.failure();
      this.o.onError(err as Error);
      return undefined;
    } finally {
      clearTimeout(timer);
      if (check) clearImmediate(check);
    }
  }
}
