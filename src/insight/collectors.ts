import { TraceBreakdown, type SplitTotals } from './breakdown.js';
import { HEALTH_DEFAULTS, type HealthOptions } from './health.js';
import { NPlusOneDetector, NPlusOneLog } from './n-plus-one.js';
import { RollingWindows } from './window.js';

/** Sequential queries of one statement under one span that make an N+1 (the threshold itself fires). */
export const N_PLUS_ONE_QUERIES = 5;
/** N+1 occurrences remembered per route and statement. */
const N_PLUS_ONE_KEPT = 64;
/** Distinct caches counted. */
const MAX_CACHES = 64;

export interface CollectorOptions {
  windowMs: number;
  /** Distinct routes / statements (and N+1 pairs) tracked. */
  maxKeys: number;
  /** The warm-up's end: windows cut a slice there, and no N+1 ended before it is kept. */
  warmEnd: number;
  maxPendingTraces?: number;
  health?: HealthOptions;
  now?: () => number;
}

/** The latest trace and span that showed a problem. */
export interface Exemplar {
  traceId: string;
  spanId: string;
}

/**
 * The latest exemplar of each key of one rule, bounded: past the bound the key noted first is
 * forgotten. Noting a key again updates its exemplar in place (no allocation).
 */
export class ExemplarMap {
  private readonly map = new Map<string, Exemplar>();

  constructor(private readonly max: number) {}

  note(key: string, traceId: string, spanId: string): void {
    const found = this.map.get(key);
    if (found) {
      found.traceId = traceId;
      found.spanId = spanId;
      return;
    }
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, { traceId, spanId });
  }

  get(key: string): Exemplar | undefined {
    return this.map.get(key);
  }
}

/** How full insight's bounded maps are, and what their bounds folded or forgot. */
export interface InsightBounds {
  routesFolded: number;
  queriesFolded: number;
  cachesFolded: number;
  tracesAbandoned: number;
  nPlusOneEvicted: number;
  nPlusOneDropped: number;
  keys: { routes: number; queries: number; caches: number; pendingTraces: number; nPlusOne: number };
}

/**
 * Everything insight remembers between two evaluations, each part bounded: the ingest
 * processor fills it on the span path, the rules and the read model read it on the timer and
 * on demand, and {@link prune} (the timer) forgets what left the window.
 */
export class InsightCollectors {
  /** Requests by `METHOD /route`, with each slice's time split. */
  readonly requests: RollingWindows<SplitTotals>;
  /** Queries by statement key (see statement.ts). */
  readonly queries: RollingWindows;
  /** Cache reads by cache name: count = lookups, errors = misses. */
  readonly caches: RollingWindows;
  /** Child operations of requests still running (the time split). */
  readonly breakdown: TraceBreakdown;
  /** Runs of one statement under one parent, per trace still running. */
  readonly nPlusOne = new NPlusOneDetector({ minQueries: N_PLUS_ONE_QUERIES });
  /** N+1 occurrences of traces that ended, by route and statement. */
  readonly nPlusOnes: NPlusOneLog;
  /** The latest exemplar per rule and key. */
  readonly exemplars: { readonly slowRequest: ExemplarMap; readonly errorRate: ExemplarMap; readonly slowQuery: ExemplarMap };
  /** The summary of each statement key (for messages and the query figures). */
  private readonly summaries = new Map<string, string>();
  private readonly maxSummaries: number;

  constructor(o: CollectorOptions) {
    const windows = { windowMs: o.windowMs, maxKeys: o.maxKeys, now: o.now, cutAt: o.warmEnd };
    this.requests = new RollingWindows({ ...windows, apdexMs: o.health?.requestThresholdMs ?? HEALTH_DEFAULTS.requestThresholdMs });
    this.queries = new RollingWindows({ ...windows, apdexMs: o.health?.queryThresholdMs ?? HEALTH_DEFAULTS.queryThresholdMs });
    this.caches = new RollingWindows({ ...windows, maxKeys: Math.min(o.maxKeys, MAX_CACHES), quantiles: false });
    this.breakdown = new TraceBreakdown({ maxTraces: o.maxPendingTraces });
    this.nPlusOnes = new NPlusOneLog({ maxKeys: o.maxKeys, keep: N_PLUS_ONE_KEPT, since: o.warmEnd });
    // Twice the keys a window tracks: keys that came and went do not push out live ones at once.
    const exemplars = 2 * o.maxKeys;
    this.exemplars = { slowRequest: new ExemplarMap(exemplars), errorRate: new ExemplarMap(exemplars), slowQuery: new ExemplarMap(exemplars) };
    this.maxSummaries = 2 * o.maxKeys;
  }

  /** Remembers the summary of a statement key (the first one seen), within its bound. */
  noteSummary(key: string, summary: string): void {
    if (!this.summaries.has(key) && this.summaries.size < this.maxSummaries) this.summaries.set(key, summary);
  }

  /** The summary of a statement key (the key itself when none was kept). */
  summaryOf(key: string): string {
    return this.summaries.get(key) ?? key;
  }

  /** Forgets what left the window: slices and keys, summaries of statements gone, N+1 pairs with no occurrence left. */
  prune(now: number, windowMs: number): void {
    this.requests.prune();
    this.queries.prune();
    this.caches.prune();
    for (const key of this.summaries.keys()) if (!this.queries.has(key)) this.summaries.delete(key);
    this.nPlusOnes.prune(now - windowMs);
  }

  bounds(): InsightBounds {
    return {
      routesFolded: this.requests.folded,
      queriesFolded: this.queries.folded,
      cachesFolded: this.caches.folded,
      tracesAbandoned: this.breakdown.abandoned,
      nPlusOneEvicted: this.nPlusOne.evicted,
      nPlusOneDropped: this.nPlusOnes.dropped,
      keys: {
        routes: this.requests.size,
        queries: this.queries.size,
        caches: this.caches.size,
        pendingTraces: this.breakdown.size,
        nPlusOne: this.nPlusOnes.size,
      },
    };
  }
}
