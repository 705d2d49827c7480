import { SpanKind, type Counter, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AlertEngine, severityOf, type Alert, type AlertEngineOptions, type AlertRule, type Transition } from './alerts.js';
import { TraceBreakdown } from './breakdown.js';
import { classify } from './classify.js';
import { HEALTH_DEFAULTS, computeHealth, trend, type HealthComponentName, type HealthInput, type HealthOptions, type HealthReport } from './health.js';
import { NPlusOneDetector, type NPlusOne } from './n-plus-one.js';
import { recommend, type CacheHitStats, type QueryStats, type RouteStats } from './recommend.js';
import { RuntimeMonitor, headroomRatio, type RuntimeFigures } from './runtime.js';
import { statementKey } from './statement.js';
export type { RuntimeFigures } from './runtime.js';
import { OTHER_KEY, RollingWindows, type Series, type WindowSummary } from './window.js';

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

/** Sequential queries of one statement under one span that make an N+1 (the threshold itself fires). */
const N_PLUS_ONE_QUERIES = 5;
/** An N+1 whose queries take less than this together (ms) is reported, but stays `low`. */
const N_PLUS_ONE_SLOW_MS = 50;
/** N+1 occurrences remembered per key. */
const N_PLUS_ONE_KEPT = 64;
/** A heap that would reach its limit within this long at its current growth fires heap_growth. */
const HEAP_GROWTH_HORIZON_MS = 600_000;
/** Growth is judged only once the heap uses this share of its limit. */
const HEAP_GROWTH_FLOOR = 0.5;
/** The health component each rule belongs to (its firing alerts cap that component). */
const COMPONENT_OF: Record<AlertRule, HealthComponentName> = {
  slow_request: 'responseTime',
  error_rate: 'errors',
  slow_query: 'database',
  n_plus_one: 'database',
  memory: 'resources',
  event_loop: 'resources',
};

