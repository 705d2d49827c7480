import type { Instrumentation } from '@opentelemetry/instrumentation';

/** The class exported by `@opentelemetry/instrumentation-pg` (loaded on demand). */
export type PgInstrumentationClass = new (config?: object) => Instrumentation;

/** What `withoutPgMetrics` replaces: upstream's per-query and per-pool-event metric work. */
interface PgInternals {
  recordOperationDuration(attributes: unknown, startTime: unknown): void;
  _setPoolConnectEventListeners(pool: unknown): void;
}

/**
 * `@opentelemetry/instrumentation-pg` records `db.client.operation.duration` after every query
 * and, on every pool event (connect, acquire, release, remove), recounts the pool and adds the
 * differences to `db.client.connection.count` and `db.client.connection.pending_requests`.
 * healthspan records the first for every client in DbProcessor (with `db.query.summary`) and
 * the pool metrics in PgPoolInstrumentation (observed per pool at collection, correct with
 * several pools); the SDK views drop upstream's copies. So the returned class skips that work
 * instead of computing metrics that are thrown away: the same query spans, two listeners and
 * a histogram record fewer per query.
 */
export function withoutPgMetrics(Base: PgInstrumentationClass): PgInstrumentationClass {
  const base = Base.prototype as unknown as PgInternals;
  if (typeof base.recordOperationDuration !== 'function' || typeof base._setPoolConnectEventListeners !== 'function') return Base;

  class LeanPgInstrumentation extends Base {
    recordOperationDuration(): void {}

    _setPoolConnectEventListeners(): void {}
  }
  return LeanPgInstrumentation;
}
