export interface NPlusOneOptions {
  /** Sequential queries of one statement under one parent that make an N+1. @default 5 */
  minQueries?: number;
  /** Parent/statement groups tracked at once; the oldest trace is forgotten past it. @default 2000 */
  maxGroups?: number;
}

export interface QueryObservation {
  traceId: string;
  parentSpanId?: string;
  /** What makes two queries "the same": the statement key (see statement.ts). */
  key: string;
  /** For messages: the statement summary (`SELECT orders`). */
  summary: string;
  /** Start and end, ms on any clock, to tell sequential queries from parallel ones. */
  startMs: number;
  endMs: number;
}

export interface NPlusOne {
  traceId: string;
  parentSpanId: string;
  key: string;
  summary: string;
  /** The longest run of sequential queries (the loop's length, counted once the trace is over). */
  queries: number;
  /** Their summed duration (ms). */
  totalMs: number;
}

const OVERLAP_SLACK_MS = 2;

interface Group {
  parentSpanId: string;
  key: string;
  summary: string;
  /** The current run of sequential queries and its time. */
  count: number;
  totalMs: number;
  /** The longest run so far and its time. */
  best: number;
  bestMs: number;
  lastEnd: number;
}

/** Statements tracked under one trace; a trace running more distinct ones drops the oldest. */
const MAX_GROUPS_PER_TRACE = 32;

/**
 * Spots the N+1 shape in one trace: the same statement run again and again, one after the
 * other, under one parent span — a loop issuing a query per item. A query that starts before
 * the previous one ended (parallel, e.g. Promise.all) starts a new run; the longest run counts.
 * Runs are judged once the trace's work is over ({@link endTrace}: at the end of its request
 * or root span), so a loop of 12 is reported as 12, every time, whatever its queries took.
 * Memory is bounded by `maxGroups`; what is forgotten is counted.
 */
export class NPlusOneDetector {
  private readonly traces = new Map<string, Group[]>();
  private groupCount = 0;
  /** Groups forgotten because of the bound. */
  evicted = 0;

  constructor(private readonly o: NPlusOneOptions = {}) {}

  observe(q: QueryObservation): void {
    this.observeQuery(q.traceId, q.parentSpanId, q.key, q.summary, q.startMs, q.endMs);
  }

  /** {@link observe} with the fields as arguments: the span path builds no object per query. */
  observeQuery(traceId: string, parent: string | undefined, key: string, summary: string, startMs: number, endMs: number): void {
    if (!parent) return;
    let groups = this.traces.get(traceId);
    let g: Group | undefined;
    if (groups) {
      for (let i = 0; i < groups.length; i++) {
        const c = groups[i];
        if (c.key === key && c.parentSpanId === parent) {
          g = c;
          break;
        }
      }
    }
    if (!g) {
      this.makeRoom(traceId);
      g = { parentSpanId: parent, key, summary, count: 0, totalMs: 0, best: 0, bestMs: 0, lastEnd: -Infinity };
      groups = this.traces.get(traceId);
      if (!groups) this.traces.set(traceId, (groups = []));
      else if (groups.length >= MAX_GROUPS_PER_TRACE) {
        groups.shift();
        this.groupCount--;
        this.evicted++;
      }
      groups.push(g);
      this.groupCount++;
    }
    // Span clocks are anchored to Date.now() per span, so back-to-back spans can appear to
    // overlap by a fraction of a millisecond: only a clear overlap means concurrency.
    if (startMs < g.lastEnd - OVERLAP_SLACK_MS) {
      g.count = 0;
      g.totalMs = 0;
    }
    g.count++;
    g.totalMs += Math.max(0, endMs - startMs);
    g.lastEnd = Math.max(g.lastEnd, endMs);
    if (g.count > g.best) {
      g.best = g.count;
      g.bestMs = g.totalMs;
    }
  }

  /** The N+1 runs of a trace whose work is over, forgetting the trace. */
  endTrace(traceId: string): NPlusOne[] | undefined {
    const groups = this.traces.get(traceId);
    if (!groups) return undefined;
    this.traces.delete(traceId);
    this.groupCount -= groups.length;
    const min = this.o.minQueries ?? 5;
    let out: NPlusOne[] | undefined;
    for (const g of groups) {
      if (g.best >= min) (out ??= []).push({ traceId, parentSpanId: g.parentSpanId, key: g.key, summary: g.summary, queries: g.best, totalMs: g.bestMs });
    }
    return out;
  }

