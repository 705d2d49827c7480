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
  traceId: string;
  summary: string;
  count: number;
  totalMs: number;
  lastEnd: number;
  reported: boolean;
}

/** Summaries tracked under one parent; a parent running more distinct statements drops the oldest. */
const MAX_GROUPS_PER_PARENT = 16;

/**
 * Spots the N+1 shape in one trace: the same statement run again and again, one after the
 * other, under one parent span — a loop issuing a query per item. Reported once per group,
 * when it reaches `minQueries` sequential queries totalling more than `minTotalMs`. A query
 * that starts before the previous one ended (parallel, e.g. Promise.all) restarts the count.
 * Memory is bounded by `maxGroups`; what is forgotten is counted.
 *
 * Groups are found by the parent's span id (the very string the span context carries, whose
 * hash V8 has already computed) and then by summary, so the hot path builds no key strings.
 */
export class NPlusOneDetector {
  private readonly parents = new Map<string, Group[]>();
  private groupCount = 0;
  /** Groups forgotten because of the bound. */
  evicted = 0;

  constructor(private readonly o: NPlusOneOptions = {}) {}

  observe(q: QueryObservation): NPlusOne | undefined {
    const parent = q.parentSpanId;
    if (!parent) return undefined;
    let groups = this.parents.get(parent);
    let g: Group | undefined;
    if (groups) {
      for (let i = 0; i < groups.length; i++) {
        const c = groups[i];
        if (c.summary === q.summary && c.traceId === q.traceId) {
          g = c;
          break;
        }
      }
    }
    if (!g) {
      this.makeRoom(parent);
      g = { traceId: q.traceId, summary: q.summary, count: 0, totalMs: 0, lastEnd: -Infinity, reported: false };
      groups = this.parents.get(parent);
      if (!groups) this.parents.set(parent, (groups = []));
      else if (groups.length >= MAX_GROUPS_PER_PARENT) {
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
      // Overlaps the previous one: concurrent, not a loop of round trips.
      g.count = 0;
      g.totalMs = 0;
    }
    g.count++;
    g.totalMs += Math.max(0, q.endMs - q.startMs);
    g.lastEnd = Math.max(g.lastEnd, q.endMs);
    if (!g.reported && g.count >= (this.o.minQueries ?? 5) && g.totalMs > (this.o.minTotalMs ?? 50)) {
      g.reported = true;
      return { traceId: q.traceId, parentSpanId: parent, summary: q.summary, queries: g.count, totalMs: g.totalMs };
    }
    return undefined;
  }

  /** Forgets the groups of a parent span that ended. */
  endParent(traceId: string, parentSpanId: string): void {
    const groups = this.parents.get(parentSpanId);
    if (!groups) return;
    const keep = groups.filter((g) => g.traceId !== traceId);
    this.groupCount -= groups.length - keep.length;
    if (keep.length > 0) this.parents.set(parentSpanId, keep);
    else this.parents.delete(parentSpanId);
  }

  get size(): number {
    return this.groupCount;
  }

  /** Past the bound, forgets the oldest parent's groups (not `keep`'s). */
  private makeRoom(keep: string): void {
    while (this.groupCount >= (this.o.maxGroups ?? 2000)) {
      const oldest = this.parents.keys().next();
      if (oldest.done || oldest.value === keep) return;
      const groups = this.parents.get(oldest.value)!;
      this.parents.delete(oldest.value);
      this.groupCount -= groups.length;
      this.evicted += groups.length;
    }
  }
}
