import { liveCaches } from '../cache/registry.js';
import type { Alert } from '../insight/alerts.js';
import type { LatencyStats } from '../insight/figures.js';
import type { InsightThresholds } from '../insight/options.js';
import type { InsightReadModel } from '../insight/read-model.js';
import { HttpError } from './http-error.js';

// The admin API's insight answers, built from insight's read model alone (docs/admin.md).
// Figures follow the read model's one naming scheme: durations `…Ms`, rates `ratePerSecond`,
// shares 0–1, timestamps `…At` in milliseconds since the Unix epoch.

/** What the handler reads and changes; the SDK supplies the running instance's state. */
export interface AdminSource {
  /** Insight's read model; undefined when insight is off or healthspan is not started. */
  insight(): InsightReadModel | undefined;
  service(): string;
  /** The configured token (HEALTHSPAN_ADMIN_TOKEN), if any. */
  token(): string | undefined;
  /** Validates and applies (throws a TypeError naming the field). */
  setThresholds(changes: Partial<InsightThresholds>): InsightThresholds | undefined;
  /** Resolves a firing alert by hand: the alert, or undefined when none firing has that id. */
  resolveAlert(id: string): Alert | undefined;
}

export function needInsight(source: AdminSource): InsightReadModel {
  const insight = source.insight();
  if (!insight) throw new HttpError(503, 'insight is off (HEALTHSPAN_INSIGHT=false, or healthspan is not started)');
  return insight;
}

const finite = (n: number | undefined): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);

export function summary(source: AdminSource) {
  const insight = needInsight(source);
  const health = insight.health();
  const req = insight.overall('requests');
  const caches = insight.caches();
  const lookups = caches.reduce((n, c) => n + c.lookups, 0);
  const hits = caches.reduce((n, c) => n + c.lookups * c.hitRate, 0);
  const rt = insight.runtime();
  return {
    service: source.service(),
    status: health.status,
    score: health.score ?? null,
    trend: health.trend,
    alerts: { firing: insight.alerts().length },
    requests: {
      count: req?.count ?? 0,
      ratePerSecond: finite(req?.ratePerSecond),
      meanMs: finite(req?.meanMs),
      p95Ms: finite(req?.p95Ms),
      errorRate: finite(req?.errorRate),
    },
    cache: { lookups, hitRate: lookups > 0 ? hits / lookups : null },
    memory: { heapUsedBytes: rt.heapUsed, heapLimitBytes: rt.heapLimit, rssBytes: rt.rss },
    eventLoopDelayP99Ms: finite(rt.eventLoopDelayP99Ms),
    uptimeSeconds: Math.round(process.uptime()),
    windowMinutes: insight.windowMs / 60_000,
    generatedAt: Date.now(),
  };
}

export function analytics(source: AdminSource, query: URLSearchParams) {
  const insight = needInsight(source);
  const windowMinutes = insight.windowMs / 60_000;
  const raw = query.get('minutes');
  let minutes = windowMinutes;
  if (raw !== null) {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > windowMinutes)
      throw new HttpError(400, `minutes must be a whole number from 1 to ${windowMinutes} (the window), got ${JSON.stringify(raw)}`);
    minutes = n;
  }
  const windowMs = minutes * 60_000;
  const health = insight.health();
  return {
    minutes,
    health: { score: health.score ?? null, status: health.status, trend: health.trend, components: health.components },
    recommendations: health.recommendations,
    routes: insight.routes(windowMs),
    queries: insight.queries(windowMs),
    caches: insight.caches(windowMs),
    alerts: insight.alerts(),
    generatedAt: Date.now(),
  };
}

export function rawMetrics(source: AdminSource) {
  const insight = needInsight(source);
  // Loaded by the first request for these figures, not at start-up.
  const heap = (require('node:v8') as typeof import('node:v8')).getHeapStatistics();
  const mem = process.memoryUsage();
  const rt = insight.runtime();
  const figures = (s: LatencyStats | undefined) => s ?? { count: 0 };
  return {
    windowMinutes: insight.windowMs / 60_000,
    requests: { ...figures(insight.overall('requests')), byRoute: insight.routes() },
    database: { ...figures(insight.overall('queries')), byStatement: insight.queries() },
    memory: {
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      heapLimitBytes: heap.heap_size_limit,
      externalBytes: mem.external,
      arrayBuffersBytes: mem.arrayBuffers,
    },
    runtime: {
      eventLoopDelayP99Ms: rt.eventLoopDelayP99Ms,
      uptimeSeconds: process.uptime(),
      nodeVersion: process.version,
      pid: process.pid,
    },
    cache: liveCaches().map((c) => ({ name: c.name, ...c.stats() })),
    insight: insight.bounds(),
  };
}

export function alerts(source: AdminSource, query: URLSearchParams) {
  const insight = needInsight(source);
  const state = query.get('state') ?? 'firing';
  if (state !== 'firing' && state !== 'resolved') throw new HttpError(400, `state must be firing or resolved, got ${JSON.stringify(state)}`);
  return { state, alerts: insight.alerts(state) };
}

export function resolveAlert(source: AdminSource, id: string) {
  needInsight(source);
  const alert = source.resolveAlert(id);
  if (!alert) throw new HttpError(404, `no firing alert with id ${JSON.stringify(id)}`);
  return { resolved: alert };
}