interface Finding {
  at: number;
  queries: number;
  totalMs: number;
  traceId: string;
  spanId: string;
}



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
  private readonly nPlusOne = new NPlusOneDetector({ minQueries: N_PLUS_ONE_QUERIES });
  /** N+1 occurrences by key (`<route> → <statement>`), bounded by maxKeys. */
  private readonly nPlusOnes = new Map<string, { route: string | undefined; summary: string; findings: Finding[] }>();
  /** The summary of each statement key (for messages and getQueries()). */
  private readonly summaries = new Map<string, string>();
  private readonly ruleWindowMs: number;
  private readonly minSamples: number;
  private readonly warmEnd: number;
  private readonly now: () => number;
  private readonly exemplars = new Map<string, { traceId: string; spanId: string }>();
  private readonly listeners = new Set<(alert: Alert, transition: Transition) => void>();
  private readonly maxKeys: number;
  private readonly windowMs: number;
  private readonly runtimeMonitor: RuntimeMonitor;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly alertCounter: Counter | undefined;
  private lastHealth: InsightHealth | undefined;
  /** Spans onEnd could not take (a malformed span); never thrown to the SDK. */
  failed = 0;
  /** N+1 occurrences not kept because maxKeys N+1 keys were tracked already. */
  nPlusOneDropped = 0;

  constructor(private readonly o: InsightOptions = {}) {
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...o.thresholds, routes: { ...o.thresholds?.routes } };
    this.windowMs = o.windowMs ?? 300_000;
    this.now = o.now ?? Date.now;
    this.ruleWindowMs = Math.min(o.ruleWindowMs ?? 60_000, this.windowMs);
    this.minSamples = Math.max(1, o.minSamples ?? 20);
    this.warmEnd = this.now() + Math.max(0, o.warmupMs ?? 30_000);
    const windows = { windowMs: this.windowMs, maxKeys: o.maxKeys, now: o.now, cutAt: this.warmEnd };
    this.maxKeys = o.maxKeys ?? 200;
    this.requests = new RollingWindows({ ...windows, apdexMs: o.health?.requestThresholdMs ?? HEALTH_DEFAULTS.requestThresholdMs });
    this.queries = new RollingWindows({ ...windows, apdexMs: o.health?.queryThresholdMs ?? HEALTH_DEFAULTS.queryThresholdMs });
    this.caches = new RollingWindows({ ...windows, maxKeys: Math.min(this.maxKeys, 64), quantiles: false });
    this.breakdown = new TraceBreakdown({ maxTraces: o.maxPendingTraces });
    this.runtimeMonitor = new RuntimeMonitor({ memoryLimitBytes: o.memoryLimitBytes, heapLimitBytes: o.heapLimitBytes, eventLoopWindowMs: o.eventLoopWindowMs });
    this.engine = new AlertEngine({ ...o.alerts, now: this.now, onTransition: (a, t) => this.deliver(a, t) });
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
          // The request is over: the N+1 runs of its trace have their final length.
          const found = this.nPlusOne.endTrace(c.traceId);
          if (found) for (const f of found) this.recordNPlusOne(f, c.key, c.endMs);
          if (c.durationMs > this.requestThreshold(c.key)) this.exemplar(`slow_request:${c.key}`, c.traceId, c.spanId);
          if (c.error) this.exemplar(`error_rate:${c.key}`, c.traceId, c.spanId);
          return;
        }
        case 'query': {
          const summary = c.summary ?? c.key;
          const key = statementKey(c.system ?? 'other', summary, span.attributes['db.query.text']);
          if (!this.summaries.has(key) && this.summaries.size < this.maxKeys * 2) this.summaries.set(key, summary);
          this.queries.add(this.seriesOf(this.queries, key), c.durationMs, c.error, c.endMs);
          this.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'db', c.durationMs, c.summary, c.system === 'redis');
          if (c.durationMs > this.thresholds.queryMs) this.exemplar(`slow_query:${key}`, c.traceId, c.spanId);
          this.nPlusOne.observe({ traceId: c.traceId, parentSpanId: c.parentSpanId, key, summary, startMs: c.endMs - c.durationMs, endMs: c.endMs });
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
      // A local root that is not a request (a job, a consumer): its trace's work is over.
      if (c.parentSpanId === undefined || span.parentSpanContext?.isRemote) {
        const found = this.nPlusOne.endTrace(c.traceId);
        if (found) for (const f of found) this.recordNPlusOne(f, undefined, c.endMs);
      }
    } catch {
      this.failed++;
    }
  }

  /** Evaluates every rule (the timer calls this; tests may too). */
  evaluate(): void {
    try {
      const now = this.now();
      // Before the warm-up ends no latency rule judges; after it, only what ended after it counts.
      const warm = now >= this.warmEnd;
      const since = this.warmEnd;
      for (const key of this.requests.activeKeys()) {
        const threshold = this.requestThreshold(key);
        const slow = warm ? this.evidence(this.requests, key, this.minSamples, since) : undefined;
        if (slow) {
          const exemplar = this.exemplars.get(`slow_request:${key}`);
          this.engine.evaluate('slow_request', key, slow.s.p95, threshold, {
            exemplarTraceId: exemplar?.traceId,
            exemplarSpanId: exemplar?.spanId,
            message: `slow route ${key}: p95 ${num(slow.s.p95)} ms over ${num(threshold)} ms, ${num(slow.s.count)} requests in the last ${slow.span}`,
          });
        }
        const errors = this.evidence(this.requests, key, this.thresholds.errorMinSamples, -Infinity);
        if (errors) {
          const failed = this.exemplars.get(`error_rate:${key}`);
          this.engine.evaluate('error_rate', key, errors.s.errorRate, this.thresholds.errorRate, {
            exemplarTraceId: failed?.traceId,
            exemplarSpanId: failed?.spanId,
            message: `errors on ${key}: ${(errors.s.errorRate * 100).toFixed(1)}% of ${num(errors.s.count)} requests in the last ${errors.span}`,
          });
        }
      }
      for (const key of this.queries.activeKeys()) {
        const slow = warm ? this.evidence(this.queries, key, this.minSamples, since) : undefined;
        if (!slow) continue;
        const exemplar = this.exemplars.get(`slow_query:${key}`);
        this.engine.evaluate('slow_query', key, slow.s.p95, this.thresholds.queryMs, {
          exemplarTraceId: exemplar?.traceId,
          exemplarSpanId: exemplar?.spanId,
          message: `slow query ${key}: p95 ${num(slow.s.p95)} ms over ${num(this.thresholds.queryMs)} ms, ${num(slow.s.count)} queries in the last ${slow.span}`,
        });
      }
      for (const key of this.summaries.keys()) if (!this.queries.summary(key)) this.summaries.delete(key);
      if (warm) this.evaluateNPlusOne(now);
      this.caches.activeKeys();
      const r = this.runtimeMonitor.sample(now);
      this.evaluateMemory(r, warm);
      if (warm && Number.isFinite(r.eventLoopDelayP99Ms)) {
        this.engine.evaluate('event_loop', 'p99', r.eventLoopDelayP99Ms, this.thresholds.eventLoopP99Ms, {
          message: `event-loop delay p99 ${num(r.eventLoopDelayP99Ms)} ms over ${num(this.thresholds.eventLoopP99Ms)} ms in the last ${during(this.runtimeMonitor.loopWindowMs)}`,
        });
      }
      this.engine.sweep();
      this.lastHealth = this.healthWith(r);
    } catch {
      // evaluation is best effort; the next tick tries again
    }
  }

  /**
   * What a rule may judge a key on: the rule window when it holds `min` samples, else the whole
   * window when that does; undefined when neither does (no evidence either way).
   */
  private evidence(windows: RollingWindows, key: string, min: number, since: number): { s: WindowSummary; span: string } | undefined {
    const recent = windows.summary(key, this.ruleWindowMs, since);
    if (recent && recent.count >= min) return { s: recent, span: during(this.ruleWindowMs) };
    if (this.ruleWindowMs >= this.windowMs) return undefined;
    const all = windows.summary(key, this.windowMs, since);
    return all && all.count >= min ? { s: all, span: during(this.windowMs) } : undefined;
  }

  /** One N+1 occurrence, once its request (or root span) ended. */
  private recordNPlusOne(f: NPlusOne, route: string | undefined, at: number): void {
    if (at < this.warmEnd) return;
    const key = route ? `${route} → ${f.key}` : f.key;
    let entry = this.nPlusOnes.get(key);
    if (!entry) {
      if (this.nPlusOnes.size >= this.maxKeys) {
        this.nPlusOneDropped++;
        return;
      }
      this.nPlusOnes.set(key, (entry = { route, summary: f.summary, findings: [] }));
    }
    entry.findings.push({ at, queries: f.queries, totalMs: f.totalMs, traceId: f.traceId, spanId: f.parentSpanId });
    if (entry.findings.length > N_PLUS_ONE_KEPT) entry.findings.shift();
  }

  /**
   * n_plus_one over the rule window: the median loop length of the occurrences there (so one
   * loop of 12 reads 12 every time). Requests of the route without any occurrence are
   * evidence that it is gone; a route without requests leaves the alert to expire.
   */
  private evaluateNPlusOne(now: number): void {
    for (const [key, e] of this.nPlusOnes) {
      const recent = e.findings.filter((f) => f.at >= now - this.ruleWindowMs);
      if (recent.length === 0) {
        if (e.findings.every((f) => f.at < now - this.windowMs)) this.nPlusOnes.delete(key);
        const ran = e.route !== undefined ? this.requests.summary(e.route, this.ruleWindowMs) : undefined;
        if (ran) this.engine.evaluate('n_plus_one', key, 0, N_PLUS_ONE_QUERIES, { inclusive: true });
        continue;
      }
      const queries = median(recent.map((f) => f.queries));
      const totalMs = median(recent.map((f) => f.totalMs));
      const last = recent[recent.length - 1];
      const where = e.route ? `per ${e.route} request` : 'under one span';
      this.engine.evaluate('n_plus_one', key, queries, N_PLUS_ONE_QUERIES, {
        inclusive: true,
        maxSeverity: totalMs < N_PLUS_ONE_SLOW_MS ? 'low' : undefined,
        exemplarTraceId: last.traceId,
        exemplarSpanId: last.spanId,
        message: `N+1: ${num(queries)} sequential "${e.summary}" queries ${where} (${num(totalMs)} ms), ${recent.length === 1 ? 'once' : `${num(recent.length)} times`} in the last ${during(this.ruleWindowMs)}`,
      });
    }
  }

  /**
   * memory: the old-generation heap against its limit, its growth (how soon it would reach the
   * limit), and RSS against the memory limit. Severity climbs with how much of the headroom
   * above the threshold is used up, so a heap at 95 % or an RSS over its limit is critical.
   */
  private evaluateMemory(r: RuntimeFigures, warm: boolean): void {
    if (r.heapLimit > 0) {
      const share = r.heapUsed / r.heapLimit;
      this.engine.evaluate('memory', 'heap', share, this.thresholds.heapRatio, {
        ratio: headroomRatio(share, this.thresholds.heapRatio),
        message: `heap ${mib(r.heapUsed)} MiB, ${pctOf(share)} of its ${mib(r.heapLimit)} MiB limit`,
      });
      const growth = this.runtimeMonitor.heapGrowth();
      if (warm && growth !== undefined) {
        const left = Math.max(0, r.heapLimit - r.heapUsed);
        const judged = growth > 0 && share >= HEAP_GROWTH_FLOOR;
        const msToLimit = judged ? left / growth : Infinity;
        this.engine.evaluate('memory', 'heap_growth', judged ? HEAP_GROWTH_HORIZON_MS / Math.max(1, msToLimit) : 0, 1, {
          message: `heap grows ${num((growth * 60_000) / 2 ** 20)} MiB/min: at this rate it reaches its ${mib(r.heapLimit)} MiB limit in ${during(msToLimit)} (${mib(r.heapUsed)} MiB used)`,
        });
      }
    }
    if (r.memoryLimit > 0) {
      const share = r.rss / r.memoryLimit;
      this.engine.evaluate('memory', 'rss', share, this.thresholds.rssRatio, {
        ratio: headroomRatio(share, this.thresholds.rssRatio),
        message: `RSS ${mib(r.rss)} MiB, ${pctOf(share)} of the ${mib(r.memoryLimit)} MiB limit`,
      });
    }
  }


  /** The health report over the window, with its trend and recommendations. */
  health(): InsightHealth {
    return this.healthWith(this.resources());
  }

  /** The health report with a runtime snapshot already taken (evaluate() has one). */
  private healthWith(resources: RuntimeFigures): InsightHealth {
    const alerts = this.engine.active().map((a) => ({ component: COMPONENT_OF[a.rule], severity: a.severity }));
    const report = computeHealth({ ...this.healthInput(this.windowMs, 0), resources, alerts }, this.o.health);
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

  /** Every statement seen in the window with its figures, most total time first. */
  queryStats(windowMs?: number): QueryStats[] {
    const out: QueryStats[] = [];
    for (const query of this.queries.activeKeys()) {
      const s = this.queries.summary(query, windowMs);
      if (s) out.push({ query, summary: this.summaries.get(query) ?? query, count: s.count, errorRate: s.errorRate, p50: s.p50, p95: s.p95, p99: s.p99, rate: s.rate, thresholdMs: this.thresholds.queryMs });
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

  /** The runtime figures the rules read (see {@link RuntimeFigures}). */
  runtime(): RuntimeFigures {
    return this.resources();
  }

  /** The window length (ms). */
  get window(): number {
    return this.windowMs;
  }

  /** How much the bounds held back: keys folded into `_other`, traces and N+1 groups forgotten. */
  bounds(): {
    routesFolded: number;
    queriesFolded: number;
    cachesFolded: number;
    tracesAbandoned: number;
    nPlusOneEvicted: number;
    nPlusOneDropped: number;
    keys: { routes: number; queries: number; caches: number; pendingTraces: number; nPlusOne: number };
  } {
    return {
      routesFolded: this.requests.folded,
      queriesFolded: this.queries.folded,
      cachesFolded: this.caches.folded,
      tracesAbandoned: this.breakdown.abandoned,
      nPlusOneEvicted: this.nPlusOne.evicted,
      nPlusOneDropped: this.nPlusOneDropped,
      keys: { routes: this.requests.size, queries: this.queries.size, caches: this.caches.size, pendingTraces: this.breakdown.size, nPlusOne: this.nPlusOnes.size },
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
    this.runtimeMonitor.shutdown();
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

  private resources(): RuntimeFigures {
    return this.runtimeMonitor.figures();
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

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `60 s`, `5 min`, `2.5 min`. */
function during(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  return ms >= 120_000 ? `${num(ms / 60_000)} min` : `${num(Math.round(ms / 1000))} s`;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const num = (n: number) => NUMBER.format(Math.round(n));
const mib = (bytes: number) => num(bytes / 2 ** 20);
const pctOf = (share: number) => `${num(share * 100)}%`;

