/**
 * Pure health-score calculator. The insight processor aggregates rolling windows into counts
 * and calls {@link computeHealth}; nothing here keeps state, reads clocks or touches
 * OpenTelemetry, so every rule is testable with plain numbers.
 *
 * Rules (each component scores 0–100):
 * - responseTime, database: 100 × Apdex, Apdex = (satisfied + tolerating / 2) / total.
 * - errors: error rate r against budget b: r ≤ b → 100, r ≥ 10·b → 0, linear in between,
 *   so a service at 5.5× its budget scores 50.
 * - resources: the worst of heap pressure (heapUsed / heapLimit), RSS against the memory
 *   limit (when one is known) and event-loop delay p99, each 100 at or below its "good"
 *   threshold, 0 at or above its "bad" one, linear between.
 * - cache: 100 × hitRate / target, 100 from the target up.
 * - A component with no data, fewer samples than its minimum, or weight 0 is left out and
 *   the remaining weights are renormalised; with none left the score is `undefined` —
 *   "no traffic" must not read as "perfectly healthy".
 * - Firing alerts cap the score, so the score never reads healthy while an alert says
 *   otherwise: the component an alert belongs to is capped by its severity
 *   ({@link COMPONENT_CAP}), and the total by the most severe one ({@link TOTAL_CAP}).
 * - total = min(weighted mean, alert cap, worst counted component + maxAboveWorst (off by default)).
 */

import type { Severity } from './alerts.js';
import { formatNumber } from './number-format.js';

/** The highest a component may score while an alert of that severity belongs to it. */
export const COMPONENT_CAP: Readonly<Record<Severity, number>> = Object.freeze({ low: 80, medium: 60, high: 40, critical: 10 });
/** The highest the total may score while an alert of that severity fires. */
export const TOTAL_CAP: Readonly<Record<Severity, number>> = Object.freeze({ low: 94, medium: 84, high: 70, critical: 45 });
const SEVERITY_ORDER: Severity[] = ['low', 'medium', 'high', 'critical'];

export type ApdexBucket = 'satisfied' | 'tolerating' | 'frustrated';

/** Operations already classified against an Apdex threshold T (see {@link apdexBucket}). */
export interface ApdexCounts {
  satisfied: number;
  tolerating: number;
  frustrated: number;
}

export interface HealthInput {
  /** Server requests classified against `requestThresholdMs`; 5xx answers as frustrated. */
  requests?: ApdexCounts;
  /** Requests in the window and how many failed (5xx). */
  errors?: { total: number; failed: number };
  /**
   * Latest runtime snapshot (bytes, ms); counts whenever given. A signal that cannot be
   * measured (heapLimit ≤ 0, a NaN p99 from an empty histogram) is skipped, not scored 0.
   */
  resources?: { heapUsed: number; heapLimit: number; eventLoopDelayP99Ms: number; rss?: number; memoryLimit?: number };
  /** Database queries classified against `queryThresholdMs`; failed queries as frustrated. */
  database?: ApdexCounts;
  /** Cache lookups in the window. */
  cache?: { hits: number; misses: number };
  /** Alerts firing now, with the component each belongs to (see the module comment). */
  alerts?: { component: HealthComponentName; severity: Severity }[];
}

export type HealthComponentName = 'responseTime' | 'errors' | 'resources' | 'database' | 'cache';
export type HealthWeights = Record<HealthComponentName, number>;
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';
export type HealthTrend = 'improving' | 'stable' | 'degrading' | 'unknown';

export interface HealthOptions {
  /**
   * Relative weight per component; 0 leaves a component out. Renormalised over the
   * components that count. @default { responseTime: 30, errors: 25, resources: 20, database: 15, cache: 10 }
   */
  weights?: Partial<HealthWeights>;
  /** Apdex T for requests (ms): satisfied ≤ T, tolerating ≤ 4T. @default 500 */
  requestThresholdMs?: number;
  /** Apdex T for database queries (ms). @default 100 */
  queryThresholdMs?: number;
  /** Error budget as a share of requests (0.01 = 1%). @default 0.01 */
  errorBudget?: number;
  /** heapUsed / heapLimit at or below which heap scores 100. @default 0.7 */
  heapGood?: number;
  /** heapUsed / heapLimit at or above which heap scores 0. @default 0.95 */
  heapBad?: number;
  /** RSS / memory limit at or below which RSS scores 100. @default 0.8 */
  rssGood?: number;
  /** RSS / memory limit at or above which RSS scores 0. @default 1 */
  rssBad?: number;
  /** Event-loop delay p99 (ms) at or below which it scores 100. @default 50 */
  eventLoopDelayGoodMs?: number;
  /** Event-loop delay p99 (ms) at or above which it scores 0. @default 500 */
  eventLoopDelayBadMs?: number;
  /** Cache hit rate (0–1) that scores 100. @default 0.8 */
  cacheHitTarget?: number;
  /** Requests needed before responseTime and errors count. @default 20 */
  minRequests?: number;
  /** Queries needed before database counts. @default 20 */
  minQueries?: number;
  /** Cache lookups needed before cache counts. @default 20 */
  minCacheLookups?: number;
  /** How far the total may sit above the worst counted component; 100 turns this off. @default 100 */
  maxAboveWorst?: number;
}

