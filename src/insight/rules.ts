import type { AlertRule, EvaluateExtra } from './alerts.js';
import { N_PLUS_ONE_QUERIES, type ExemplarMap, type InsightCollectors } from './collectors.js';
import type { HealthComponentName } from './health.js';
import { requestThresholdOf, type InsightThresholds } from './options.js';
import { headroomRatio, type RuntimeFigures } from './runtime.js';
import type { RollingWindows, WindowSummary } from './window.js';
import { formatNumber } from './number-format.js';

/** What a rule may read at one evaluation (a snapshot taken by the timer). */
export interface RuleInput {
  readonly now: number;
  /** The warm-up is over. */
  readonly warm: boolean;
  /** The warm-up's end: latency rules read only what ended after it. */
  readonly since: number;
  readonly collectors: InsightCollectors;
  readonly thresholds: InsightThresholds;
  readonly runtime: RuntimeFigures;
  /** Growth of the heap's floor (bytes/ms), undefined until it can be told. */
  readonly heapGrowth: number | undefined;
  /** How long the event-loop p99 of `runtime` was read over (ms). */
  readonly loopWindowMs: number;
  readonly windowMs: number;
  readonly ruleWindowMs: number;
  /** Samples of a key the latency rules need. */
  readonly minSamples: number;
}

/** Feeds one observation of the rule being run, for one key, to the alert engine. */
export type Judge = (key: string, observed: number, threshold: number, extra?: EvaluateExtra) => void;

/** One alert rule: run by insight's timer, in {@link RULES} order, never on the span path. */
export interface InsightRule {
  readonly name: AlertRule;
  /** The health component its firing alerts cap (docs/health-score.md). */
  readonly component: HealthComponentName;
  /** What it reads, in words. */
  readonly reads: string;
  /** Judges nothing until the warm-up is over (docs/alerts.md, cold start). */
  readonly afterWarmup: boolean;
  /** Judges every key it has evidence on: observed value, threshold, exemplar, message. */
  run(input: RuleInput, judge: Judge): void;
}

/** An N+1 whose queries take less than this together (ms) is reported, but stays `low`. */
const N_PLUS_ONE_SLOW_MS = 50;
/** A heap that would reach its limit within this long at its current growth fires heap_growth. */
const HEAP_GROWTH_HORIZON_MS = 600_000;
/** Growth is judged only once the heap uses this share of its limit. */
const HEAP_GROWTH_FLOOR = 0.5;

/**
 * What a rule may judge a key on: the rule window when it holds `min` samples, else the whole
 * window when that does; undefined when neither does (no evidence either way).
 */
function evidence<T>(input: RuleInput, windows: RollingWindows<T>, key: string, min: number, since: number): { s: WindowSummary; span: string } | undefined {
  const recent = windows.summary(key, input.ruleWindowMs, since);
  if (recent && recent.count >= min) return { s: recent, span: during(input.ruleWindowMs) };
  if (input.ruleWindowMs >= input.windowMs) return undefined;
  const all = windows.summary(key, input.windowMs, since);
  return all && all.count >= min ? { s: all, span: during(input.windowMs) } : undefined;
}

/**
 * A rule on one figure of each key of a window: the figure over the evidence, against the
 * key's threshold, with the latest exemplar the span path noted for that key.
 */
function windowRule<T>(o: {
  name: AlertRule;
  component: HealthComponentName;
  reads: string;
  /** Also: read only what ended after the warm-up. */
  afterWarmup: boolean;
  windows: (c: InsightCollectors) => RollingWindows<T>;
  minSamples: (input: RuleInput) => number;
  observed: (s: WindowSummary) => number;
  threshold: (t: InsightThresholds, key: string) => number;
  exemplars: (c: InsightCollectors) => ExemplarMap;
  message: (key: string, s: WindowSummary, threshold: number, span: string) => string;
}): InsightRule {
  return {
    name: o.name,
    component: o.component,
    reads: o.reads,
    afterWarmup: o.afterWarmup,
    run(input, judge) {
      const windows = o.windows(input.collectors);
      const exemplars = o.exemplars(input.collectors);
      const min = o.minSamples(input);
      for (const key of windows.activeKeys()) {
        const e = evidence(input, windows, key, min, o.afterWarmup ? input.since : -Infinity);
        if (!e) continue;
        const threshold = o.threshold(input.thresholds, key);
        const exemplar = exemplars.get(key);
        judge(key, o.observed(e.s), threshold, {
          exemplarTraceId: exemplar?.traceId,
          exemplarSpanId: exemplar?.spanId,
          message: o.message(key, e.s, threshold, e.span),
        });
      }
    },
  };
}

const slowRequest = windowRule({
  name: 'slow_request',
  component: 'responseTime',
  reads: 'the p95 of each route (request windows)',
  afterWarmup: true,
  windows: (c) => c.requests,
  minSamples: (input) => input.minSamples,
  observed: (s) => s.p95,
  threshold: requestThresholdOf,
  exemplars: (c) => c.exemplars.slowRequest,
  message: (key, s, threshold, span) => `slow route ${key}: p95 ${num(s.p95)} ms over ${num(threshold)} ms, ${num(s.count)} requests in the last ${span}`,
});

const errorRate = windowRule({
  name: 'error_rate',
  component: 'errors',
  reads: 'the share of failed requests of each route (request windows)',
  afterWarmup: false,
  windows: (c) => c.requests,
  minSamples: (input) => input.thresholds.errorMinSamples,
  observed: (s) => s.errorRate,
  threshold: (t) => t.errorRate,
  exemplars: (c) => c.exemplars.errorRate,
  message: (key, s, _threshold, span) => `errors on ${key}: ${(s.errorRate * 100).toFixed(1)}% of ${num(s.count)} requests in the last ${span}`,
});

