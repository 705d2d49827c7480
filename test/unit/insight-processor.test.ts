import { afterEach, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Alert, Transition } from '../../src/insight/alerts.js';
import { InsightProcessor } from '../../src/insight/processor.js';

const made: InsightProcessor[] = [];
afterEach(async () => {
  while (made.length) await made.pop()!.shutdown();
});

function setup(thresholds: ConstructorParameters<typeof InsightProcessor>[0] = {}) {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const lines: string[] = [];
  const insight = new InsightProcessor({
    evaluateIntervalMs: 0,
    warmupMs: 0,
    meter: meterProvider.getMeter('healthspan'),
    warn: (l) => lines.push(l),
    ...thresholds,
  });
  made.push(insight);
  const spans = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [insight, new SimpleSpanProcessor({ exporter: spans })] });
  const tracer = provider.getTracer('healthspan-http-server');
  const db = provider.getTracer('@opentelemetry/instrumentation-pg');
  const events: string[] = [];
  insight.onAlert((a: Alert, t: Transition) => events.push(`${t} ${a.rule} ${a.key} ${a.severity}`));
  let clock = Date.now();
  const request = (route: string, ms: number, status = 200) => {
    const start = (clock += 1);
    const span = tracer.startSpan(`GET ${route}`, {
      kind: SpanKind.SERVER,
      startTime: start,
      attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': status },
    });
    span.end(start + ms);
    return span;
  };
  const query = (summary: string, ms: number, parent?: { traceId: string; spanId: string }, at?: number) => {
    const start = at ?? (clock += 1);
    const attributes: Attributes = { 'db.system.name': 'postgresql', 'db.query.summary': summary };
    const ctx = parent ? traceContext(parent) : undefined;
    const span = db.startSpan(summary, { kind: SpanKind.CLIENT, startTime: start, attributes }, ctx);
    span.end(start + ms);
    return span;
  };
  const points = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)?.dataPoints ?? [];
  };
  return { insight, spans, request, query, events, lines, points };
}

import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
function traceContext(p: { traceId: string; spanId: string }) {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: p.traceId, spanId: p.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false });
}

describe('InsightProcessor trend', () => {
  it('compares the recent half of the window with the older half', () => {
    let now = 10_000_000;
    const insight = new InsightProcessor({ evaluateIntervalMs: 0, windowMs: 100_000, now: () => now, health: { weights: { resources: 0 } } });
    made.push(insight);
    const provider = new TracerProvider({ spanProcessors: [insight] });
    const tracer = provider.getTracer('healthspan-http-server');
    const request = (ms: number) => {
      const span = tracer.startSpan('GET /a', {
        kind: SpanKind.SERVER,
        startTime: now - ms,
        attributes: { 'http.request.method': 'GET', 'http.route': '/a', 'http.response.status_code': 200 },
      });
      span.end(now);
    };
    for (let i = 0; i < 40; i++) request(50);
    now += 60_000;
    expect(insight.read.health().trend).toBe('unknown'); // the recent half has no requests yet
    for (let i = 0; i < 40; i++) request(3000);
    const h = insight.read.health();
    expect(h.trend).toBe('degrading');
    now += 60_000; // the good half left the window: only the slow requests remain
    for (let i = 0; i < 40; i++) request(3000);
    expect(insight.read.health().trend).toBe('stable');
  });
});