export type ResolvedHealthOptions = Required<Omit<HealthOptions, 'weights'>> & { weights: HealthWeights };

/** The defaults, for callers that classify with the same T as the score reports. */
export const HEALTH_DEFAULTS: Readonly<ResolvedHealthOptions> = Object.freeze({
  weights: Object.freeze({ responseTime: 30, errors: 25, resources: 20, database: 15, cache: 10 }),
  requestThresholdMs: 500,
  queryThresholdMs: 100,
  errorBudget: 0.01,
  heapGood: 0.7,
  heapBad: 0.95,
  rssGood: 0.8,
  rssBad: 1,
  eventLoopDelayGoodMs: 50,
  eventLoopDelayBadMs: 500,
  cacheHitTarget: 0.8,
  minRequests: 20,
  minQueries: 20,
  minCacheLookups: 20,
  maxAboveWorst: 100,
});

export interface HealthComponent {
  name: HealthComponentName;
  /** Integer 0–100. */
  score: number;
  /** Effective weight after renormalisation; the weights of a report sum to 1. */
  weight: number;
  /** Operations behind the score (1 for the resources snapshot). */
  samples: number;
  /** Plain words, e.g. `Apdex 0.93 over 1,200 requests (T = 500 ms)`. */
  detail: string;
}

export interface HealthReport {
  /** Integer 0–100, or undefined when no component has enough data. */
  score: number | undefined;
  /** The most severe firing alert that capped the total, and the cap (absent when none did). */
  cappedBy?: { severity: Severity; cap: number };
  status: HealthStatus;
  /** Only the components that counted, in a fixed order. */
  components: HealthComponent[];
}

/** Apdex class of one operation; a failed one (5xx, query error) is always frustrated. */
export function apdexBucket(durationMs: number, t: number, failed = false): ApdexBucket {
  if (failed) return 'frustrated';
  if (durationMs <= t) return 'satisfied';
  return durationMs <= 4 * t ? 'tolerating' : 'frustrated'; // NaN lands here: frustrated
}

/** Counts for a list of durations; `failed[i]` marks operation i as failed. */
export function apdexCounts(durationsMs: number[], t: number, failed?: boolean[]): ApdexCounts {
  const c: ApdexCounts = { satisfied: 0, tolerating: 0, frustrated: 0 };
  for (let i = 0; i < durationsMs.length; i++) c[apdexBucket(durationsMs[i]!, t, failed?.[i] === true)]++;
  return c;
}

/** Compares two scores; a change within ±tolerance is noise, not a trend. */
export function trend(previous: number | undefined, current: number | undefined, tolerance = 5): HealthTrend {
  if (previous === undefined || current === undefined) return 'unknown';
  if (current - previous > tolerance) return 'improving';
  return previous - current > tolerance ? 'degrading' : 'stable';
}

