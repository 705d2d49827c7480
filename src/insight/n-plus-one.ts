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
    const parent = q.parentSpanId;
    if (!parent) return;
    let groups = this.traces.get(q.traceId);
    let g: Group | undefined;
    if (groups) {
      for (let i = 0; i < groups.length; i++) {
        const c = groups[i];
        if (c.key === q.key && c.parentSpanId === parent) {
          g = c;
          break;
        }
      }
    }
    if (!g) {
      this.makeRoom(q.traceId);
      g = { parentSpanId: parent, key: q.key, summary: q.summary, count: 0, totalMs: 0, best: 0, bestMs: 0, lastEnd: -Infinity };
      groups = this.traces.get(q.traceId);
      if (!groups) this.traces.set(q.traceId, (groups = []));
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
    if (q.startMs < g.lastEnd - OVERLAP_SLACK_MS) {
      g.count = 0;
      g.totalMs = 0;
    }
    g.count++;
    g.totalMs += Math.max(0, q.endMs - q.startMs);
    g.lastEnd = Math.max(g.lastEnd, q.endMs);
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
