// Span processors, metric readers and instrumentation objects added from code
// (`start({ spanProcessors, metricReaders, extraInstrumentations })`), against real spans:
// a bare node:http server, PostgreSQL (127.0.0.1:5432) and a ws server.
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { ROOT_CONTEXT, SpanKind, context, createContextKey } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAN_ROOT_CONTEXT } from '../../instrumentations/shared/context.js';
import { WsInstrumentation } from '../../instrumentations/ws/index.js';
import { getSdk, shutdown, start } from '../../src/index.js';
import { until } from '../preload/child.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** What an added processor reads at onEnding, the last moment a span can still change. */
class OnEndingRecorder implements SpanProcessor {
  readonly seen: { name: string; route: unknown; summary: unknown; text: unknown }[] = [];
  onStart(): void {}
  onEnding(span: Span): void {
    const a = span.attributes;
    this.seen.push({ name: span.name, route: a['http.route'], summary: a['db.query.summary'], text: a['db.query.text'] });
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const spans = new InMemorySpanExporter();
const atEnding = new OnEndingRecorder();
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
const ws = new WsInstrumentation({ enabled: false });
const load = createRequire(import.meta.url);
let httpServer: import('node:http').Server;
let base: string;

beforeAll(async () => {
  start({
    serviceName: 'extensions-test',
    // Nothing of healthspan's own export: what the added processor and reader get is all there is.
    traces: { exporter: 'none' },
    metrics: { exporters: [] },
    instrumentations: ['http', 'pg'],
    resourceDetectors: [],
    logLevel: 'warn',
    spanProcessors: [atEnding, new SimpleSpanProcessor({ exporter: spans })],
    metricReaders: [reader],
    extraInstrumentations: [ws],
  });
  // After start(): required now, so the require hooks patch them.
  const http: typeof import('node:http') = load('node:http');
  httpServer = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  httpServer?.close();
  await shutdown();
});

const named = (name: string) => spans.getFinishedSpans().filter((s: ReadableSpan) => s.name === name);

describe('start({ spanProcessors })', () => {
  it("sees an HTTP server span with healthspan's http.route, at onEnding and at onEnd", async () => {
    expect(await (await fetch(`${base}/users/42?token=abc`)).text()).toBe('ok');
    await until('the server span', () => named('GET /users/:id').length === 1);
    const [span] = named('GET /users/:id');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes).toMatchObject({ 'http.route': '/users/:id', 'url.path': '/users/42', 'http.response.status_code': 200 });
    expect(span.resource.attributes['service.name']).toBe('extensions-test');
    expect(atEnding.seen.filter((s) => s.name === 'GET /users/:id')).toEqual([
      { name: 'GET /users/:id', route: '/users/:id', summary: undefined, text: undefined },
    ]);
  });

  it("sees a pg span with healthspan's db.query.summary and sanitized text, already at onEnding", async () => {
    const pg: typeof import('pg') = load('pg');
    const client = new pg.Client(DATABASE_URL);
    await client.connect();
    await client.query("SELECT relname FROM pg_class WHERE relname = 'secret-name'");
    await client.end();
    await until('the query span', () => named('SELECT pg_class').length === 1);
    const [span] = named('SELECT pg_class');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({ 'db.query.summary': 'SELECT pg_class', 'db.query.text': 'SELECT relname FROM pg_class WHERE relname = ?' });
    expect(atEnding.seen.filter((s) => s.name === 'SELECT pg_class')).toEqual([
      { name: 'SELECT pg_class', route: undefined, summary: 'SELECT pg_class', text: 'SELECT relname FROM pg_class WHERE relname = ?' },
    ]);
  });
});

describe('start({ metricReaders })', () => {
  it("receives healthspan's metrics, with no metrics exporter configured", async () => {
    await reader.forceFlush();
    const last: ResourceMetrics = metrics.getMetrics().at(-1)!;
    expect(last.resource.attributes['service.name']).toBe('extensions-test');
    const all = last.scopeMetrics.flatMap((s) => s.metrics.map((m) => ({ scope: s.scope.name, m })));
    const find = (name: string) => all.find((x) => x.m.descriptor.name === name);
    expect(find('http.server.request.duration')?.m.dataPoints.map((p) => p.attributes['http.route'])).toEqual(['/users/:id']);
    expect(find('db.client.operation.duration')?.scope).toBe('healthspan');
    expect(find('db.client.operation.duration')?.m.dataPoints.map((p) => p.attributes['db.query.summary'])).toEqual(['SELECT pg_class']);
    expect(find('healthspan.http.route.folded')?.m.dataPoints.map((p) => p.value)).toEqual([0]);
  });
});

describe("start()'s context manager", () => {
  it('answers the closure-free empty context outside any context (and for ROOT_CONTEXT), and the given one inside', () => {
    expect(context.active()).toBe(LEAN_ROOT_CONTEXT);
    expect(context.with(ROOT_CONTEXT, () => context.active())).toBe(LEAN_ROOT_CONTEXT);
    const key = createContextKey('start-extensions-test');
    const mine = ROOT_CONTEXT.setValue(key, 42);
    expect(context.with(mine, () => context.active())).toBe(mine);
    expect(context.active().setValue(key, 1).getValue(key)).toBe(1);
  });
});

describe('start({ extraInstrumentations })', () => {
  it('enables the instrumentation with the SDK: a ws handshake makes its span', async () => {
    expect(ws.isEnabled()).toBe(true);
    expect(getSdk()?.instrumentations.get('healthspan-ws')).toEqual([ws]);
    const { WebSocketServer, WebSocket }: typeof import('ws') = load('ws');
    const wss = new WebSocketServer({ server: httpServer, path: '/chat' });
    const client = new WebSocket(`${base.replace('http', 'ws')}/chat`);
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    });
    client.close();
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    wss.close();
    await until('the handshake span', () => named('GET /chat').length === 1);
    const [span] = named('GET /chat');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.instrumentationScope.name).toBe('healthspan-ws');
    expect(span.attributes).toMatchObject({ 'http.route': '/chat', 'http.response.status_code': 101 });
  });

  it('disables it at shutdown', async () => {
    await shutdown();
    expect(ws.isEnabled()).toBe(false);
    expect(getSdk()).toBeUndefined();
  });
});
