import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { HttpServerInstrumentation } from '../../instrumentations/http-server/index.js';

const spans = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const tracer = provider.getTracer('test');

let ignoreNext = false;
const instrumentation = new HttpServerInstrumentation({
  enabled: false,
  ignoreIncomingRequest: (req) => ignoreNext && req.url === '/ignored',
  requestHeaders: ['x-request-id'],
  responseHeaders: ['content-type'],
  routeFallback: (path) => path.replace(/\/\d+/g, '/:id'),
});

let server: http.Server;
let base: string;
const childParents: Record<string, string | undefined> = {};
/** What the handler of /ctx saw in context.active(). */
let seenContext: { spanId?: string; ownFunctions: string[]; childOwnFunctions: string[] } | undefined;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  instrumentation.setTracerProvider(provider);
  instrumentation.setMeterProvider(meterProvider);
  instrumentation.enable();
  // The module is already loaded: requiring it again runs the require hook, which patches.
  createRequire(import.meta.url)('node:http');
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/echo')) {
      let body = '';
      const onData = (c: Buffer) => (body += c);
      req.on('data', onData);
      req.once('end', () => {
        // Runs from the socket, after the request event: it must still see the request's span.
        const child = tracer.startSpan('after-body');
        childParents.echo = (child as unknown as ReadableSpan).parentSpanContext?.spanId;
        child.end();
        req.removeListener('data', onData);
        res.setHeader('content-type', 'text/plain');
        res.end(`${body}|data listeners after remove: ${req.listenerCount('data')}`);
      });
    } else if (url === '/ctx') {
      const active = context.active();
      const child = trace.setSpan(active, tracer.startSpan('child'));
      const ownFunctions = (c: object) =>
        Object.entries(c)
          .filter(([, v]) => typeof v === 'function')
          .map(([k]) => k);
      seenContext = { spanId: trace.getSpan(active)?.spanContext().spanId, ownFunctions: ownFunctions(active), childOwnFunctions: ownFunctions(child) };
      trace.getSpan(child)?.end();
      res.end('ctx');
    } else if (url === '/boom') {
      res.statusCode = 503;
      res.end('down');
    } else {
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  instrumentation.disable();
  await new Promise((r) => server.close(r));
  context.disable();
  propagation.disable();
  metrics.disable();
  trace.disable();
});

beforeEach(() => {
  spans.reset();
  ignoreNext = false;
});

const serverSpans = (): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.kind === 1);
async function settle(n = 1): Promise<ReadableSpan[]> {
  // Waits for the spans (generously: a loaded machine is slow), never bounds how long they took.
  for (const end = Date.now() + 10_000; serverSpans().length < n && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  return serverSpans();
}

describe('HttpServerInstrumentation', () => {
  it('makes one SERVER span with the stable HTTP attributes and a derived route', async () => {
    const res = await fetch(`${base}/users/42?sort=asc`, { headers: { 'x-request-id': 'r-1', 'user-agent': 'ua/1' } });
    expect(res.status).toBe(200);
    const [span] = await settle();
    expect(span.name).toBe('GET /users/:id');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'url.path': '/users/42',
      'url.query': 'sort=asc',
      'network.protocol.version': '1.1',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(base).port),
      'client.address': '127.0.0.1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': expect.any(Number),
      'user_agent.original': 'ua/1',
      'http.request.header.x-request-id': ['r-1'],
      'http.response.status_code': 200,
      'http.route': '/users/:id',
      'http.response.header.content-type': ['application/json'],
    });
    expect(span.status.code).toBe(0);
  });

  it('continues the caller trace from traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929b0e0e4736';
    await fetch(`${base}/x`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const [span] = await settle();
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('runs the handler in a context without per-instance closures, with or without a remote parent', async () => {
    // The API's ROOT_CONTEXT gives every derived context three closures of its own; V8's
    // young-generation collector keeps those (and the span they reach) alive long enough to
    // grow the young generation under load. Contexts made for a request must not have them.
    for (const headers of [{}, { traceparent: `00-${'4bf92f3577b34da6a3ce929b0e0e4736'}-00f067aa0ba902b7-01` }]) {
      spans.reset();
      seenContext = undefined;
      await fetch(`${base}/ctx`, { headers });
      const [span] = await settle();
      expect(seenContext).toEqual({ spanId: span.spanContext().spanId, ownFunctions: [], childOwnFunctions: [] });
    }
  });

  it('runs request listeners added by the app in the request context, and removeListener still works', async () => {
    const res = await fetch(`${base}/echo`, { method: 'POST', body: 'hello' });
    expect(await res.text()).toBe('hello|data listeners after remove: 0');
    const [span] = await settle();
    expect(childParents.echo).toBe(span.spanContext().spanId);
  });

  it('marks 5xx as an error with error.type and records the duration metric', async () => {
    await fetch(`${base}/boom`);
    const [span] = await settle();
    expect(span.status.code).toBe(2);
    expect(span.attributes['error.type']).toBe('503');
    await reader.forceFlush();
    const metric = metricExporter
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'http.server.request.duration')!;
    expect(metric.descriptor.unit).toBe('s');
    const point = metric.dataPoints.find((p) => p.attributes['http.route'] === '/boom')!;
    expect(point.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
      'http.response.status_code': 503,
      'http.route': '/boom',
      'error.type': '503',
    });
    expect((point.value as { count: number }).count).toBe(1);
    // The duration recorded is the span's own (no clock reads of its own).
    expect((point.value as { sum: number }).sum).toBe(span.duration[0] + span.duration[1] / 1e9);
  });

  it('records the duration metric of a request whose span does not record (sampled out)', async () => {
    instrumentation.setTracerProvider(new TracerProvider({ sampler: new AlwaysOffSampler() }));
    try {
      await (await fetch(`${base}/unsampled/7`)).text();
    } finally {
      instrumentation.setTracerProvider(provider);
    }
    await reader.forceFlush();
    const point = metricExporter
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'http.server.request.duration')!
      .dataPoints.find((p) => p.attributes['http.route'] === '/unsampled/:id')!;
    expect((point.value as { count: number }).count).toBe(1);
    expect((point.value as { sum: number }).sum).toBeGreaterThan(0);
    expect(serverSpans()).toEqual([]);
  });

  it('normalizes unknown methods to _OTHER, keeps the original, and names the span HTTP <route>', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request(`${base}/m`, { method: 'PURGE' }, (res) => res.resume().on('end', resolve));
      req.end();
    });
    const [span] = await settle();
    expect(span.attributes['http.request.method']).toBe('_OTHER');
    expect(span.attributes['http.request.method_original']).toBe('PURGE');
    expect(span.name).toBe('HTTP /m');
  });

  it('makes no span for an ignored request and suppresses tracing inside it', async () => {
    ignoreNext = true;
    expect((await fetch(`${base}/ignored`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(serverSpans()).toEqual([]);
  });

  it('stops on disable and starts again on enable', async () => {
    instrumentation.disable();
    await fetch(`${base}/off`);
    await new Promise((r) => setTimeout(r, 50));
    expect(serverSpans()).toEqual([]);
    instrumentation.enable();
    await fetch(`${base}/on`);
    const [span] = await settle();
    expect(span.name).toBe('GET /on');
  });
});
