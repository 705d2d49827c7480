import type { SplitSummary } from './breakdown.js';
import type { WindowSummary } from './window.js';

/**
 * Latency and error figures of a set of operations over (part of) the window. One naming
 * scheme everywhere insight reports figures (the public API and the admin API alike):
 * durations end in `Ms` (milliseconds), `ratePerSecond` is per second, shares (`errorRate`,
 * `hitRate`) are 0–1, timestamps end in `At` and are milliseconds since the Unix epoch.
 */
export interface LatencyStats {
  count: number;
  errors: number;
  /** Share of errors, 0–1. */
  errorRate: number;
  /** Operations per second over the covered part of the window. */
  ratePerSecond: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** One route's figures over the window. */
export interface RouteStats extends LatencyStats {
  /** `METHOD /route`. */
  route: string;
  /** The p95 threshold of the slow_request rule for this route (ms). */
  thresholdMs: number;
  /** Where its time went; absent until a request of it had a child operation. */
  split?: SplitSummary;
}

/** One statement's figures over the window. */
export interface QueryStats extends LatencyStats {
  /** The statement key: `<db.system.name> <sanitized statement>` (or `<db.system.name> <db.query.summary>` without SQL text). */
  query: string;
  /** Its `db.query.summary` (`SELECT products`). */
  summary: string;
  /** The p95 threshold of the slow_query rule (ms). */
  thresholdMs: number;
}

/** One cache's reads over the window. */
export interface CacheHitStats {
  name: string;
  lookups: number;
  /** Share of lookups that hit, 0–1. */
  hitRate: number;
}

/** A window's summary under the public names. */
export function latencyStats(s: WindowSummary): LatencyStats {
  return {
    count: s.count,
    errors: s.errors,
    errorRate: s.errorRate,
    ratePerSecond: s.rate,
    meanMs: s.mean,
    p50Ms: s.p50,
    p95Ms: s.p95,
    p99Ms: s.p99,
    maxMs: s.max,
  };
}
