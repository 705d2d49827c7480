import { OTHER_KEY, type RollingWindows, type Slice } from './window.js';

/** Time of a request, split by where it went (ms). */
export interface TimeSplit {
  db: number;
  http: number;
  cache: number;
}

export type SplitCategory = keyof TimeSplit;

/**
 * What a route's window keeps per slice beside its own figures: the splits of the requests
 * recorded in that slice, summed, with the time of each statement summary.
 */
export interface SplitTotals extends TimeSplit {
  /** Requests whose split was added. */
  requests: number;
  queries: Map<string, number>;
}

/** Where a key's time went over the window: shares of its summed duration, 0–1. */
export interface SplitSummary {
  /** Requests the split was measured on. */
  requests: number;
  db: number;
  http: number;
  cache: number;
  /** 1 − the others: time in the service's own code (or in work we do not trace). */
  own: number;
  /** Statement summaries by their share of the key's time, largest first (at most 3). */
  topQueries: { summary: string; share: number }[];
}

/** Distinct statement summaries kept per slice of a route's split; more fold into `_other`. */
const MAX_SPLIT_QUERIES = 8;

export interface BreakdownOptions {
  /** Traces with child operations waiting for their request span to end. @default 1000 */
  maxTraces?: number;
  /** Child operations remembered per trace; later ones are added without de-duplication. @default 64 */
  maxPerTrace?: number;
}

/** A child operation as {@link addSplit} reads it. */
export interface SplitPart {
  /** Statement summary, for queries. */
  summary: string | undefined;
  ms: number;
  /** Set by {@link TraceBreakdown.take}: a query that counted (not nested in another part). */
  counted: boolean;
}

interface Part extends SplitPart {
  spanId: string;
  parentSpanId: string | undefined;
  category: SplitCategory;
  /** A Redis command: under a cache operation it is the cache's own L2 work. */
  redis: boolean;
}

interface Pending {
  parts: Part[];
  /** Time of the parts past `maxPerTrace`, by category (not checked for nesting). */
  db: number;
  http: number;
  cache: number;
}

/**
 * One request's time, split. `queries` lists the counted queries (parts nested in another
 * counted part are left out); multiply their ms by `scale` to get their share of the request.
 */
export interface RequestSplit extends TimeSplit {
  scale: number;
  queries: readonly SplitPart[];
}

/**
 * Where a request's time goes. Child operations of a trace (queries, outgoing HTTP calls,
 * cache operations) are remembered as they end; when the trace's request span ends, their
 * time is summed by category and the rest is the service's own code.
 *
 * An operation inside another counted one (the Redis command under a cache lookup) is left
 * out so its time is not counted twice — except the work of a loader under a cache operation
 * that missed (a database query, an HTTP call inside `wrap()`): that counts in its own
 * category and is taken off the cache's time. Parallel operations can add up to more than the
 * request took: the split is then scaled down to the request's duration. Memory is bounded by
 * `maxTraces × maxPerTrace`; traces forgotten before their request ended (background work
 * with no request span, or the bound) are counted in {@link abandoned}.
 */
export class TraceBreakdown {
  private readonly traces = new Map<string, Pending>();
  private readonly maxTraces: number;
  private readonly maxPerTrace: number;
  /** Traces forgotten because the bound was reached before their request span ended. */
  abandoned = 0;

  constructor(o: BreakdownOptions = {}) {
    this.maxTraces = o.maxTraces ?? 1000;
    this.maxPerTrace = o.maxPerTrace ?? 64;
  }

  get size(): number {
    return this.traces.size;
  }

  /** Remembers one ended child operation of a trace. */
  add(traceId: string, spanId: string, parentSpanId: string | undefined, category: SplitCategory, ms: number, summary?: string, redis = false): void {
    if (!(ms > 0) || parentSpanId === undefined) return; // a root operation is nobody's child
    let p = this.traces.get(traceId);
    if (!p) {
      if (this.traces.size >= this.maxTraces) {
        const oldest = this.traces.keys().next().value;
        if (oldest !== undefined) this.traces.delete(oldest);
        this.abandoned++;
      }
      p = { parts: [], db: 0, http: 0, cache: 0 };
      this.traces.set(traceId, p);
    }
    if (p.parts.length < this.maxPerTrace) p.parts.push({ spanId, parentSpanId, category, ms, summary, counted: false, redis });
    else p[category] += ms;
  }

