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
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const lines: string[] = [];
  const insight = new InsightProcessor({ evaluateIntervalMs: 0, meter: meterProvider.getMeter('healthspan'), warn: (l) => lines.push(l), ...thresholds });
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
    const span = tracer.startSpan(`GET ${route}`, { kind: SpanKind.SERVER, startTime: start, attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': status } });
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
    const [alert] = insight.engine.active();
    expect(alert.exemplarTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[0]).toMatch(/^alert fired \[medium\] slow route GET \/slow: p95 1\d{3} ms over 1000 ms \(trace [0-9a-f]{32}\)$/);
  });

  it('honours a per-route threshold', () => {
    const { insight, request, events } = setup({ thresholds: { routes: { 'GET /report': 5000 } } });
    for (let i = 0; i < 30; i++) request('/report', 1800);
    insight.evaluate();
    expect(events).toEqual([]);
  });

  it('fires slow_query by statement summary and error_rate once a route has enough requests', () => {
    const { insight, request, query, events } = setup();
    for (let i = 0; i < 10; i++) query('SELECT users', 350);
    for (let i = 0; i < 19; i++) request('/pay', 5, i < 10 ? 503 : 200);
    insight.evaluate();
    expect(events).toEqual(['fired slow_query postgresql SELECT users critical']);
    request('/pay', 5, 500);
    insight.evaluate();
    expect(events).toContain('fired error_rate GET /pay critical');
  });

  it('reports an N+1 at once, with the trace that shows it', () => {
    const { query, events, insight } = setup();
    const parent = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
    for (let i = 0; i < 6; i++) query('SELECT orders', 15, parent, 1_000_000 + i * 20);
    expect(events).toEqual(['fired n_plus_one postgresql SELECT orders low']);
    expect(insight.engine.active()[0]).toMatchObject({ exemplarTraceId: parent.traceId, observed: 5 });
  });

  it('scores health from the same spans and exposes alerts and score as metrics', async () => {
    const { insight, request, query, points } = setup();
    for (let i = 0; i < 40; i++) request('/a', 100);
    for (let i = 0; i < 40; i++) query('SELECT a', 10);
    for (let i = 0; i < 30; i++) request('/slow', 3500);
    insight.evaluate();
    const h = insight.health();
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

  it('never throws from the span path, whatever the span', () => {
    const { insight } = setup();
    expect(() => insight.onEnd({} as never)).not.toThrow();
    expect(() => insight.onEnding({} as never)).not.toThrow();
  });
});

void SpanStatusCode;
