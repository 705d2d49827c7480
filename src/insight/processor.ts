import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;
import { SpanKind, type Counter, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AlertEngine, severityOf, type Alert, type AlertEngineOptions, type Transition } from './alerts.js';
import { classify } from './classify.js';
import { HEALTH_DEFAULTS, apdexBucket, computeHealth, trend, type HealthOptions, type HealthReport } from './health.js';
import { NPlusOneDetector } from './n-plus-one.js';
import { RollingWindows } from './window.js';

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
}

export const DEFAULT_THRESHOLDS: Readonly<InsightThresholds> = Object.freeze({
  requestMs: 1000,
  routes: {},
  queryMs: 100,
  errorRate: 0.05,
  errorMinSamples: 20,
  heapRatio: 0.85,
  eventLoopP99Ms: 200,
});

export interface InsightOptions {
  thresholds?: Partial<InsightThresholds>;
  /** Rolling window of every figure. @default 300000 */
  windowMs?: number;
  /** How often rules are evaluated (an unref'd timer). @default 5000 */
  evaluateIntervalMs?: number;
  /** Distinct routes / statements tracked; later ones fold into `_other`. @default 200 */
  maxKeys?: number;
  alerts?: Omit<AlertEngineOptions, 'onTransition' | 'now'>;
  health?: HealthOptions;
  /** Where `healthspan.alerts` and the health gauges are recorded. */
  meter?: Meter;
  /** One line per alert transition (rate-limited by the engine's cooldown). */
  warn?: (line: string) => void;
  now?: () => number;
}