const slowQuery = windowRule({
  name: 'slow_query',
  component: 'database',
  reads: 'the p95 of each statement (query windows)',
  afterWarmup: true,
  windows: (c) => c.queries,
  minSamples: (input) => input.minSamples,
  observed: (s) => s.p95,
  threshold: (t) => t.queryMs,
  exemplars: (c) => c.exemplars.slowQuery,
  message: (key, s, threshold, span) => `slow query ${key}: p95 ${num(s.p95)} ms over ${num(threshold)} ms, ${num(s.count)} queries in the last ${span}`,
});

/**
 * n_plus_one over the rule window: the median loop length of the occurrences there (so one
 * loop of 12 reads 12 every time). Requests of the route without any occurrence are evidence
 * that it is gone; a route without requests leaves the alert to expire.
 */
const nPlusOne: InsightRule = {
  name: 'n_plus_one',
  component: 'database',
  reads: 'the N+1 occurrences of ended requests, by route and statement (N+1 log), and whether the route still runs',
  afterWarmup: true,
  run(input, judge) {
    const { now, ruleWindowMs } = input;
    for (const e of input.collectors.nPlusOnes.entries()) {
      const recent = e.findings.filter((f) => f.at >= now - ruleWindowMs);
      if (recent.length === 0) {
        if (e.route !== undefined && input.collectors.requests.summary(e.route, ruleWindowMs)) judge(e.key, 0, N_PLUS_ONE_QUERIES, { inclusive: true });
        continue;
      }
      const queries = median(recent.map((f) => f.queries));
      const totalMs = median(recent.map((f) => f.totalMs));
      const last = recent[recent.length - 1];
      const where = e.route ? `per ${e.route} request` : 'under one span';
      judge(e.key, queries, N_PLUS_ONE_QUERIES, {
        inclusive: true,
        maxSeverity: totalMs < N_PLUS_ONE_SLOW_MS ? 'low' : undefined,
        exemplarTraceId: last.traceId,
        exemplarSpanId: last.spanId,
        message: `N+1: ${num(queries)} sequential "${e.summary}" queries ${where} (${num(totalMs)} ms), ${recent.length === 1 ? 'once' : `${num(recent.length)} times`} in the last ${during(ruleWindowMs)}`,
      });
    }
  },
};

/**
 * memory: the old-generation heap against its limit, its growth (how soon it would reach the
 * limit, once the warm-up is over), and RSS against the memory limit. Severity climbs with how
 * much of the headroom above the threshold is used up, so a heap at 95 % or an RSS over its
 * limit is critical.
 */
const memory: InsightRule = {
  name: 'memory',
  component: 'resources',
  reads: 'the runtime snapshot: old-generation heap and its growth, RSS',
  afterWarmup: false,
  run(input, judge) {
    const r = input.runtime;
    const t = input.thresholds;
    if (r.heapLimit > 0) {
      const share = r.heapUsed / r.heapLimit;
      judge('heap', share, t.heapRatio, {
        ratio: headroomRatio(share, t.heapRatio),
        message: `heap ${mib(r.heapUsed)} MiB, ${pctOf(share)} of its ${mib(r.heapLimit)} MiB limit`,
      });
      const growth = input.heapGrowth;
      if (input.warm && growth !== undefined) {
        const left = Math.max(0, r.heapLimit - r.heapUsed);
        const judged = growth > 0 && share >= HEAP_GROWTH_FLOOR;
        const msToLimit = judged ? left / growth : Infinity;
        judge('heap_growth', judged ? HEAP_GROWTH_HORIZON_MS / Math.max(1, msToLimit) : 0, 1, {
          message: `heap grows ${num((growth * 60_000) / 2 ** 20)} MiB/min: at this rate it reaches its ${mib(r.heapLimit)} MiB limit in ${during(msToLimit)} (${mib(r.heapUsed)} MiB used)`,
        });
      }
    }
    if (r.memoryLimit > 0) {
      const share = r.rss / r.memoryLimit;
      judge('rss', share, t.rssRatio, {
        ratio: headroomRatio(share, t.rssRatio),
        message: `RSS ${mib(r.rss)} MiB, ${pctOf(share)} of the ${mib(r.memoryLimit)} MiB limit`,
      });
    }
  },
};

const eventLoop: InsightRule = {
  name: 'event_loop',
  component: 'resources',
  reads: 'the runtime snapshot: event-loop delay p99 since the last evaluation',
  afterWarmup: true,
  run(input, judge) {
    const p99 = input.runtime.eventLoopDelayP99Ms;
    if (!Number.isFinite(p99)) return;
    const threshold = input.thresholds.eventLoopP99Ms;
    judge('p99', p99, threshold, { message: `event-loop delay p99 ${num(p99)} ms over ${num(threshold)} ms in the last ${during(input.loopWindowMs)}` });
  },
};

/** Every alert rule, in the order the timer runs them. */
export const RULES: readonly InsightRule[] = [slowRequest, errorRate, slowQuery, nPlusOne, memory, eventLoop];

/** The health component each rule belongs to (its firing alerts cap that component). */
export const RULE_COMPONENT = Object.fromEntries(RULES.map((r) => [r.name, r.component])) as Readonly<Record<AlertRule, HealthComponentName>>;

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

const num = (n: number) => formatNumber(Math.round(n), 0);
const mib = (bytes: number) => num(bytes / 2 ** 20);
const pctOf = (share: number) => `${num(share * 100)}%`;
