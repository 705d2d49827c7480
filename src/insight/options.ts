import type { Meter } from '@opentelemetry/api';
import type { AlertEngineOptions } from './alerts.js';
import type { HealthOptions } from './health.js';

export interface InsightThresholds {
  /** p95 of a route above this fires slow_request. @default 1000 */
  requestMs: number;
  /** Per-route overrides of requestMs, by `METHOD /route`. @default {} */
  routes: Record<string, number>;
  /** p95 of a statement summary above this fires slow_query. @default 100 */
  queryMs: number;
  /** Share of 5xx / error spans of a route above this fires error_rate. @default 0.05 */
  errorRate: number;
  /** Requests a route needs in the window before error_rate is judged. @default 20 */
  errorMinSamples: number;
  /** heap used / heap limit above this fires memory. @default 0.85 */
  heapRatio: number;
  /** Event-loop delay p99 above this (ms) fires event_loop. @default 200 */
  eventLoopP99Ms: number;
  /** RSS / memory limit above this fires memory (key `rss`), when a limit is known. @default 0.9 */
  rssRatio: number;
}

export const DEFAULT_THRESHOLDS: Readonly<InsightThresholds> = Object.freeze({
  requestMs: 1000,
  routes: {},
  queryMs: 100,
  errorRate: 0.05,
  errorMinSamples: 20,
  heapRatio: 0.85,
  eventLoopP99Ms: 200,
  rssRatio: 0.9,
});

export interface InsightOptions {
  thresholds?: Partial<InsightThresholds>;
  /** Rolling window of every figure. @default 300000 */
  windowMs?: number;
  /**
   * What the latency and error rules judge: the last `ruleWindowMs` of the window (whole
   * slices of a tenth of it, so 30–60 s by default), or the whole window when that part has
   * too few samples. Recent figures fire and resolve an alert within a minute. @default 60000
   */
  ruleWindowMs?: number;
  /** Requests of a route (queries of a statement) a rule needs before it judges their p95. @default 20 */
  minSamples?: number;
  /**
   * After construction, this long no slow_request, slow_query, n_plus_one or event_loop alert
   * fires, and what ended meanwhile never counts for one (cold pool, cold plans). @default 30000
   */
  warmupMs?: number;
  /** The old-generation limit the heap is judged against (bytes). @default from V8 (heap limit − young generation) */
  heapLimitBytes?: number;
  /** Shortest stretch the event-loop p99 is read over (ms). @default 5000 */
  eventLoopWindowMs?: number;
  /**
   * How often rules are evaluated and what left the window is forgotten (an unref'd timer);
   * 0 starts no timer: call `evaluate()` yourself. @default 5000
   */
  evaluateIntervalMs?: number;
  /** Distinct routes / statements tracked; later ones fold into `_other`. @default 200 */
  maxKeys?: number;
  /**
   * Memory the process may use (bytes), for the RSS part of the memory rule. @default the
   * cgroup limit (`process.constrainedMemory()`) when there is one; otherwise RSS is not judged
   */
  memoryLimitBytes?: number;
  /** Traces whose child operations are held until their request ends (time breakdown). @default 1000 */
  maxPendingTraces?: number;
  alerts?: Omit<AlertEngineOptions, 'onTransition' | 'now'>;
  health?: HealthOptions;
  /** Where `healthspan.alerts` and the health gauges are recorded. */
  meter?: Meter;
  /** One line per alert transition (rate-limited by the engine's cooldown). */
  warn?: (line: string) => void;
  now?: () => number;
}

/** The p95 threshold of a route (`METHOD /route`): its override, else `requestMs`. */
export function requestThresholdOf(t: InsightThresholds, route: string): number {
  return hasRouteOverrides(t) ? (t.routes[route] ?? t.requestMs) : t.requestMs;
}

/** Per-route overrides are rare: callers build a route key only when there are some. */
export function hasRouteOverrides(t: InsightThresholds): boolean {
  for (const _ in t.routes) return true;
  return false;
}
