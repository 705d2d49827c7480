import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SpanKind, type Counter, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AlertEngine, severityOf, type Alert, type AlertEngineOptions, type Transition } from './alerts.js';
import { TraceBreakdown } from './breakdown.js';
import { classify } from './classify.js';
import { HEALTH_DEFAULTS, computeHealth, trend, type HealthInput, type HealthOptions, type HealthReport } from './health.js';
import { NPlusOneDetector } from './n-plus-one.js';
import { recommend, type CacheHitStats, type QueryStats, type RouteStats } from './recommend.js';
import { OTHER_KEY, RollingWindows, type Series, type WindowSummary } from './window.js';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

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
  /** How often rules are evaluated (an unref'd timer). @default 5000 */
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

const RESOLUTION_MS = 20;

/** The health report with what insight adds to it: trend and recommendations. */
export interface InsightHealth extends HealthReport {
  /** Score of the recent half of the window against the older half (resources left out of both). */
  trend: ReturnType<typeof trend>;
  /** Short advice in plain words; see docs/health-score.md. */
  recommendations: string[];
}

/**
 * Insight from the spans already flowing: one classification per ended span feeds bounded
 * rolling windows; rules are evaluated on a timer (never on the span path); a span slower
 * than its threshold is tagged `healthspan.slow` before it ends, so it is easy to find in a
 * trace backend. onEnd is synchronous, cheap and never throws; recorded-but-unsampled spans
 * count the same as sampled ones.
 */
export class InsightProcessor implements SpanProcessor {
  readonly thresholds: InsightThresholds;
  readonly engine: AlertEngine;
  private readonly requests: RollingWindows;
  private readonly queries: RollingWindows;
  /** Cache reads by cache name: count = lookups, errors = misses. */
  private readonly caches: RollingWindows;
  private readonly breakdown: TraceBreakdown;
  private readonly nPlusOne = new NPlusOneDetector();
  private readonly exemplars = new Map<string, { traceId: string; spanId: string }>();
  private readonly listeners = new Set<(alert: Alert, transition: Transition) => void>();
  private readonly maxKeys: number;
  private readonly windowMs: number;
  private readonly memoryLimit: number;
  private readonly loop: IntervalHistogram | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly alertCounter: Counter | undefined;
  private lastHealth: InsightHealth | undefined;
  /** Spans onEnd could not take (a malformed span); never thrown to the SDK. */
  failed = 0;