  /**
   * The split of the request span `spanId` of `traceId`, which took `totalMs`, forgetting
   * the trace. Undefined when no child operation was seen.
   */
  take(traceId: string, totalMs: number): RequestSplit | undefined {
    const p = this.traces.get(traceId);
    if (!p) return undefined;
    this.traces.delete(traceId);
    let db = p.db;
    let http = p.http;
    let cache = p.cache;
    const parts = p.parts;
    let loaders = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const parent = parentOf(parts, part.parentSpanId);
      if (parent) {
        // A loader's query or call under a counted cache operation: its own time, not the cache's.
        if (parent.category !== 'cache' || parentOf(parts, parent.parentSpanId) || (part.category === 'db' && part.redis) || part.category === 'cache')
          continue;
        loaders += part.ms;
      }
      if (part.category === 'db') {
        db += part.ms;
        part.counted = part.summary !== undefined;
      } else if (part.category === 'http') http += part.ms;
      else cache += part.ms;
    }
    cache = Math.max(0, cache - loaders);
    const sum = db + http + cache;
    const scale = sum > totalMs && sum > 0 ? totalMs / sum : 1;
    return { db: db * scale, http: http * scale, cache: cache * scale, scale, queries: parts };
  }
}

/** The part that is a part's parent, if its parent is one. */
function parentOf(parts: Part[], parentSpanId: string | undefined): Part | undefined {
  for (let i = 0; i < parts.length; i++) if (parts[i].spanId === parentSpanId) return parts[i];
  return undefined;
}

/**
 * Adds where one request's time went to the slice the request was recorded in (see
 * {@link RollingWindows.record}). Each counted query with a summary adds `ms × scale` to that
 * summary's time.
 */
export function addSplit(slice: Slice<SplitTotals>, split: RequestSplit): void {
  const s = (slice.data ??= { db: 0, http: 0, cache: 0, requests: 0, queries: new Map() });
  s.requests++;
  s.db += split.db;
  s.http += split.http;
  s.cache += split.cache;
  const queries = split.queries;
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i];
    if (!q.counted || q.summary === undefined) continue;
    const key = s.queries.size < MAX_SPLIT_QUERIES || s.queries.has(q.summary) ? q.summary : OTHER_KEY;
    s.queries.set(key, (s.queries.get(key) ?? 0) + q.ms * split.scale);
  }
}

/** Where a route's time went over its last `windowMs`, or undefined without any split recorded. */
export function splitSummary(windows: RollingWindows<SplitTotals>, key: string, windowMs?: number): SplitSummary | undefined {
  let total = 0;
  let requests = 0;
  const sums = { db: 0, http: 0, cache: 0 };
  const queries = new Map<string, number>();
  for (const s of windows.slices(key, windowMs)) {
    const split = s.data;
    if (!split) continue;
    // Only the requests that carried a split: their share of the slice's time.
    total += s.count > 0 ? (s.sumMs * split.requests) / s.count : 0;
    requests += split.requests;
    sums.db += split.db;
    sums.http += split.http;
    sums.cache += split.cache;
    for (const [q, ms] of split.queries) queries.set(q, (queries.get(q) ?? 0) + ms);
  }
  if (requests === 0 || !(total > 0)) return undefined;
  const share = (ms: number) => Math.min(1, ms / total);
  const db = share(sums.db);
  const http = share(sums.http);
  const cache = share(sums.cache);
  return {
    requests,
    db,
    http,
    cache,
    own: Math.max(0, 1 - db - http - cache),
    topQueries: [...queries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([summary, ms]) => ({ summary, share: share(ms) })),
  };
}