const ALL = '__all__';
const RESOLUTION_MS = 20;

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
  private readonly totals: RollingWindows;
  private readonly nPlusOne = new NPlusOneDetector();
  private readonly exemplars = new Map<string, string>();
  private readonly listeners = new Set<(alert: Alert, transition: Transition) => void>();
  private readonly maxKeys: number;
  private readonly loop: IntervalHistogram | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly alertCounter: Counter | undefined;
  private previousScore: number | undefined;
  private lastHealth: HealthReport | undefined;

  constructor(private readonly o: InsightOptions = {}) {
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...o.thresholds, routes: { ...o.thresholds?.routes } };
    const windows = { windowMs: o.windowMs, maxKeys: o.maxKeys, now: o.now };
    this.maxKeys = o.maxKeys ?? 200;
    this.requests = new RollingWindows(windows);
    this.queries = new RollingWindows(windows);
    // Read as counters only (Apdex buckets, totals, cache results): no sketch to feed.
    this.totals = new RollingWindows({ ...windows, maxKeys: 16, quantiles: false });
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
      if (span.kind !== SpanKind.SERVER && span.kind !== SpanKind.CLIENT) return;
      const a = span.attributes;
      const [s, ns] = span.duration;
      const ms = s * 1e3 + ns / 1e6;
      let threshold: number | undefined;
      if (span.kind === SpanKind.SERVER && typeof a['http.route'] === 'string') threshold = this.requestThreshold(`${a['http.request.method']} ${a['http.route']}`);
      else if (span.kind === SpanKind.CLIENT && a['db.system.name'] !== undefined) threshold = this.thresholds.queryMs;
      if (threshold === undefined || ms <= threshold) return;
      span.setAttribute('healthspan.slow', true);
      span.setAttribute('healthspan.slow.severity', severityOf(ms / threshold) ?? 'low');
    } catch {
      // tagging is a convenience; the span must end regardless
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      const c = classify(span);
      if (c.class === 'request') {
        this.requests.record(c.key, c.durationMs, c.error);
        this.totals.record(ALL, c.durationMs, c.error);
        this.totals.record(`apdex:${apdexBucket(c.durationMs, this.o.health?.requestThresholdMs ?? HEALTH_DEFAULTS.requestThresholdMs, c.error)}`, 0);
        if (c.durationMs > this.requestThreshold(c.key)) this.exemplar(`slow_request:${c.key}`, c.traceId);
        if (c.error) this.exemplar(`error_rate:${c.key}`, c.traceId);
      } else if (c.class === 'query') {
        this.queries.record(c.key, c.durationMs, c.error);
        this.totals.record(`db:${apdexBucket(c.durationMs, this.o.health?.queryThresholdMs ?? HEALTH_DEFAULTS.queryThresholdMs, c.error)}`, 0);
        if (c.durationMs > this.thresholds.queryMs) this.exemplar(`slow_query:${c.key}`, c.traceId);
        const start = span.startTime[0] * 1e3 + span.startTime[1] / 1e6;
        const found = this.nPlusOne.observe({ traceId: c.traceId, parentSpanId: c.parentSpanId, summary: c.summary ?? c.key, startMs: start, endMs: start + c.durationMs });
        if (found) {
          this.engine.evaluate('n_plus_one', c.key, found.queries, 5, {
            inclusive: true,
            exemplarTraceId: found.traceId,
            message: `N+1: ${found.queries} sequential "${found.summary}" queries under one span (${Math.round(found.totalMs)} ms)`,
          });
        }
      } else if (c.class === 'cache') {
        this.totals.record(c.hit ? 'cache:hit' : 'cache:miss', 0);
      }
    } catch {
      // never throw into the span pipeline
    }
  }

  /** Evaluates every rule over the window (the timer calls this; tests may too). */
  evaluate(): void {
    try {
      for (const key of this.requests.activeKeys()) {
        const s = this.requests.summary(key);
        if (!s) continue;
        this.engine.evaluate('slow_request', key, s.p95, this.requestThreshold(key), {
          exemplarTraceId: this.exemplars.get(`slow_request:${key}`),
          message: `slow route ${key}: p95 ${Math.round(s.p95)} ms over ${this.requestThreshold(key)} ms`,
        });
        if (s.count >= this.thresholds.errorMinSamples) {
          this.engine.evaluate('error_rate', key, s.errorRate, this.thresholds.errorRate, {
            exemplarTraceId: this.exemplars.get(`error_rate:${key}`),
            message: `errors on ${key}: ${(s.errorRate * 100).toFixed(1)}% of ${s.count} requests`,
          });
        }
      }
      for (const key of this.queries.activeKeys()) {
        const s = this.queries.summary(key);
        if (!s) continue;
        this.engine.evaluate('slow_query', key, s.p95, this.thresholds.queryMs, {
          exemplarTraceId: this.exemplars.get(`slow_query:${key}`),
          message: `slow query ${key}: p95 ${Math.round(s.p95)} ms over ${this.thresholds.queryMs} ms`,
        });
      }
      const r = this.resources();
      if (r.heapLimit > 0) this.engine.evaluate('memory', 'heap', r.heapUsed / r.heapLimit, this.thresholds.heapRatio, { message: `heap at ${Math.round((r.heapUsed / r.heapLimit) * 100)}% of its limit` });
      if (Number.isFinite(r.eventLoopDelayP99Ms)) {
        this.engine.evaluate('event_loop', 'p99', r.eventLoopDelayP99Ms, this.thresholds.eventLoopP99Ms, { message: `event-loop delay p99 ${Math.round(r.eventLoopDelayP99Ms)} ms` });
      }
      const health = this.health();
      this.previousScore = this.lastHealth?.score;
      this.lastHealth = health;
    } catch {
      // evaluation is best effort; the next tick tries again
    }
  }

  /** The health report over the window, with its trend against the previous evaluation. */
  health(): HealthReport & { trend: ReturnType<typeof trend> } {
    const count = (k: string) => this.totals.summary(k)?.count ?? 0;
    const all = this.totals.summary(ALL);
    const report = computeHealth(
      {
        requests: { satisfied: count('apdex:satisfied'), tolerating: count('apdex:tolerating'), frustrated: count('apdex:frustrated') },
        errors: all ? { total: all.count, failed: all.errors } : undefined,
        resources: this.resources(),
        database: { satisfied: count('db:satisfied'), tolerating: count('db:tolerating'), frustrated: count('db:frustrated') },
        cache: { hits: count('cache:hit'), misses: count('cache:miss') },
      },
      this.o.health,
    );
    return { ...report, trend: trend(this.previousScore ?? this.lastHealth?.score, report.score) };
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
    return this.thresholds.routes[key] ?? this.thresholds.requestMs;
  }

  private exemplar(id: string, traceId: string): void {
    if (!this.exemplars.has(id) && this.exemplars.size >= this.maxKeys * 4) {
      const oldest = this.exemplars.keys().next().value;
      if (oldest !== undefined) this.exemplars.delete(oldest);
    }
    this.exemplars.set(id, traceId);
  }

  private resources() {
    const heap = getHeapStatistics();
    // The histogram counts its own sampling interval in every value: take it off.
    const p99 = this.loop && this.loop.count > 0 ? Math.max(0, this.loop.percentile(99) / 1e6 - RESOLUTION_MS) : Number.NaN;
    return { heapUsed: heap.used_heap_size, heapLimit: heap.heap_size_limit, eventLoopDelayP99Ms: p99 };
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
