// Proves the receiver against the real OTLP exporters in node_modules (not against itself), so
// e2e tests built on it can trust what it decodes. No global API registration: files run in parallel.
import { afterEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, ValueType } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '../../scripts/dev/otlp-receiver.mjs';

const open: OtlpReceiver[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});
async function receiver(protocol: 'http' | 'grpc', countOnly = false) {
  const r = await startOtlpReceiver({ protocol, countOnly });
  open.push(r);
  return r;
}
const resource = resourceFromAttributes({ 'service.name': 'receiver-test', 'service.version': '9.9.9' });
const nanos = ([s, ns]: [number, number]) => BigInt(s) * 1_000_000_000n + BigInt(ns);
// The option is typed as an enum from otlp-exporter-base, which is not a direct dependency.
type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;
const LINK = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
// One of every AnyValue kind the SDK lets through; ints and doubles are split by Number.isInteger.
const ATTRS = {
  'a.string': 'héllo "world"',
  'a.empty': '',
  'a.int': 42,
  'a.negative': -7,
  'a.big': 2 ** 40,
  'a.double': 3.25,
  'a.true': true,
  'a.false': false,
  'a.strings': ['x', 'y'],
  'a.ints': [1, 2, 3],
  'a.doubles': [1.5, -0.25],
  'a.bools': [true, false],
  'a.map': { nested: 'yes', depth: 1, list: ['z'] },
  'a.bytes': new Uint8Array([0, 1, 255]),
};

type Case<E> = { name: string; server: 'http' | 'grpc'; path: string; make: (r: OtlpReceiver) => E };
const TRACES: Case<SpanExporter>[] = [
  { name: 'http/json', server: 'http', path: '/v1/traces', make: (r) => new JsonTraceExporter({ url: `${r.url}/v1/traces` }) },
  { name: 'http/protobuf', server: 'http', path: '/v1/traces', make: (r) => new ProtoTraceExporter({ url: `${r.url}/v1/traces` }) },
  { name: 'http/protobuf+gzip', server: 'http', path: '/v1/traces', make: (r) => new ProtoTraceExporter({ url: `${r.url}/v1/traces`, compression: GZIP }) },
  { name: 'grpc', server: 'grpc', path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', make: (r) => new GrpcTraceExporter({ url: r.url }) },
];
const METRICS: Case<PushMetricExporter>[] = [
  { name: 'http/json', server: 'http', path: '/v1/metrics', make: (r) => new JsonMetricExporter({ url: `${r.url}/v1/metrics` }) },
  { name: 'http/protobuf', server: 'http', path: '/v1/metrics', make: (r) => new ProtoMetricExporter({ url: `${r.url}/v1/metrics` }) },
  {
    name: 'grpc',
    server: 'grpc',
    path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    make: (r) => new GrpcMetricExporter({ url: r.url }),
  },
];

/** A SERVER parent with a CLIENT child carrying every attribute type, an event, a link and an error. */
async function emitSpans(exporter: SpanExporter) {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter }), new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer('receiver-test-scope', '1.2.3');
  const parent = tracer.startSpan('GET /orders/:id', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } });
  const child = tracer.startSpan(
    'SELECT orders',
    { kind: SpanKind.CLIENT, links: [{ context: LINK, attributes: { 'link.reason': 'batch' } }] },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.setAttributes(ATTRS);
  child.addEvent('retry', { attempt: 2, 'retry.reason': 'timeout' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection refused' });
  child.end();
  parent.end();
  await provider.forceFlush();
  const finished = memory.getFinishedSpans(); // before shutdown, which empties the memory exporter
  await provider.shutdown();
  return { parent: parent.spanContext(), child: child.spanContext(), finished };
}
const exportOnce = (exporter: SpanExporter, spans: ReadableSpan[]) => new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));