/** Scores what has enough data; see the module comment for the rules. */
export function computeHealth(input: HealthInput, options: HealthOptions = {}): HealthReport {
  const o: ResolvedHealthOptions = {
    ...HEALTH_DEFAULTS,
    ...stripUndefined(options),
    weights: { ...HEALTH_DEFAULTS.weights, ...stripUndefined(options.weights ?? {}) },
  };
  const raw: { name: HealthComponentName; value: number; samples: number; detail: string }[] = [];
  const add = (name: HealthComponentName, value: number, samples: number, detail: string) => {
    if (count(o.weights[name]) > 0) raw.push({ name, value, samples, detail });
  };

  const req = input.requests && apdex(input.requests);
  if (req && req.total >= o.minRequests) {
    add('responseTime', 100 * req.apdex, req.total, `Apdex ${req.apdex.toFixed(2)} over ${num(req.total)} requests (T = ${num(o.requestThresholdMs)} ms)`);
  }
  const total = count(input.errors?.total);
  if (input.errors && total > 0 && total >= o.minRequests) {
    const rate = Math.min(1, count(input.errors.failed) / total);
    add(
      'errors',
      falling(rate, o.errorBudget, 10 * o.errorBudget),
      total,
      `error rate ${pct(rate)} over ${num(total)} requests (budget ${pct(o.errorBudget)})`,
    );
  }
  const res = input.resources;
  if (res) {
    const parts: { value: number; text: string }[] = [];
    const heapLimit = count(res.heapLimit);
    if (heapLimit > 0) {
      const pressure = count(res.heapUsed) / heapLimit;
      parts.push({ value: falling(pressure, o.heapGood, o.heapBad), text: `heap ${pct(pressure)} of limit` });
    }
    const memoryLimit = count(res.memoryLimit);
    if (memoryLimit > 0 && res.rss !== undefined) {
      const share = count(res.rss) / memoryLimit;
      parts.push({ value: falling(share, o.rssGood, o.rssBad), text: `RSS ${pct(share)} of the memory limit` });
    }
    if (Number.isFinite(res.eventLoopDelayP99Ms)) {
      const p99 = count(res.eventLoopDelayP99Ms);
      parts.push({ value: falling(p99, o.eventLoopDelayGoodMs, o.eventLoopDelayBadMs), text: `event-loop delay p99 ${num(p99)} ms` });
    }
    if (parts.length > 0) add('resources', Math.min(...parts.map((p) => p.value)), 1, parts.map((p) => p.text).join(', '));
  }
  const db = input.database && apdex(input.database);
  if (db && db.total >= o.minQueries) {
    add('database', 100 * db.apdex, db.total, `Apdex ${db.apdex.toFixed(2)} over ${num(db.total)} queries (T = ${num(o.queryThresholdMs)} ms)`);
  }
  if (input.cache) {
    const hits = count(input.cache.hits);
    const lookups = hits + count(input.cache.misses);
    if (lookups > 0 && lookups >= o.minCacheLookups) {
      const rate = hits / lookups;
      add(
        'cache',
        rate >= o.cacheHitTarget ? 100 : (100 * rate) / o.cacheHitTarget,
        lookups,
        `hit rate ${pct(rate)} over ${num(lookups)} lookups (target ${pct(o.cacheHitTarget)})`,
      );
    }
  }

  if (raw.length === 0) return { score: undefined, status: 'unknown', components: [] };
  // A firing alert caps the component it belongs to, and the most severe one the total.
  let worstAlert: Severity | undefined;
  for (const a of input.alerts ?? []) {
    if (!worstAlert || SEVERITY_ORDER.indexOf(a.severity) > SEVERITY_ORDER.indexOf(worstAlert)) worstAlert = a.severity;
    const c = raw.find((r) => r.name === a.component);
    const cap = COMPONENT_CAP[a.severity];
    if (c && cap !== undefined && c.value > cap) {
      c.value = cap;
      c.detail += `; capped at ${cap} by a firing ${a.severity} alert`;
    }
  }
  const weightSum = raw.reduce((s, c) => s + count(o.weights[c.name]), 0);
  const components = raw.map((c) => ({
    name: c.name,
    score: round(c.value),
    weight: count(o.weights[c.name]) / weightSum,
    samples: c.samples,
    detail: c.detail,
  }));
  // Raw (unrounded) values feed the total so rounding happens once, at the end.
  const mean = raw.reduce((s, c, i) => s + c.value * components[i].weight, 0);
  const worst = Math.min(...raw.map((c) => c.value));
  const alertCap = worstAlert ? TOTAL_CAP[worstAlert] : 100;
  const uncapped = Math.min(mean, worst + count(o.maxAboveWorst));
  const score = round(Math.min(uncapped, alertCap));
  const report: HealthReport = { score, status: score >= 80 ? 'healthy' : score >= 50 ? 'degraded' : 'unhealthy', components };
  if (worstAlert && alertCap < uncapped) report.cappedBy = { severity: worstAlert, cap: alertCap };
  return report;
}

/** Lower is better: 100 at or below `good`, 0 at or above `bad`, linear in between. */
function falling(value: number, good: number, bad: number): number {
  if (value <= good) return 100;
  return value >= bad ? 0 : (100 * (bad - value)) / (bad - good);
}

function apdex(c: ApdexCounts): { apdex: number; total: number } {
  const s = count(c.satisfied);
  const t = count(c.tolerating);
  const total = s + t + count(c.frustrated);
  return { apdex: total > 0 ? (s + t / 2) / total : 0, total };
}

/** Counts and measurements from callers may be NaN or negative; treat those as 0. */
function count(x: number | undefined): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

/** Clears float noise first, so 49.99999999 reads as 50 rather than rounding on chance. */
function round(x: number): number {
  return Math.min(100, Math.max(0, Math.round(Math.round(x * 1e6) / 1e6)));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const num = (n: number) => formatNumber(n, 1);
const pct = (r: number) => `${num(r * 100)}%`;