  constructor(private readonly o: InsightOptions = {}) {
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...o.thresholds, routes: { ...o.thresholds?.routes } };
    this.windowMs = o.windowMs ?? 300_000;
    const windows = { windowMs: this.windowMs, maxKeys: o.maxKeys, now: o.now };
    this.maxKeys = o.maxKeys ?? 200;
    this.requests = new RollingWindows({ ...windows, apdexMs: o.health?.requestThresholdMs ?? HEALTH_DEFAULTS.requestThresholdMs });
    this.queries = new RollingWindows({ ...windows, apdexMs: o.health?.queryThresholdMs ?? HEALTH_DEFAULTS.queryThresholdMs });
    this.caches = new RollingWindows({ ...windows, maxKeys: Math.min(this.maxKeys, 64), quantiles: false });
    this.breakdown = new TraceBreakdown({ maxTraces: o.maxPendingTraces });
    this.memoryLimit = o.memoryLimitBytes ?? detectMemoryLimit();
    this.engine = new AlertEngine({ ...o.alerts, now: o.now, onTransition: (a, t) => this.deliver(a, t) });
    try {
      this.loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.loop.enable();
    } catch {
      this.loop = undefined;
    }
    const every = o.evaluateIntervalMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => this.evaluate(), every);
      this.timer.unref();
    }
    if (o.meter) this.alertCounter = this.registerMetrics(o.meter);
  }

  onStart(): void {}

  onEnding(span: Span): void {
    try {
      const kind = span.kind;
      let threshold: number;
      const a = span.attributes;
      if (kind === SpanKind.SERVER) {
        const route = a['http.route'];
        if (typeof route !== 'string') return;
        // Per-route overrides are rare: build the key only when there are some.
        threshold = this.hasRouteOverrides() ? this.requestThreshold(`${a['http.request.method']} ${route}`) : this.thresholds.requestMs;
      } else if (kind === SpanKind.CLIENT && a['db.system.name'] !== undefined) {
        threshold = this.thresholds.queryMs;
      } else return;
      const [s, ns] = span.duration;
      const ms = s * 1e3 + ns / 1e6;
      if (ms <= threshold) return;
      span.setAttribute('healthspan.slow', true);
      span.setAttribute('healthspan.slow.severity', severityOf(ms / threshold) ?? 'low');
    } catch {
      // tagging is a convenience; the span must end regardless
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      const c = classify(span);
      switch (c.class) {
        case 'request': {
          const slice = this.requests.add(this.seriesOf(this.requests, c.key), c.durationMs, c.error, c.endMs);
          const split = this.breakdown.take(c.traceId, c.durationMs);
          if (split) this.requests.split(slice, split);
          this.nPlusOne.endParent(c.traceId, c.spanId);
          if (c.durationMs > this.requestThreshold(c.key)) this.exemplar(`slow_request:${c.key}`, c.traceId, c.spanId);
          if (c.error) this.exemplar(`error_rate:${c.key}`, c.traceId, c.spanId);
          break;
        }
        case 'query': {
          this.queries.add(this.seriesOf(this.queries, c.key), c.durationMs, c.error, c.endMs);
          this.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'db', c.durationMs, c.summary);
          if (c.durationMs > this.thresholds.queryMs) this.exemplar(`slow_query:${c.key}`, c.traceId, c.spanId);
          const found = this.nPlusOne.observe({ traceId: c.traceId, parentSpanId: c.parentSpanId, summary: c.summary ?? c.key, startMs: c.endMs - c.durationMs, endMs: c.endMs });
          if (found) {
            this.engine.evaluate('n_plus_one', c.key, found.queries, 5, {
              inclusive: true,
              exemplarTraceId: found.traceId,
              exemplarSpanId: found.parentSpanId,
              message: `N+1: ${found.queries} sequential "${found.summary}" queries under one span (${Math.round(found.totalMs)} ms)`,
            });
          }
          break;
        }
        case 'outgoing':
          this.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'http', c.durationMs);
          break;
        case 'cache':
          this.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'cache', c.durationMs);
          if (c.hit !== undefined) this.caches.add(this.seriesOf(this.caches, c.key), 0, !c.hit, c.endMs);
          break;
        default:
      }
    } catch {
      this.failed++;
    }
  }

  /** Evaluates every rule over the window (the timer calls this; tests may too). */
  evaluate(): void {
    try {
      for (const key of this.requests.activeKeys()) {
        const s = this.requests.summary(key);
        if (!s) continue;
        const slow = this.exemplars.get(`slow_request:${key}`);
        this.engine.evaluate('slow_request', key, s.p95, this.requestThreshold(key), {
          exemplarTraceId: slow?.traceId,
          exemplarSpanId: slow?.spanId,
          message: `slow route ${key}: p95 ${Math.round(s.p95)} ms over ${this.requestThreshold(key)} ms`,
        });
        if (s.count >= this.thresholds.errorMinSamples) {
          const failed = this.exemplars.get(`error_rate:${key}`);
          this.engine.evaluate('error_rate', key, s.errorRate, this.thresholds.errorRate, {
            exemplarTraceId: failed?.traceId,
            exemplarSpanId: failed?.spanId,
            message: `errors on ${key}: ${(s.errorRate * 100).toFixed(1)}% of ${s.count} requests`,
          });
        }
      }
      for (const key of this.queries.activeKeys()) {
        const s = this.queries.summary(key);
        if (!s) continue;
        const slow = this.exemplars.get(`slow_query:${key}`);
        this.engine.evaluate('slow_query', key, s.p95, this.thresholds.queryMs, {
          exemplarTraceId: slow?.traceId,
          exemplarSpanId: slow?.spanId,
          message: `slow query ${key}: p95 ${Math.round(s.p95)} ms over ${this.thresholds.queryMs} ms`,
        });
      }
      this.caches.activeKeys();
      const r = this.resources();
      if (r.heapLimit > 0) this.engine.evaluate('memory', 'heap', r.heapUsed / r.heapLimit, this.thresholds.heapRatio, { message: `heap at ${Math.round((r.heapUsed / r.heapLimit) * 100)}% of its limit` });
      if (this.memoryLimit > 0) {
        this.engine.evaluate('memory', 'rss', r.rss / this.memoryLimit, this.thresholds.rssRatio, {
          message: `RSS ${Math.round(r.rss / 2 ** 20)} MiB, ${Math.round((r.rss / this.memoryLimit) * 100)}% of the ${Math.round(this.memoryLimit / 2 ** 20)} MiB limit`,
        });
      }
      if (Number.isFinite(r.eventLoopDelayP99Ms)) {
        this.engine.evaluate('event_loop', 'p99', r.eventLoopDelayP99Ms, this.thresholds.eventLoopP99Ms, { message: `event-loop delay p99 ${Math.round(r.eventLoopDelayP99Ms)} ms` });
      }
      this.lastHealth = this.healthWith(r);
    } catch {
      // evaluation is best effort; the next tick tries again
    }
  }

  /** The health report over the window, with its trend and recommendations. */
  health(): InsightHealth {
    return this.healthWith(this.resources());
  }

  /** The health report with a runtime snapshot already taken (evaluate() has one). */
  private healthWith(resources: ReturnType<InsightProcessor['resources']>): InsightHealth {
    const report = computeHealth({ ...this.healthInput(this.windowMs, 0), resources }, this.o.health);
    const half = this.windowMs / 2;
    const older = computeHealth(this.healthInput(this.windowMs, half), this.o.health).score;
    const recent = computeHealth(this.healthInput(half, 0), this.o.health).score;
    const routes = this.routes();
    const h = this.o.health ?? {};
    return {
      ...report,
      trend: trend(older, recent),
      recommendations: recommend({
        alerts: this.engine.active(),
        routes,
        caches: this.cacheStats(),
        cacheHitTarget: h.cacheHitTarget ?? HEALTH_DEFAULTS.cacheHitTarget,
        minCacheLookups: h.minCacheLookups ?? HEALTH_DEFAULTS.minCacheLookups,
      }),
    };
  }

  /** Every route seen in the window (or its last `windowMs`) with its figures and where its time goes, busiest first. */
  routes(windowMs?: number): RouteStats[] {
    const out: RouteStats[] = [];
    for (const route of this.requests.activeKeys()) {
      const s = this.requests.summary(route, windowMs);
      if (!s) continue;
      const split = this.requests.splitSummary(route, windowMs);
      out.push({ route, count: s.count, errorRate: s.errorRate, p50: s.p50, p95: s.p95, p99: s.p99, rate: s.rate, thresholdMs: this.requestThreshold(route), ...(split ? { split } : {}) });
    }
    return out.sort((a, b) => b.count * b.p50 - a.count * a.p50);
  }

  /** Every statement summary seen in the window with its figures, most total time first. */
  queryStats(windowMs?: number): QueryStats[] {
    const out: QueryStats[] = [];
    for (const query of this.queries.activeKeys()) {
      const s = this.queries.summary(query, windowMs);
      if (s) out.push({ query, count: s.count, errorRate: s.errorRate, p50: s.p50, p95: s.p95, p99: s.p99, rate: s.rate, thresholdMs: this.thresholds.queryMs });
    }
    return out.sort((a, b) => b.count * b.p50 - a.count * a.p50);
  }

  /** Hit rate of every cache read in the window. */
  cacheStats(windowMs?: number): CacheHitStats[] {
    const out: CacheHitStats[] = [];
    for (const name of this.caches.activeKeys()) {
      const s = this.caches.summary(name, windowMs);
      if (s) out.push({ name, lookups: s.count, hitRate: (s.count - s.errors) / s.count });
    }
    return out;
  }

  /** All requests (or all queries) of the window together: count, rate, quantiles, mean, error rate. */
  overall(what: 'requests' | 'queries', windowMs?: number): WindowSummary | undefined {
    return (what === 'requests' ? this.requests : this.queries).overall(windowMs);
  }

  /** The runtime figures the rules read: heap, RSS, event-loop delay p99 (ms, NaN before any sample). */
  runtime(): { heapUsed: number; heapLimit: number; rss: number; eventLoopDelayP99Ms: number } {
    return this.resources();
  }

  /** The window length (ms). */
  get window(): number {
    return this.windowMs;
  }

  /** How much the bounds held back: keys folded into `_other`, traces and N+1 groups forgotten. */
  bounds(): { routesFolded: number; queriesFolded: number; cachesFolded: number; tracesAbandoned: number; nPlusOneEvicted: number; keys: { routes: number; queries: number; caches: number; pendingTraces: number } } {
    return {
      routesFolded: this.requests.folded,
      queriesFolded: this.queries.folded,
      cachesFolded: this.caches.folded,
      tracesAbandoned: this.breakdown.abandoned,
      nPlusOneEvicted: this.nPlusOne.evicted,
      keys: { routes: this.requests.size, queries: this.queries.size, caches: this.caches.size, pendingTraces: this.breakdown.size },
    };
  }

  onAlert(listener: (alert: Alert, transition: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes thresholds at once (validated by the caller). */
  setThresholds(t: Partial<InsightThresholds>): void {
    Object.assign(this.thresholds, t, t.routes ? { routes: { ...this.thresholds.routes, ...t.routes } } : {});
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.loop?.disable();
    return Promise.resolve();
  }

  private requestThreshold(key: string): number {
    return this.hasRouteOverrides() ? (this.thresholds.routes[key] ?? this.thresholds.requestMs) : this.thresholds.requestMs;
  }

  private hasRouteOverrides(): boolean {
    for (const _ in this.thresholds.routes) return true;
    return false;
  }

  /** The series of a key, counting an observation folded into `_other`. */
  private seriesOf(windows: RollingWindows, key: string): Series {
    const series = windows.series(key);
    if (series.key === OTHER_KEY && key !== OTHER_KEY) windows.folded++;
    return series;
  }

  /** Counts of one part of the window: [now − fromAgoMs, now − toAgoMs]. */
  private healthInput(fromAgoMs: number, toAgoMs: number): HealthInput {
    const req = this.requests.totals(fromAgoMs, toAgoMs);
    const db = this.queries.totals(fromAgoMs, toAgoMs);
    const cache = this.caches.totals(fromAgoMs, toAgoMs);
    return {
      requests: { satisfied: req.satisfied, tolerating: req.tolerating, frustrated: req.frustrated },
      errors: req.count > 0 ? { total: req.count, failed: req.errors } : undefined,
      database: { satisfied: db.satisfied, tolerating: db.tolerating, frustrated: db.frustrated },
      cache: { hits: cache.count - cache.errors, misses: cache.errors },
    };
  }

  private exemplar(id: string, traceId: string, spanId: string): void {
    if (!this.exemplars.has(id) && this.exemplars.size >= this.maxKeys * 4) {
      const oldest = this.exemplars.keys().next().value;
      if (oldest !== undefined) this.exemplars.delete(oldest);
    }
    this.exemplars.set(id, { traceId, spanId });
  }

  private resources() {
    const heap = getHeapStatistics();
    // The histogram counts its own sampling interval in every value: take it off.
    const p99 = this.loop && this.loop.count > 0 ? Math.max(0, this.loop.percentile(99) / 1e6 - RESOLUTION_MS) : Number.NaN;
    return { heapUsed: heap.used_heap_size, heapLimit: heap.heap_size_limit, eventLoopDelayP99Ms: p99, rss: process.memoryUsage.rss() };
  }

  private deliver(alert: Alert, transition: Transition): void {
    this.alertCounter?.add(1, { 'alert.rule': alert.rule, 'alert.severity': alert.severity, 'alert.state': transition === 'resolved' ? 'resolved' : 'firing' });
    this.o.warn?.(`alert ${transition} [${alert.severity}] ${alert.message}${alert.exemplarTraceId ? ` (trace ${alert.exemplarTraceId})` : ''}`);
    for (const l of this.listeners) {
      try {
        l(alert, transition);
      } catch {
        // a listener's failure stays with the listener
      }
    }
  }

  private registerMetrics(meter: Meter): Counter {
    const counter = meter.createCounter('healthspan.alerts', { unit: '{alert}', description: 'Alert transitions, by rule, severity and state.' });
    const active = meter.createObservableGauge('healthspan.alerts.active', { unit: '{alert}', description: 'Alerts firing now, by rule and severity.' });
    const score = meter.createObservableGauge('healthspan.health.score', { unit: '1', description: 'Health score, 0–100.' });
    const component = meter.createObservableGauge('healthspan.health.component.score', { unit: '1', description: 'Health score of each component, 0–100.' });
    meter.addBatchObservableCallback(
      (result) => {
        const byRule = new Map<string, number>();
        for (const a of this.engine.active()) byRule.set(`${a.rule}|${a.severity}`, (byRule.get(`${a.rule}|${a.severity}`) ?? 0) + 1);
        for (const [k, n] of byRule) {
          const [rule, severity] = k.split('|');
          result.observe(active, n, { 'alert.rule': rule, 'alert.severity': severity });
        }
        const h = this.lastHealth ?? this.health();
        if (h.score !== undefined) result.observe(score, h.score);
        for (const c of h.components) result.observe(component, c.score, { 'healthspan.health.component': c.name });
      },
      [active, score, component],
    );
    return counter;
  }
}

/** The cgroup memory limit, when the process runs under one; 0 when there is none to judge RSS by. */
function detectMemoryLimit(): number {
  try {
    const limit = process.constrainedMemory();
    // Without a limit Node reports 0 or a huge sentinel; a limit above the machine is no limit.
    return limit > 0 && limit < totalmem() ? limit : 0;
  } catch {
    return 0;
  }
}