  get size(): number {
    return this.groupCount;
  }

  /** Past the bound, forgets the oldest trace's groups (not `keep`'s). */
  private makeRoom(keep: string): void {
    while (this.groupCount >= (this.o.maxGroups ?? 2000)) {
      const oldest = this.traces.keys().next();
      if (oldest.done || oldest.value === keep) return;
      const groups = this.traces.get(oldest.value)!;
      this.traces.delete(oldest.value);
      this.groupCount -= groups.length;
      this.evicted += groups.length;
    }
  }
}

/** One N+1 occurrence, kept for the rule. */
export interface NPlusOneFinding {
  /** When its request (or root span) ended, ms since the epoch. */
  at: number;
  queries: number;
  totalMs: number;
  traceId: string;
  /** The parent span the loop ran under. */
  spanId: string;
}

/** The occurrences of one statement's loop on one route. */
export interface NPlusOneEntry {
  /** The alert key: `<route> → <statement key>`, or the statement key outside a request. */
  readonly key: string;
  readonly route: string | undefined;
  readonly summary: string;
  /** Oldest first, at most `keep`. */
  readonly findings: NPlusOneFinding[];
}

export interface NPlusOneLogOptions {
  /** Route → statement pairs tracked; occurrences of further pairs are dropped and counted. @default 200 */
  maxKeys?: number;
  /** Occurrences remembered per pair (the newest). @default 64 */
  keep?: number;
  /** Occurrences that ended before this moment (the warm-up) are not kept. @default none */
  since?: number;
}

/**
 * The N+1 occurrences the detector found, by route and statement: filled on the span path as
 * requests end, read and judged by the `n_plus_one` rule on insight's timer. Bounded by
 * `maxKeys` pairs × `keep` occurrences; what the pair bound turns away is counted in
 * {@link dropped}. Routes and statements are looked up, not joined: the alert key is built
 * once per pair.
 */
export class NPlusOneLog {
  private readonly byRoute = new Map<string | undefined, Map<string, NPlusOneEntry>>();
  private count = 0;
  private readonly maxKeys: number;
  private readonly keep: number;
  private readonly since: number;
  /** Occurrences not kept because `maxKeys` pairs were tracked already. */
  dropped = 0;

  constructor(o: NPlusOneLogOptions = {}) {
    this.maxKeys = o.maxKeys ?? 200;
    this.keep = o.keep ?? 64;
    this.since = o.since ?? -Infinity;
  }

  /** Route → statement pairs tracked. */
  get size(): number {
    return this.count;
  }

  /** Keeps the runs {@link NPlusOneDetector.endTrace} found in a trace whose request (`route`) or root span ended at `at`. */
  record(found: readonly NPlusOne[], route: string | undefined, at: number): void {
    if (at < this.since) return;
    let statements = this.byRoute.get(route);
    for (const f of found) {
      let entry = statements?.get(f.key);
      if (!entry) {
        if (this.count >= this.maxKeys) {
          this.dropped++;
          continue;
        }
        if (!statements) this.byRoute.set(route, (statements = new Map()));
        entry = { key: route !== undefined ? `${route} → ${f.key}` : f.key, route, summary: f.summary, findings: [] };
        statements.set(f.key, entry);
        this.count++;
      }
      entry.findings.push({ at, queries: f.queries, totalMs: f.totalMs, traceId: f.traceId, spanId: f.parentSpanId });
      if (entry.findings.length > this.keep) entry.findings.shift();
    }
  }

  /** Every pair tracked, route by route (routes in the order they were first seen). */
  *entries(): IterableIterator<NPlusOneEntry> {
    for (const statements of this.byRoute.values()) yield* statements.values();
  }

  /** Forgets the pairs whose every occurrence ended before `before`. */
  prune(before: number): void {
    for (const [route, statements] of this.byRoute) {
      for (const [key, entry] of statements) {
        if (entry.findings.every((f) => f.at < before)) {
          statements.delete(key);
          this.count--;
        }
      }
      if (statements.size === 0) this.byRoute.delete(route);
    }
  }
}
