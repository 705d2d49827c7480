import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { isConnectionSetup } from '../db/connection.js';

export type SpanClass = 'request' | 'query' | 'outgoing' | 'cache' | 'ws' | 'other';

/** What every insight consumer needs from an ended span, read from its attributes once. */
export interface Classified {
  class: SpanClass;
  /** Low-cardinality key: `GET /users/:id`, `postgresql SELECT users`, `users`, … */
  key: string;
  durationMs: number;
  /** End of the span, ms since the epoch. */
  endMs: number;
  /** A 5xx answer, or an error status on a non-HTTP span. */
  error: boolean;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  /** For requests. */
  status: number | undefined;
  /** For requests: `http.request.method` and `http.route` (`_unknown` without one). */
  method: string | undefined;
  route: string | undefined;
  /** For queries: `db.query.summary` (the span name without one), to find repeats under one parent (N+1). */
  summary: string | undefined;
  /** For queries: `db.system.name`. */
  system: string | undefined;
  /** For cache reads: whether it hit (undefined for writes and deletes). */
  hit: boolean | undefined;
}

/** Distinct keys memoised by {@link joinKey}; past it the memo starts again (it is only a memo). */
const MAX_MEMO_KEYS = 4096;
const memo = new Map<string, Map<string, string>>();
let memoKeys = 0;

/**
 * `${first} ${second}`, memoised: the same route or summary string arrives with every span,
 * and handing out one string per key lets every Map keyed by it reuse the hash V8 cached on
 * that string instead of building and hashing a new one per span.
 */
function joinKey(first: string, second: string): string {
  let inner = memo.get(second);
  const found = inner?.get(first);
  if (found !== undefined) return found;
  if (memoKeys >= MAX_MEMO_KEYS) {
    memo.clear();
    memoKeys = 0;
    inner = undefined;
  }
  if (!inner) memo.set(second, (inner = new Map()));
  const key = `${first} ${second}`;
  inner.set(first, key);
  memoKeys++;
  return key;
}

const WS_SCOPE = 'healthspan-ws';
const CACHE_SCOPE = 'healthspan-cache';

/**
 * The one place that decides what a span is. SERVER spans with an HTTP method are requests
 * (a ws upgrade handshake is `ws`), CLIENT spans with a database system are queries, other
 * CLIENT spans with an HTTP method are outgoing calls, our cache spans are cache operations;
 * everything else is `other`. Runs once per ended span: it builds one object and no strings
 * beyond the key.
 */
export function classify(span: ReadableSpan): Classified {
  const a = span.attributes;
  const ctx = span.spanContext();
  const d = span.duration;
  const e = span.endTime;
  const c: Classified = {
    class: 'other',
    key: span.name,
    durationMs: d[0] * 1e3 + d[1] / 1e6,
    endMs: e[0] * 1e3 + e[1] / 1e6,
    error: span.status.code === SpanStatusCode.ERROR,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    status: undefined,
    method: undefined,
    route: undefined,
    summary: undefined,
    system: undefined,
    hit: undefined,
  };
  const kind = span.kind;
  const scope = span.instrumentationScope.name;
  if (kind === SpanKind.SERVER) {
    const method = a['http.request.method'];
    if (typeof method === 'string') {
      const route = typeof a['http.route'] === 'string' ? a['http.route'] : '_unknown';
      c.method = method;
      c.route = route;
      c.key = joinKey(method, route);
      if (scope === WS_SCOPE) {
        c.class = 'ws';
        return c;
      }
      const status = a['http.response.status_code'];
      c.class = 'request';
      if (typeof status === 'number') {
        c.status = status;
        c.error = status >= 500;
      }
      return c;
    }
  } else if (kind === SpanKind.CLIENT) {
    const system = a['db.system.name'];
    // Connecting (redis-connect, a Redis handshake command) is not a query: no statement, no slow-query alert.
    if (typeof system === 'string' && isConnectionSetup(span.name, a)) return c;
    if (typeof system === 'string') {
      const summary = typeof a['db.query.summary'] === 'string' ? a['db.query.summary'] : span.name;
      c.class = 'query';
      c.system = system;
      c.summary = summary;
      c.key = joinKey(system, summary);
      return c;
    }
    if (typeof a['http.request.method'] === 'string') {
      c.class = 'outgoing';
      return c;
    }
  }
  if (scope === CACHE_SCOPE && typeof a['cache.name'] === 'string') {
    const hit = a['cache.hit'];
    c.class = 'cache';
    c.key = a['cache.name'];
    c.hit = typeof hit === 'boolean' ? hit : undefined;
    return c;
  }
  if (scope === WS_SCOPE) c.class = 'ws';
  return c;
}