describe.each(TRACES)('traces over $name', ({ name, server, path, make }) => {
  it('decodes names, kinds, ids, attributes, events, links, status and timestamps exactly', async () => {
    const r = await receiver(server);
    const { parent, child, finished } = await emitSpans(make(r));
    const spans = await r.waitForSpans(2);
    expect(spans.map((s) => s.name).sort()).toEqual(['GET /orders/:id', 'SELECT orders']);
    const rp = spans.find((s) => s.name === 'GET /orders/:id')!;
    const rc = spans.find((s) => s.name === 'SELECT orders')!;
    expect(rp).toMatchObject({
      traceId: parent.traceId,
      spanId: parent.spanId,
      kind: 2,
      attributes: { 'http.request.method': 'GET' },
      status: { code: 0 },
      events: [],
      links: [],
    });
    expect(rp.parentSpanId).toBeUndefined();
    expect(rp.status.message).toBeUndefined();
    expect(rc).toMatchObject({ traceId: parent.traceId, spanId: child.spanId, parentSpanId: parent.spanId, kind: 3, flags: 0x101 });
    expect(rc.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(rc.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(rc.attributes).toEqual(ATTRS);
    expect(rc.events).toEqual([{ name: 'retry', attributes: { attempt: 2, 'retry.reason': 'timeout' } }]);
    expect(rc.links).toEqual([{ traceId: LINK.traceId, spanId: LINK.spanId, attributes: { 'link.reason': 'batch' } }]);
    expect(rc.status).toEqual({ code: 2, message: 'connection refused' });
    expect(rc.resource).toMatchObject({ 'service.name': 'receiver-test', 'service.version': '9.9.9' });
    expect(rc.scope).toEqual({ name: 'receiver-test-scope', version: '1.2.3' });
    const sdkChild = finished.find((s) => s.name === 'SELECT orders')!;
    expect(rc.startTimeUnixNano).toBe(nanos(sdkChild.startTime));
    expect(rc.endTimeUnixNano).toBe(nanos(sdkChild.endTime));
    expect(r.requests[0]).toMatchObject({ path, protocol: name.replace('+gzip', '') });
    if (name.endsWith('+gzip')) expect(r.requests[0].headers['content-encoding']).toBe('gzip');
    expect(r.spanCount).toBe(2);
    expect(r.errors).toEqual([]);
  });
});

describe.each(METRICS)('metrics over $name', ({ server, path, make }) => {
  it('decodes a sum, an int up-down sum, a gauge, a histogram and an exponential histogram', async () => {
    const r = await receiver(server);
    const reader = new PeriodicExportingMetricReader({ exporter: make(r), exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      resource,
      readers: [reader],
      views: [{ instrumentName: 'test.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('metrics-scope', '0.1.0');
    const requests = meter.createCounter('test.requests', { unit: '{request}', description: 'Requests served' });
    requests.add(3, { route: '/a' });
    requests.add(2, { route: '/a' });
    requests.add(1.5, { route: '/b' });
    meter.createUpDownCounter('test.inflight', { valueType: ValueType.INT }).add(-4, { pool: 'db' });
    meter.createGauge('test.temperature', { unit: 'Cel' }).record(21.5, { room: 'lab' });
    const duration = meter.createHistogram('test.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 10] } });
    for (const v of [0.05, 0.5, 5, 50]) duration.record(v, { route: '/a' });
    const exp = meter.createHistogram('test.exp');
    for (const v of [1, 2, 4]) exp.record(v);
    await provider.forceFlush();

    const get = (name: string) => r.waitForMetric(name);
    const byAttr = (m: ReceivedMetric, key: string, value: string) => m.points.find((p) => p.attributes[key] === value);
    const sum = await get('test.requests');
    expect(sum).toMatchObject({ type: 'sum', unit: '{request}', description: 'Requests served', isMonotonic: true, temporality: 2 });
    expect(sum.points).toHaveLength(2);
    expect(byAttr(sum, 'route', '/a')?.value).toBe(5);
    expect(byAttr(sum, 'route', '/b')?.value).toBe(1.5);
    expect(sum.resource).toMatchObject({ 'service.name': 'receiver-test' });
    expect(sum.scope).toEqual({ name: 'metrics-scope', version: '0.1.0' });
    const inflight = await get('test.inflight');
    expect(inflight).toMatchObject({ type: 'sum', isMonotonic: false, points: [{ attributes: { pool: 'db' }, value: -4 }] });
    const gauge = await get('test.temperature');
    expect(gauge).toMatchObject({ type: 'gauge', unit: 'Cel', temporality: undefined, points: [{ attributes: { room: 'lab' }, value: 21.5 }] });
    const hist = await get('test.duration');
    expect(hist).toMatchObject({ type: 'histogram', unit: 's', temporality: 2 });
    expect(hist.points).toEqual([
      { attributes: { route: '/a' }, count: 4, sum: 55.55, min: 0.05, max: 50, bucketCounts: [1, 1, 1, 1], explicitBounds: [0.1, 1, 10] },
    ]);
    const expHist = await get('test.exp');
    expect(expHist).toMatchObject({ type: 'exponentialHistogram', points: [{ attributes: {}, count: 3, sum: 7, min: 1, max: 4 }] });
    expect(r.requests[0]).toMatchObject({ path });
    expect(r.errors).toEqual([]);
    await provider.shutdown();
  });
});

describe('failure modes', () => {
  it('http503 makes the http exporters fail (after immediate retries) and recovers with none', async () => {
    const r = await receiver('http');
    const { finished } = await emitSpans(new InMemorySpanExporter());
    r.setFailure('http503');
    for (const exporter of [new ProtoTraceExporter({ url: `${r.url}/v1/traces` }), new JsonTraceExporter({ url: `${r.url}/v1/traces` })]) {
      const before = r.requests.length;
      expect((await exportOnce(exporter, finished)).code).toBe(ExportResultCode.FAILED);
      expect(r.requests.length - before).toBeGreaterThan(1); // 503 is retryable; retry-after: 0 keeps it fast
      await exporter.shutdown();
    }
    expect(r.spans).toEqual([]);
    r.setFailure('none');
    const exporter = new ProtoTraceExporter({ url: `${r.url}/v1/traces` });
    expect((await exportOnce(exporter, finished)).code).toBe(ExportResultCode.SUCCESS);
    expect(r.spanCount).toBe(2);
    await exporter.shutdown();
  });

  it('http503 answers UNAVAILABLE over grpc, and the metric exporter reports failure too', async () => {
    const r = await receiver('grpc');
    r.setFailure('http503');
    const { finished } = await emitSpans(new InMemorySpanExporter());
    const traces = new GrpcTraceExporter({ url: r.url });
    const result = await exportOnce(traces, finished);
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(String(result.error)).toMatch(/UNAVAILABLE|14/);
    await traces.shutdown();
    const metrics = new GrpcMetricExporter({ url: r.url });
    const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('m').createCounter('c').add(1);
    const { resourceMetrics } = await reader.collect();
    const metricResult = await new Promise<ExportResult>((resolve) => metrics.export(resourceMetrics, resolve));
    expect(metricResult.code).toBe(ExportResultCode.FAILED);
    expect(r.metrics).toEqual([]);
    await provider.shutdown();
  });

  it.each(['http', 'grpc'] as const)('reset drops the %s connection without an answer', async (server) => {
    const r = await receiver(server);
    r.setFailure('reset');
    const { finished } = await emitSpans(new InMemorySpanExporter());
    const exporter =
      server === 'http'
        ? new ProtoTraceExporter({ url: `${r.url}/v1/traces`, timeoutMillis: 500 })
        : new GrpcTraceExporter({ url: r.url, timeoutMillis: 2000 });
    expect((await exportOnce(exporter, finished)).code).toBe(ExportResultCode.FAILED);
    expect(r.requests.length).toBeGreaterThan(0);
    expect(r.spans).toEqual([]);
    await exporter.shutdown();
  });
});

// A minimal protobuf writer, only to build bodies the SDK cannot produce (summaries, logs, garbage).
const varint = (n: number | bigint) => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return Buffer.from(out);
};
const ld = (f: number, ...parts: Buffer[]) => {
  const b = Buffer.concat(parts);
  return Buffer.concat([varint(f * 8 + 2), varint(b.length), b]);
};
const str = (f: number, s: string) => ld(f, Buffer.from(s));
const vint = (f: number, n: number) => Buffer.concat([varint(f * 8), varint(n)]);
const fixed = (f: number, write: (b: Buffer) => void) => {
  const b = Buffer.alloc(8);
  write(b);
  return Buffer.concat([varint(f * 8 + 1), b]);
};
const kv = (f: number, key: string, value: Buffer) => ld(f, str(1, key), ld(2, value));
const post = (r: OtlpReceiver, path: string, type: string, body: Buffer | string, headers: Record<string, string> = {}) =>
  fetch(`${r.url}${path}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

describe('hand-built requests', () => {
  it('decodes protobuf summaries and logs with kvlist bodies', async () => {
    const r = await receiver('http');
    const summaryPoint = ld(
      1,
      kv(7, 'q', str(1, 'x')),
      fixed(4, (b) => b.writeBigUInt64LE(10n)),
      fixed(5, (b) => b.writeDoubleLE(12.5)),
      ld(
        6,
        fixed(1, (b) => b.writeDoubleLE(0.5)),
        fixed(2, (b) => b.writeDoubleLE(1.25)),
      ),
    );
    const metrics = ld(1, ld(1, kv(1, 'service.name', str(1, 'svc'))), ld(2, ld(1, str(1, 'scope')), ld(2, str(1, 'rpc.latency'), ld(11, summaryPoint))));
    expect((await post(r, '/v1/metrics', 'application/x-protobuf', metrics)).status).toBe(200);
    expect(await r.waitForMetric('rpc.latency')).toEqual({
      name: 'rpc.latency',
      type: 'summary',
      resource: { 'service.name': 'svc' },
      scope: { name: 'scope' },
      points: [{ attributes: { q: 'x' }, count: 10, sum: 12.5, quantiles: [{ quantile: 0.5, value: 1.25 }] }],
    });
    const body = ld(6, kv(1, 'user', str(1, 'ada')), kv(1, 'n', vint(3, -1)), kv(1, 'none', Buffer.alloc(0)));
    const record = Buffer.concat([
      vint(2, 9),
      str(3, 'INFO'),
      ld(5, body),
      kv(6, 'k', vint(2, 1)),
      ld(9, Buffer.from(LINK.traceId, 'hex')),
      ld(10, Buffer.from(LINK.spanId, 'hex')),
    ]);
    const logs = ld(1, ld(1), ld(2, ld(1, str(1, 'logger')), ld(2, record)));
    const res = await post(r, '/v1/logs', 'application/x-protobuf', gzipSync(logs), { 'content-encoding': 'gzip' });
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(await r.waitForLogs(1)).toEqual([
      {
        body: { user: 'ada', n: -1, none: null },
        severityNumber: 9,
        severityText: 'INFO',
        attributes: { k: true },
        traceId: LINK.traceId,
        spanId: LINK.spanId,
        resource: {},
        scope: { name: 'logger' },
      },
    ]);
  });

  it('accepts OTLP/JSON enum names, int64 strings and base64 ids', async () => {
    const r = await receiver('http');
    const span = {
      traceId: Buffer.from(LINK.traceId, 'hex').toString('base64'),
      spanId: LINK.spanId,
      parentSpanId: '',
      name: 'consume',
      kind: 'SPAN_KIND_CONSUMER',
      startTimeUnixNano: '1700000000000000001',
      endTimeUnixNano: 1700000000000000,
      attributes: [
        { key: 'n', value: { intValue: '-12' } },
        { key: 'd', value: { doubleValue: 'NaN' } },
      ],
      status: { code: 'STATUS_CODE_OK' },
    };
    const res = await post(r, '/v1/traces', 'application/json; charset=utf-8', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }));
    expect(await res.text()).toBe('{}');
    const [s] = await r.waitForSpans(1);
    expect(s).toMatchObject({
      traceId: LINK.traceId,
      spanId: LINK.spanId,
      parentSpanId: undefined,
      kind: 5,
      status: { code: 1 },
      attributes: { n: -12, d: NaN },
    });
    expect([s.startTimeUnixNano, s.endTimeUnixNano]).toEqual([1700000000000000001n, 1700000000000000n]);
    await post(
      r,
      '/v1/logs',
      'application/json',
      JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'SEVERITY_NUMBER_WARN', body: { stringValue: 'hi' } }] }] }] }),
    );
    expect((await r.waitForLogs(1))[0]).toMatchObject({ body: 'hi', severityNumber: 13 });
  });

  it('answers bad input with 4xx, records decode errors and keeps serving', async () => {
    const r = await receiver('http');
    expect((await post(r, '/v1/traces', 'application/x-protobuf', Buffer.from('definitely not protobuf'))).status).toBe(400);
    expect((await post(r, '/v1/traces', 'application/x-protobuf', Buffer.from([0x0a, 0x05, 0x12]))).status).toBe(400); // truncated
    expect((await post(r, '/v1/traces', 'application/json', '{"resourceSpans":')).status).toBe(400);
    expect((await post(r, '/v1/metrics', 'application/json', '{"resourceSpans":"nope"}')).status).toBe(200); // unknown keys are ignored
    expect((await post(r, '/v1/traces', 'application/x-protobuf', Buffer.from('x'), { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post(r, '/v1/traces', 'text/plain', 'hello')).status).toBe(415);
    expect((await post(r, '/v2/traces', 'application/json', '{}')).status).toBe(404);
    expect((await fetch(`${r.url}/v1/traces`)).status).toBe(405);
    expect(r.errors).toHaveLength(5);
    expect(r.spans).toEqual([]);
    const { finished } = await emitSpans(new InMemorySpanExporter());
    expect((await exportOnce(new ProtoTraceExporter({ url: `${r.url}/v1/traces` }), finished)).code).toBe(ExportResultCode.SUCCESS);
  });

  it('answers undecodable gRPC messages with INVALID_ARGUMENT', async () => {
    const r = await receiver('grpc');
    const raw = (b: Buffer) => b;
    const Client = grpc.makeGenericClientConstructor(
      {
        export: {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      'TraceService',
    );
    const client = new Client(`127.0.0.1:${r.port}`, grpc.credentials.createInsecure());
    const code = await new Promise((resolve) => client.export(Buffer.from([0xff, 0xff]), (err: grpc.ServiceError | null) => resolve(err?.code)));
    client.close();
    expect(code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.errors).toHaveLength(1);
  });
});

describe('waiting, counting and clearing', () => {
  it('rejects a timed-out wait with the span names received so far', async () => {
    const r = await receiver('http');
    await emitSpans(new ProtoTraceExporter({ url: `${r.url}/v1/traces` }));
    await expect(r.waitForSpans(3, 300)).rejects.toThrow(/received 2: \[(GET \/orders\/:id, SELECT orders|SELECT orders, GET \/orders\/:id)\]/);
    await expect(r.waitForSpans((spans) => spans.some((s) => s.kind === 3), 300)).resolves.toHaveLength(2);
    await expect(r.waitForMetric('missing', 100)).rejects.toThrow(/metric missing/);
    r.clear();
    expect([r.spans, r.requests, r.spanCount]).toEqual([[], [], 0]);
  });

  it.each(['http', 'grpc'] as const)('countOnly counts %s spans without keeping them', async (server) => {
    const r = await receiver(server, true);
    const url = server === 'http' ? `${r.url}/v1/traces` : r.url;
    const exporters: SpanExporter[] = server === 'http' ? [new ProtoTraceExporter({ url }), new JsonTraceExporter({ url })] : [new GrpcTraceExporter({ url })];
    for (const exporter of exporters) await emitSpans(exporter);
    await r.waitForSpans(exporters.length * 2);
    expect(r.spanCount).toBe(exporters.length * 2);
    expect(r.spans).toEqual([]);
  });
});

describe('limit', () => {
  it('keeps the first spans, log records and requests up to the limit and still counts every span', async () => {
    const r = await startOtlpReceiver({ limit: 3 });
    open.push(r);
    const span = (name: string) => ({ traceId: LINK.traceId, spanId: LINK.spanId, name });
    for (const names of [['a', 'b'], ['c', 'd'], ['e']]) {
      const body = { resourceSpans: [{ scopeSpans: [{ spans: names.map(span) }] }] };
      expect((await post(r, '/v1/traces', 'application/json', JSON.stringify(body))).status).toBe(200);
    }
    const logs = { resourceLogs: [{ scopeLogs: [{ logRecords: [1, 2, 3, 4].map((n) => ({ body: { intValue: n } })) }] }] };
    expect((await post(r, '/v1/logs', 'application/json', JSON.stringify(logs))).status).toBe(200);
    expect(r.spanCount).toBe(5);
    expect(r.spans.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(r.logs.map((l) => l.body)).toEqual([1, 2, 3]);
    expect(r.requests.map((q) => q.path)).toEqual(['/v1/traces', '/v1/traces', '/v1/traces']);
    await expect(r.waitForSpans(5, 100)).resolves.toHaveLength(3);
  });
});
