import type { Alert, AlertEngine } from './alerts.js';
import { splitSummary } from './breakdown.js';
import type { InsightBounds, InsightCollectors } from './collectors.js';
import { latencyStats, type CacheHitStats, type LatencyStats, type QueryStats, type RouteStats } from './figures.js';
import { HEALTH_DEFAULTS, computeHealth, trend, type HealthInput, type HealthOptions, type HealthReport } from './health.js';
import { requestThresholdOf, type InsightThresholds } from './options.js';
import { recommend } from './recommend.js';
import { RULE_COMPONENT } from './rules.js';
import type { RuntimeFigures } from './runtime.js';

/** The health report with what insight adds to it: trend and recommendations. */
export interface InsightHealth extends HealthReport {
  /** Score of the recent half of the window against the older half (resources left out of both). */
  trend: ReturnType<typeof trend>;
  /** Short advice in plain words; see docs/health-score.md. */
  recommendations: string[];
}

/** What the read model reads: the state the InsightProcessor owns. */
export interface ReadModelSource {
  collectors: InsightCollectors;
  engine: AlertEngine;
  /** The thresholds in force (the live object: changes show at once). */
  thresholds: InsightThresholds;
  /** The runtime figures now. */
  runtime: () => RuntimeFigures;
  windowMs: number;
  health?: HealthOptions;
}

/**
 * Everything insight knows, read-only, under one naming scheme (see {@link LatencyStats}):
 * the public API (`getHealth()`, `getAlerts()`, `getRoutes()`, `getQueries()`,
 * `getInsightStats()`), the admin API and the status page, and the health and alert metrics
 * all read it. Every read computes from the collectors as they are; nothing here changes them.
 */
export class InsightReadModel {
  private last: InsightHealth | undefined;

  constructor(private readonly s: ReadModelSource) {}

  /** The window every figure covers (ms). */
  get windowMs(): number {
    return this.s.windowMs;
  }

  /** A copy of the thresholds in force. */
  thresholds(): InsightThresholds {
    return { ...this.s.thresholds, routes: { ...this.s.thresholds.routes } };
  }

  /** The health report over the window, with its trend and recommendations. */
  health(): InsightHealth {
    return this.healthWith(this.s.runtime());
  }

  /** The report of the last evaluation (what the health gauges export), or a fresh one before the first. */
  latest(): InsightHealth {
    return this.last ?? this.health();
  }

  /** Keeps the report of an evaluation, with the runtime snapshot it judged (insight's timer calls this). */
  refresh(resources: RuntimeFigures): void {
    this.last = this.healthWith(resources);
  }

  /** Firing alerts, or resolved ones (newest first). */
  alerts(state: 'firing' | 'resolved' = 'firing'): Alert[] {
    return state === 'resolved' ? this.s.engine.history() : this.s.engine.active();
  }

  /** Every route seen in the window (or its last `windowMs`) with its figures and where its time goes, busiest first. */
  routes(windowMs?: number): RouteStats[] {
    const requests = this.s.collectors.requests;
    const out: RouteStats[] = [];
    for (const route of requests.activeKeys()) {
      const s = requests.summary(route, windowMs);
      if (!s) continue;
      const split = splitSummary(requests, route, windowMs);
      out.push({ route, ...latencyStats(s), thresholdMs: requestThresholdOf(this.s.thresholds, route), ...(split ? { split } : {}) });
    }
    return out.sort(busiestFirst);
  }

  /** Every statement seen in the window (or its last `windowMs`) with its figures, busiest first. */
  queries(windowMs?: number): QueryStats[] {
    const c = this.s.collectors;
    const out: QueryStats[] = [];
    for (const query of c.queries.activeKeys()) {
      const s = c.queries.summary(query, windowMs);
      if (s) out.push({ query, summary: c.summaryOf(query), ...latencyStats(s), thresholdMs: this.s.thresholds.queryMs });
    }
    return out.sort(busiestFirst);
  }

  /** Hit rate of every cache read in the window (or its last `windowMs`). */
  caches(windowMs?: number): CacheHitStats[] {
    const caches = this.s.collectors.caches;
    const out: CacheHitStats[] = [];
    for (const name of caches.activeKeys()) {
      const s = caches.summary(name, windowMs);
      if (s) out.push({ name, lookups: s.count, hitRate: (s.count - s.errors) / s.count });
    }
    return out;
  }

  /** All requests (or all queries) of the window together; undefined when there was none. */
  overall(what: 'requests' | 'queries', windowMs?: number): LatencyStats | undefined {
    const s = this.s.collectors[what].overall(windowMs);
    return s && latencyStats(s);
  }

  /** The runtime figures the rules read (see {@link RuntimeFigures}). */
  runtime(): RuntimeFigures {
    return this.s.runtime();
  }

  /** How full the bounded maps are and what they folded or forgot. */
  bounds(): InsightBounds {
    return this.s.collectors.bounds();
  }

  private healthWith(resources: RuntimeFigures): InsightHealth {
    const options = this.s.health;
    const active = this.s.engine.active();
    const alerts = active.map((a) => ({ component: RULE_COMPONENT[a.rule], severity: a.severity }));
    const windowMs = this.s.windowMs;
    const report = computeHealth({ ...this.healthInput(windowMs, 0), resources, alerts }, options);
    const half = windowMs / 2;
    const older = computeHealth(this.healthInput(windowMs, half), options).score;
    const recent = computeHealth(this.healthInput(half, 0), options).score;
    return {
      ...report,
      trend: trend(older, recent),
      recommendations: recommend({
        alerts: active,
        routes: this.routes(),
        caches: this.caches(),
        cacheHitTarget: options?.cacheHitTarget ?? HEALTH_DEFAULTS.cacheHitTarget,
        minCacheLookups: options?.minCacheLookups ?? HEALTH_DEFAULTS.minCacheLookups,
      }),
    };
  }

  /** Counts of one part of the window: [now − fromAgoMs, now − toAgoMs]. */
  private healthInput(fromAgoMs: number, toAgoMs: number): HealthInput {
    const c = this.s.collectors;
    const req = c.requests.totals(fromAgoMs, toAgoMs);
    const db = c.queries.totals(fromAgoMs, toAgoMs);
    const cache = c.caches.totals(fromAgoMs, toAgoMs);
    return {
      requests: { satisfied: req.satisfied, tolerating: req.tolerating, frustrated: req.frustrated },
      errors: req.count > 0 ? { total: req.count, failed: req.errors } : undefined,
      database: { satisfied: db.satisfied, tolerating: db.tolerating, frustrated: db.frustrated },
      cache: { hits: cache.count - cache.errors, misses: cache.errors },
    };
  }
}

function busiestFirst(a: LatencyStats, b: LatencyStats): number {
  return b.count * b.p50Ms - a.count * a.p50Ms;
}