describe('InsightProcessor', () => {
  it('tags a slow span at its end and fires slow_request from the route p95, with an exemplar trace', () => {
    const { insight, spans, request, events, lines } = setup();
    for (let i = 0; i < 30; i++) request('/slow', 1800);
    request('/fast', 20);
    const slow = spans.getFinishedSpans().find((s) => s.attributes['http.route'] === '/slow')!;
    expect(slow.attributes).toMatchObject({ 'healthspan.slow': true, 'healthspan.slow.severity': 'medium' });
    expect(spans.getFinishedSpans().find((s) => s.attributes['http.route'] === '/fast')!.attributes['healthspan.slow']).toBeUndefined();
    insight.evaluate();
    expect(events).toEqual(['fired slow_request GET /slow medium']);
    const [alert] = insight.read.alerts();
    expect(alert.exemplarTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[0]).toMatch(
      /^alert fired \[medium\] slow route GET \/slow: p95 1,\d{3} ms over 1,000 ms, 30 requests in the last 60 s \(trace [0-9a-f]{32}\)$/,
    );
  });

  it('quotes in alert messages and recommendations the figure that fired the alert, not a later one', () => {
    const { insight, request, query } = setup();
    for (let i = 0; i < 30; i++) request('/slow', 1800);
    for (let i = 0; i < 30; i++) query('SELECT orders', 150);
    insight.evaluate();
    const fired = insight.read.alerts().map((a) => [a.rule, a.observed, a.message]);
    expect(fired.map(([rule]) => rule).sort()).toEqual(['slow_query', 'slow_request']);
    // Later traffic: GET /slow faster but still slow (no escalation), the query back under its
    // threshold (recovering: resolving takes a minute). The alerts keep their figures.
    for (let i = 0; i < 600; i++) request('/slow', 1200);
    for (let i = 0; i < 600; i++) query('SELECT orders', 20);
    insight.evaluate();
    const alerts = insight.read.alerts();
    expect(alerts.map((a) => [a.rule, a.observed, a.message])).toEqual(fired);
    const p95 = (line: string) => Number(/p95 ([\d,]+) ms/.exec(line)?.[1].replace(/,/g, ''));
    const recommendations = insight.read.health().recommendations;
    for (const a of alerts) {
      expect(p95(a.message), a.message).toBe(Math.round(a.observed));
      const line = recommendations.find((r) => r.includes(a.key))!;
      expect(p95(line), line).toBe(Math.round(a.observed));
    }
  });

  it('honours a per-route threshold', () => {
    const { insight, request, events } = setup({ thresholds: { routes: { 'GET /report': 5000 } } });
    for (let i = 0; i < 30; i++) request('/report', 1800);
    insight.evaluate();
    expect(events).toEqual([]);
  });

  it('fires slow_query by statement summary and error_rate once a route has enough requests', () => {
    const { insight, request, query, events } = setup();
    for (let i = 0; i < 20; i++) query('SELECT users', 350);
    for (let i = 0; i < 19; i++) request('/pay', 5, i < 10 ? 503 : 200);
    insight.evaluate();
    expect(events).toEqual(['fired slow_query postgresql SELECT users critical']);
    request('/pay', 5, 500);
    insight.evaluate();
    expect(events).toContain('fired error_rate GET /pay critical');
  });

  it('reports an N+1 once its request ended, keyed by route and statement, with its whole length', () => {
    const { query, events, insight, spans } = setup();
    const provider = new TracerProvider({ spanProcessors: [insight, new SimpleSpanProcessor({ exporter: spans })] });
    const http = provider.getTracer('healthspan-http-server');
    const t0 = Date.now();
    const req = http.startSpan('GET /orders', {
      kind: SpanKind.SERVER,
      startTime: t0,
      attributes: { 'http.request.method': 'GET', 'http.route': '/orders', 'http.response.status_code': 200 },
    });
    const parent = { traceId: req.spanContext().traceId, spanId: req.spanContext().spanId };
    for (let i = 0; i < 12; i++) query('SELECT orders', 15, parent, t0 + i * 20);
    insight.evaluate();
    expect(events).toEqual([]); // the request is still running: its loop may go on
    req.end(t0 + 300);
    insight.evaluate();
    expect(events).toEqual(['fired n_plus_one GET /orders → postgresql SELECT orders high']);
    expect(insight.read.alerts()[0]).toMatchObject({ exemplarTraceId: parent.traceId, exemplarSpanId: parent.spanId, observed: 12 });
    expect(insight.read.alerts()[0].message).toBe('N+1: 12 sequential "SELECT orders" queries per GET /orders request (180 ms), once in the last 60 s');
  });

  it('scores health from the same spans and exposes alerts and score as metrics', async () => {
    const { insight, request, query, points } = setup();
    for (let i = 0; i < 40; i++) request('/a', 100);
    for (let i = 0; i < 40; i++) query('SELECT a', 10);
    for (let i = 0; i < 30; i++) request('/slow', 3500);
    insight.evaluate();
    const h = insight.read.health();
    expect(h.components.map((c) => c.name)).toEqual(['responseTime', 'errors', 'resources', 'database']);
    expect(h.components.find((c) => c.name === 'database')!.score).toBe(100);
    expect(h.score).toBeGreaterThan(0);
    expect(h.score).toBeLessThan(100);
    const score = await points('healthspan.health.score');
    expect(score[0].value).toBe(h.score);
    const alerts = await points('healthspan.alerts');
    expect(alerts.map((p) => p.attributes)).toEqual([{ 'alert.rule': 'slow_request', 'alert.severity': 'critical', 'alert.state': 'firing' }]);
    const active = await points('healthspan.alerts.active');
    expect(active.map((p) => [p.attributes['alert.rule'], p.value])).toEqual([['slow_request', 1]]);
  });

  it('splits each route into database, outgoing HTTP, cache and own time from its child spans', () => {
    const { insight, spans } = setup();
    const provider = new TracerProvider({ spanProcessors: [insight, new SimpleSpanProcessor({ exporter: spans })] });
    const http = provider.getTracer('healthspan-http-server');
    const pg = provider.getTracer('@opentelemetry/instrumentation-pg');
    const out = provider.getTracer('@opentelemetry/instrumentation-undici');
    const cache = provider.getTracer('healthspan-cache');
    const redis = provider.getTracer('@opentelemetry/instrumentation-redis');
    const t0 = Date.now();
    for (let i = 0; i < 4; i++) {
      const at = t0 + i * 1000;
      const req = http.startSpan('GET /orders', {
        kind: SpanKind.SERVER,
        startTime: at,
        attributes: { 'http.request.method': 'GET', 'http.route': '/orders', 'http.response.status_code': 200 },
      });
      const ctx = trace.setSpan(ROOT_CONTEXT, req);
      pg.startSpan(
        'SELECT orders',
        { kind: SpanKind.CLIENT, startTime: at + 1, attributes: { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT orders' } },
        ctx,
      ).end(at + 51);
      pg.startSpan(
        'SELECT users',
        { kind: SpanKind.CLIENT, startTime: at + 51, attributes: { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT users' } },
        ctx,
      ).end(at + 61);
      out.startSpan('GET', { kind: SpanKind.CLIENT, startTime: at + 61, attributes: { 'http.request.method': 'GET' } }, ctx).end(at + 81);
      const lookup = cache.startSpan('cache.get users', { attributes: { 'cache.name': 'users', 'cache.hit': false }, startTime: at + 81 }, ctx);
      // The Redis command under the lookup must not count twice.
      redis
        .startSpan(
          'GET',
          { kind: SpanKind.CLIENT, startTime: at + 82, attributes: { 'db.system.name': 'redis', 'db.query.summary': 'GET' } },
          trace.setSpan(ROOT_CONTEXT, lookup),
        )
        .end(at + 86);
      lookup.end(at + 91);
      req.end(at + 100);
    }
    const [route] = insight.read.routes();
    expect(route).toMatchObject({ route: 'GET /orders', count: 4, thresholdMs: 1000 });
    expect(route.split!.requests).toBe(4);
    expect(route.split!.db).toBeCloseTo(0.6, 6);
    expect(route.split!.http).toBeCloseTo(0.2, 6);
    expect(route.split!.cache).toBeCloseTo(0.1, 6);
    expect(route.split!.own).toBeCloseTo(0.1, 6);
    expect(route.split!.topQueries.map((q) => [q.summary, Math.round(q.share * 100)])).toEqual([
      ['SELECT orders', 50],
      ['SELECT users', 10],
    ]);
    expect(insight.read.queries().map((q) => [q.query, q.count])).toEqual([
      ['postgresql SELECT orders', 4],
      ['postgresql SELECT users', 4],
      ['redis GET', 4],
    ]);
    expect(insight.read.bounds().keys.pendingTraces).toBe(0);
  });

  it('counts cache reads by cache name (writes are not lookups) and scores the cache component from them', () => {
    const { insight, spans } = setup();
    const provider = new TracerProvider({ spanProcessors: [insight, new SimpleSpanProcessor({ exporter: spans })] });
    const cache = provider.getTracer('healthspan-cache');
    for (let i = 0; i < 30; i++) cache.startSpan('cache.get users', { attributes: { 'cache.name': 'users', 'cache.hit': i % 3 === 0 } }).end();
    for (let i = 0; i < 30; i++) cache.startSpan('cache.set users', { attributes: { 'cache.name': 'users' } }).end();
    for (let i = 0; i < 30; i++) cache.startSpan('cache.get config', { attributes: { 'cache.name': 'config', 'cache.hit': true } }).end();
    expect(insight.read.caches()).toEqual([
      { name: 'users', lookups: 30, hitRate: 10 / 30 },
      { name: 'config', lookups: 30, hitRate: 1 },
    ]);
    const h = insight.read.health();
    // 40 hits of 60 lookups against the 80 % target: 100 × (2/3) / 0.8 = 83.
    expect(h.components.find((c) => c.name === 'cache')).toMatchObject({ score: 83, samples: 60 });
    expect(h.recommendations).toEqual([
      'Cache "users" answers only 33.3% of 30 lookups from memory or Redis (target 80%): check that its keys repeat and that its TTL is not shorter than the data stays valid.',
    ]);
  });

  it('recommends in plain words from the firing alerts and the route split', () => {
    const { insight, request, query } = setup();
    for (let i = 0; i < 30; i++) request('/fast', 20);
    const parent = { traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331' };
    for (let i = 0; i < 30; i++) request('/report', 1500);
    for (let i = 0; i < 20; i++) query('SELECT report', 300, parent);
    insight.evaluate();
    const h = insight.read.health();
    // The query is 3× over its threshold (high), the route 1.5× (medium): most severe first.
    expect(h.recommendations).toHaveLength(2);
    expect(h.recommendations[1]).toMatch(
      /^GET \/report is slow: p95 1,[45]\d\d ms against 1,000 ms\. No database, HTTP or cache call was seen under it: the time is spent in its own code\.$/,
    );
    expect(h.recommendations[0]).toMatch(/^The query "postgresql SELECT report" is slow: p95 (29\d|30\d) ms against 100 ms\. Run EXPLAIN on it/);
  });

  it('fires memory for RSS against a known memory limit, and not without one', () => {
    const { insight, events } = setup({ memoryLimitBytes: 64 * 2 ** 20 });
    insight.evaluate();
    // This process uses far more than 64 MiB × 0.9.
    expect(events.filter((e) => e.startsWith('fired memory rss'))).toHaveLength(1);
    const [rss] = insight.read.alerts().filter((a) => a.key === 'rss');
    expect(rss.message).toMatch(/^RSS \d+ MiB, \d+% of the 64 MiB limit$/);
    const none = setup({ memoryLimitBytes: 0 });
    none.insight.evaluate();
    expect(none.events.filter((e) => e.includes('memory rss'))).toEqual([]);
  });

  it('carries the exemplar span of a slow request on its alert', () => {
    const { insight, request } = setup();
    const spansOf = Array.from({ length: 30 }, () => request('/slow', 1800));
    insight.evaluate();
    const [alert] = insight.read.alerts();
    const exemplar = spansOf.find((s) => s.spanContext().spanId === alert.exemplarSpanId)!;
    expect(exemplar.spanContext().traceId).toBe(alert.exemplarTraceId);
  });

  it('keeps 100 000 distinct routes and statements within the key cap, counting what it folds', () => {
    const { insight, request, query } = setup({ maxKeys: 50 });
    for (let i = 0; i < 100_000; i++) request(`/p/${i}`, 1);
    for (let i = 0; i < 1000; i++) query(`SELECT t${i}`, 1);
    const b = insight.read.bounds();
    expect(b.keys.routes).toBe(51);
    expect(b.routesFolded).toBe(100_000 - 50);
    expect(b.keys.queries).toBe(51);
    expect(b.queriesFolded).toBe(1000 - 50);
    expect(insight.read.routes().find((r) => r.route === '_other')!.count).toBe(100_000 - 50);
  });

  it('never throws from the span path, whatever the span', () => {
    const { insight } = setup();
    expect(() => insight.onEnd({} as never)).not.toThrow();
    expect(() => insight.onEnding({} as never)).not.toThrow();
  });
});

void SpanStatusCode;
