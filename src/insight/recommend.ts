import type { Alert } from './alerts.js';
import type { SplitSummary } from './breakdown.js';
import type { CacheHitStats, RouteStats } from './figures.js';
import { formatNumber } from './number-format.js';

export interface RecommendInput {
  alerts: Alert[];
  routes: RouteStats[];
  caches: CacheHitStats[];
  /** Cache hit rate a cache should reach. */
  cacheHitTarget: number;
  /** Lookups a cache needs before its hit rate is judged. */
  minCacheLookups: number;
}

const MAX_RECOMMENDATIONS = 5;
const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/**
 * Short advice in plain words, derived only from what was measured: the firing alerts, most
 * severe first, each explained with the figures behind it (for a slow route: where its time
 * goes and which statement takes most of it), then caches that miss more than their target.
 * At most five lines; empty when nothing needs attention.
 */
export function recommend(input: RecommendInput): string[] {
  const out: string[] = [];
  const routes = new Map(input.routes.map((r) => [r.route, r]));
  const alerts = [...input.alerts].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.ratio - a.ratio);
  for (const a of alerts) {
    const line = explain(a, routes);
    if (line && !out.includes(line)) out.push(line);
  }
  for (const c of [...input.caches].sort((a, b) => a.hitRate - b.hitRate)) {
    if (c.lookups < input.minCacheLookups || c.hitRate >= input.cacheHitTarget) continue;
    out.push(
      `Cache "${c.name}" answers only ${pct(c.hitRate)} of ${num(c.lookups)} lookups from memory or Redis (target ${pct(input.cacheHitTarget)}): ` +
        'check that its keys repeat and that its TTL is not shorter than the data stays valid.',
    );
  }
  return out.slice(0, MAX_RECOMMENDATIONS);
}

function explain(a: Alert, routes: Map<string, RouteStats>): string | undefined {
  switch (a.rule) {
    case 'slow_request': {
      const r = routes.get(a.key);
      return `${a.key} is slow: p95 ${ms(a.observed)} against ${ms(a.threshold)}. ${whereTimeGoes(r?.split)}`;
    }
    case 'slow_query':
      return `The query "${a.key}" is slow: p95 ${ms(a.observed)} against ${ms(a.threshold)}. Run EXPLAIN on it; a missing index or a scan of a large table is the usual cause.`;
    case 'n_plus_one':
      return `${a.message.replace(/^N\+1: /, 'N+1 pattern: ')}. Load the rows in one query (WHERE … IN (…) or a JOIN) or batch the lookups.`;
    case 'error_rate': {
      const r = routes.get(a.key);
      return `${a.key} fails ${pct(a.observed)} of its requests${r ? ` (${num(r.count)} in the window)` : ''}, over the ${pct(a.threshold)} allowed${a.exemplarTraceId ? `; trace ${a.exemplarTraceId} shows one` : ''}.`;
    }
    case 'memory':
      if (a.key === 'rss')
        return `The process uses ${pct(a.observed)} of its memory limit (RSS): look for buffers or native memory that keep growing, or give it more memory.`;
      if (a.key === 'heap_growth') return `The JavaScript ${a.message}; look for caches, maps or arrays that keep what they are given without a bound.`;
      return `The JavaScript heap is at ${pct(a.observed)} of its limit: look for caches or collections that keep growing, or raise --max-old-space-size.`;
    case 'event_loop':
      return `The event loop is blocked: delay p99 ${ms(a.observed)}. Look for synchronous work on the request path (large JSON, crypto, sync file access) and move it off the loop.`;
    default:
      return undefined;
  }
}

/** "Most of its time (72%) is in the database, mostly SELECT orders (65%)." */
export function whereTimeGoes(split: SplitSummary | undefined): string {
  if (!split) return 'No database, HTTP or cache call was seen under it: the time is spent in its own code.';
  const parts = [
    { what: 'the database', share: split.db },
    { what: 'outgoing HTTP calls', share: split.http },
    { what: 'the cache', share: split.cache },
    { what: 'its own code', share: split.own },
  ].sort((x, y) => y.share - x.share);
  const top = parts[0];
  let line = `${top.share >= 0.5 ? 'Most of' : 'The largest part of'} its time (${pct(top.share)}) is in ${top.what}`;
  if (top.what === 'the database' && split.topQueries.length > 0) {
    const q = split.topQueries[0];
    line += `, mostly "${q.summary}" (${pct(q.share)})`;
  }
  return `${line}.`;
}

const num = (n: number) => formatNumber(n, 1);
const pct = (r: number) => `${num(Math.round(r * 1000) / 10)}%`;
const ms = (n: number) => `${num(Math.round(n))} ms`;
