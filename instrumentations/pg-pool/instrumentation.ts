import { performance } from 'node:perf_hooks';
import { context, type Attributes, type Counter, type Histogram } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { DB_DURATION_BUCKETS } from '../shared/buckets.js';
import { VERSION } from '../shared/version.js';
import type { PgPoolInstrumentationConfig } from './types.js';

const POOL_NAME = 'db.client.connection.pool.name';

/** The parts of a pg-pool Pool we read. */
interface PgPool {
  options: { max?: number; host?: string; port?: number; database?: string; connectionString?: string };
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  ending?: boolean;
  ended?: boolean;
  connect(...args: unknown[]): unknown;
}

interface PoolInfo {
  ref: WeakRef<PgPool>;
  attrs: Attributes;
  idle: Attributes;
  used: Attributes;
}

type Connect = (this: PgPool, ...args: unknown[]) => unknown;
const WRAPPED = Symbol('healthspan.pg-pool.connect');

/**
 * Connection-pool metrics for pg-pool (what `new pg.Pool()` is), correct with any number
 * of pools: counts are read from each pool when metrics are collected (observable
 * instruments), not maintained as deltas, and each pool has its own name
 * (`host:port/database`, `#2`, `#3` … for pools to the same database). The wait for a
 * connection is timed around `Pool.prototype.connect`, which `pool.query()` also uses.
 */
export class PgPoolInstrumentation extends InstrumentationBase<PgPoolInstrumentationConfig> {
  private readonly infos = new WeakMap<PgPool, PoolInfo>();
  private readonly live = new Set<PoolInfo>();
  /** Pools seen past `maxPools`: not observed, only counted. */
  untracked = 0;
  declare private waitTime: Histogram;
  declare private timeouts: Counter;

  constructor(config: PgPoolInstrumentationConfig = {}) {
    super('healthspan-pg-pool', VERSION, config);
  }

  protected override _updateMetricInstruments(): void {
    const meter = this.meter;
    this.waitTime = meter.createHistogram('db.client.connection.wait_time', {
      unit: 's',
      description: 'Time it took to obtain an open connection from the pool.',
      advice: { explicitBucketBoundaries: DB_DURATION_BUCKETS },
    });
    this.timeouts = meter.createCounter('db.client.connection.timeouts', {
      unit: '{timeout}',
      description: 'Connection requests that gave up waiting for a connection from the pool.',
    });
    const count = meter.createObservableUpDownCounter('db.client.connection.count', {
      unit: '{connection}',
      description: 'Connections in the state given by db.client.connection.state.',
    });
    const max = meter.createObservableUpDownCounter('db.client.connection.max', {
      unit: '{connection}',
      description: 'The maximum number of open connections allowed.',
    });
    const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
      unit: '{request}',
      description: 'Requests waiting for a connection.',
    });
    meter.addBatchObservableCallback(
      (result) => {
        this.prune();
        for (const info of this.live) {
          const pool = info.ref.deref();
          if (!pool) continue;
          result.observe(count, pool.idleCount, info.idle);
          result.observe(count, pool.totalCount - pool.idleCount, info.used);
          result.observe(max, pool.options.max ?? 10, info.attrs);
          result.observe(pending, pool.waitingCount, info.attrs);
        }
      },
      [count, max, pending],
    );
  }

  protected init() {
    return new InstrumentationNodeModuleDefinition(
      'pg-pool',
      ['>=2.0.0 <4'],
      (exports: { prototype: { connect: Connect } }) => {
        const proto = exports?.prototype;
        if (proto && typeof proto.connect === 'function' && !(proto.connect as { [WRAPPED]?: true })[WRAPPED]) {
          // Wrapped by hand, not with _wrap(): _wrap would first unwrap the official pg
          // instrumentation's own wrapper of this same method.
          proto.connect = wrapConnect(proto.connect, this);
        }
        return exports;
      },
      // Nothing to undo: the wrapper passes straight through while disabled.
      () => {},
    );
  }

  /** The pool's entry, registering it on first sight (bounded by maxPools). */
  track(pool: PgPool): PoolInfo | undefined {
    const known = this.infos.get(pool);
    if (known) return known;
    this.prune();
    const limit = this._config.maxPools ?? 64;
    if (this.live.size >= limit) {
      if (this.untracked++ === 0) this._config.onPoolLimit?.(limit);
      return undefined;
    }
    const base = poolName(pool.options);
    let name = base;
    const names = new Set([...this.live].map((i) => i.attrs[POOL_NAME]));
    for (let n = 2; names.has(name); n++) name = `${base}#${n}`;
    const attrs = { [POOL_NAME]: name };
    const info: PoolInfo = {
      ref: new WeakRef(pool),
      attrs,
      idle: { ...attrs, 'db.client.connection.state': 'idle' },
      used: { ...attrs, 'db.client.connection.state': 'used' },
    };
    this.infos.set(pool, info);
    this.live.add(info);
    return info;
  }

  /** Forgets pools that ended or were collected, so their names can be reused. */
  private prune(): void {
    for (const info of this.live) {
      const pool = info.ref.deref();
      if (!pool || pool.ended || pool.ending) this.live.delete(info);
    }
  }

  recordWait(info: PoolInfo | undefined, start: number, err: unknown): void {
    if (!info) return;
    const attrs = err ? { ...info.attrs, 'error.type': errorType(err) } : info.attrs;
    this.waitTime.record((performance.now() - start) / 1000, attrs);
    if (err && /timeout/i.test(String((err as Error).message))) this.timeouts.add(1, info.attrs);
  }
}

function wrapConnect(original: Connect, instrumentation: PgPoolInstrumentation): Connect {
  const connect = function (this: PgPool, ...args: unknown[]) {
    if (!instrumentation.isEnabled()) return original.apply(this, args);
    const info = instrumentation.track(this);
    const start = performance.now();
    const cb = args[0];
    if (typeof cb === 'function') {
      // A waiter's callback is called by pg-pool from whichever request released the
      // connection: run it in the caller's context, or its queries join the wrong trace.
      // (The official instrumentation binds it too, but not with ignoreConnectSpans.)
      const callerContext = context.active();
      return original.call(this, function (this: unknown, err: unknown, ...rest: unknown[]) {
        instrumentation.recordWait(info, start, err);
        return context.with(callerContext, () => cb.call(this, err, ...rest));
      });
    }
    const result = original.apply(this, args);
    // The caller gets the very same promise; we only watch it.
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => instrumentation.recordWait(info, start, undefined),
        (err) => instrumentation.recordWait(info, start, err ?? new Error('connect failed')),
      );
    }
    return result;
  } as Connect & { [WRAPPED]?: true };
  connect[WRAPPED] = true;
  return connect;
}

/** `host:port/database` from the pool's options or connection string. */
export function poolName(options: PgPool['options']): string {
  let host = options.host;
  let port = options.port;
  let database = options.database;
  if (options.connectionString) {
    try {
      const u = new URL(options.connectionString);
      host ??= decodeURIComponent(u.hostname) || undefined;
      port ??= u.port ? Number(u.port) : undefined;
      database ??= decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined;
    } catch {
      // not a URL (e.g. a socket path): keep what the options say
    }
  }
  return `${host ?? 'localhost'}:${port ?? 5432}/${database ?? ''}`;
}

function errorType(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}
