import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

export type SpanClass = 'request' | 'query' | 'cache' | 'ws' | 'other';

/** What every insight consumer needs from an ended span, read from its attributes once. */
export interface Classified {
  class: SpanClass;
  /** Low-cardinality key: `GET /users/:id`, `postgresql SELECT users`, `users hit`, … */
  key: string;
  durationMs: number;
  /** A 5xx answer, or an error status on a non-HTTP span. */
  error: boolean;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** For requests. */
  status?: number;
  /** For queries: `db.query.summary`, to find repeats under one parent (N+1). */
  summary?: string;
  /** For cache operations. */
  hit?: boolean;
}

const WS_SCOPE = 'healthspan-ws';
const CACHE_SCOPE = 'healthspan-cache';

/**
 * The one place that decides what a span is. SERVER spans with an HTTP method are requests
 * (a ws upgrade handshake is `ws`), CLIENT spans with a database system are queries, our
 * cache spans are cache operations; everything else is `other`.
 */
export function classify(span: ReadableSpan): Classified {
  const a = span.attributes;
  const ctx = span.spanContext();
  const [s, ns] = span.duration;
  const base = {
    durationMs: s * 1e3 + ns / 1e6,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
  };
  const scope = span.instrumentationScope.name;
  if (span.kind === SpanKind.SERVER && typeof a['http.request.method'] === 'string') {
    const route = typeof a['http.route'] === 'string' ? a['http.route'] : '_unknown';
    const key = `${a['http.request.method']} ${route}`;
    if (scope === WS_SCOPE) return { ...base, class: 'ws', key, error: span.status.code === SpanStatusCode.ERROR };
    const status = typeof a['http.response.status_code'] === 'number' ? a['http.response.status_code'] : undefined;
    const error = status !== undefined ? status >= 500 : span.status.code === SpanStatusCode.ERROR;
    return { ...base, class: 'request', key, error, status };
  }
  if (span.kind === SpanKind.CLIENT && typeof a['db.system.name'] === 'string') {
    const summary = typeof a['db.query.summary'] === 'string' ? a['db.query.summary'] : span.name;
    return { ...base, class: 'query', key: `${a['db.system.name']} ${summary}`, summary, error: span.status.code === SpanStatusCode.ERROR };
  }
  if (scope === CACHE_SCOPE && typeof a['cache.name'] === 'string') {
    const hit = a['cache.hit'] === true;
    return { ...base, class: 'cache', key: String(a['cache.name']), hit, error: span.status.code === SpanStatusCode.ERROR };
  }
  if (scope === WS_SCOPE) return { ...base, class: 'ws', key: span.name, error: span.status.code === SpanStatusCode.ERROR };
  return { ...base, class: 'other', key: span.name, error: span.status.code === SpanStatusCode.ERROR };
}
