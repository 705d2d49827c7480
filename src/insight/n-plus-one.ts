export interface NPlusOneOptions {
  /** Sequential queries with one summary under one parent that make an N+1. @default 5 */
  minQueries?: number;
  /** …and their total duration must exceed this. @default 50 */
  minTotalMs?: number;
  /** Parent/summary groups tracked at once; the oldest is forgotten past it. @default 2000 */
  maxGroups?: number;
}

export interface QueryObservation {
  traceId: string;
  parentSpanId?: string;
  summary: string;
  /** Start and end, ms on any clock, to tell sequential queries from parallel ones. */
  startMs: number;
  endMs: number;
}

export interface NPlusOne {
  traceId: string;
  parentSpanId: string;
  summary: string;
  queries: number;
  totalMs: number;
}

const OVERLAP_SLACK_MS = 2;

interface Group {
  count: number;
  totalMs: number;
  lastEnd: number;
  reported: boolean;
}

/**
 * Spots the N+1 shape in one trace: the same statement run again and again, one after the
 * other, under one parent span — a loop issuing a query per item. Reported once per group,
 * when it reaches `minQueries` sequential queries totalling more than `minTotalMs`. A query
 * that starts before the previous one ended (parallel, e.g. Promise.all) restarts the count.
 * Memory is bounded by `maxGroups`; what is forgotten is counted.
 */
export class NPlusOneDetector {
  private readonly groups = new Map<string, Group>();
  /** Groups forgotten because of the bound. */
  evicted = 0;

  constructor(private readonly o: NPlusOneOptions = {}) {}

  observe(q: QueryObservation): NPlusOne | undefined {
    if (!q.parentSpanId) return undefined;
    const id = `${q.traceId}/${q.parentSpanId}/${q.summary}`;
    let g = this.groups.get(id);
    if (!g) {
      if (this.groups.size >= (this.o.maxGroups ?? 2000)) {
        const oldest = this.groups.keys().next().value;
        if (oldest !== undefined) this.groups.delete(oldest);
        this.evicted++;
      }
      g = { count: 0, totalMs: 0, lastEnd: -Infinity, reported: false };
      this.groups.set(id, g);
    }
    // Span clocks are anchored to Date.now() per span, so back-to-back spans can appear to
    // overlap by a fraction of a millisecond: only a clear overlap means concurrency.
    if (q.startMs < g.lastEnd - OVERLAP_SLACK_MS) {
      // Overlaps the previous one: concurrent, not a loop of round trips.
      g.count = 0;
      g.totalMs = 0;
    }
    g.count++;
    g.totalMs += Math.max(0, q.endMs - q.startMs);
    g.lastEnd = Math.max(g.lastEnd, q.endMs);
    if (!g.reported && g.count >= (this.o.minQueries ?? 5) && g.totalMs > (this.o.minTotalMs ?? 50)) {
      g.reported = true;
      return { traceId: q.traceId, parentSpanId: q.parentSpanId, summary: q.summary, queries: g.count, totalMs: g.totalMs };
    }
    return undefined;
  }

  /** Forgets the groups of a parent span that ended. */
  endParent(traceId: string, parentSpanId: string): void {
    const prefix = `${traceId}/${parentSpanId}/`;
    for (const id of this.groups.keys()) if (id.startsWith(prefix)) this.groups.delete(id);
  }

  get size(): number {
    return this.groups.size;
  }
}
