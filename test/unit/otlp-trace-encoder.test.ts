import { afterEach, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, TraceFlags, context, trace, type HrTime } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { encodeSpan, encodeTraceRequest } from '../../src/exporters/otlp-trace-encoder.js';
import { DropCounter } from '../../src/exporters/dropped.js';
import { ExportSpanProcessor } from '../../src/exporters/span-processor.js';
import { Logger } from '../../src/log.js';
import { createProtobufTraceExporter, createProtobufTraceExporterOnFirstExport, takesEncodedSpans } from '../../src/exporters/otlp-proto-trace.js';
import { decodeOtlpProtobuf, startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';

const upstream = (spans: ReadableSpan[]) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
const ours = (spans: ReadableSpan[]) => Buffer.from(encodeTraceRequest(spans));
/** The request made from spans encoded as they ended (every one, or every other one). */
const fromEncoded = (spans: ReadableSpan[], every = 1) => Buffer.from(encodeTraceRequest(spans.map((s, i) => (i % every === 0 ? encodeSpan(s) : s))));
/** Ours, from spans and from spans encoded as they ended (all, and mixed), equals the transformer's. */
function expectSameBytes(spans: ReadableSpan[]): void {
  const expected = upstream(spans);
  expect(ours(spans).equals(expected)).toBe(true);
  expect(fromEncoded(spans).equals(expected)).toBe(true);
  expect(fromEncoded(spans, 2).equals(expected)).toBe(true);
}

function recorder(resourceAttributes: Record<string, unknown> = { 'service.name': 'encoder-test' }) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resourceAttributes as never),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    spanLimits: { attributeValueLengthLimit: 100_000 },
  });
  return { provider, spans: () => exporter.getFinishedSpans() as ReadableSpan[] };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('encodeTraceRequest', () => {
  it('writes the same bytes as the transformer for an http server span', () => {
    const { provider, spans } = recorder();
    const span = provider.getTracer('healthspan-http-server', '0.1.0').startSpan('GET /users/:id', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.scheme': 'http',
        'url.path': '/users/42',
        'server.port': 8080,
        'client.address': '127.0.0.1',
        'user_agent.original': 'curl/8.0',
      },
    });
    span.setAttribute('http.response.status_code', 200);
    span.setAttribute('http.route', '/users/:id');
    span.end();
    expect(spans()).toHaveLength(1);
    expectSameBytes(spans());
  });

  it('writes the same bytes for every value type, events, links, status, parents and trace state', () => {
    const { provider, spans } = recorder({
      'service.name': 'svc',
      'process.pid': 1234,
      'process.command_args': ['node', 'app.js'],
      'host.arch': 'amd64',
      ratio: 0.25,
      ok: true,
    });
    const tracer = provider.getTracer('scope-a', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
    const parentCtx = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=a1,other=b2'),
    });
    const child = tracer.startSpan(
      'SELECT users',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.query.text': 'SELECT * FROM users WHERE name = ? AND bio LIKE ?',
          int: 7,
          negative: -42,
          big: 2 ** 40 + 3,
          huge: 2 ** 62,
          neg64: -(2 ** 55),
          zero: 0,
          float: Math.PI,
          nan: Number.NaN,
          inf: Number.POSITIVE_INFINITY,
          yes: true,
          no: false,
          empty: '',
          strings: ['a', 'bé', ''],
          numbers: [1, 2.5, -3],
          bools: [true, false],
          unicode: 'naïve café ☕ 日本語 😀',
          long: 'x'.repeat(300),
          longUnicode: 'é'.repeat(5000),
          lone: 'broken \ud800 surrogate',
        },
        links: [
          {
            context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED },
            attributes: { 'link.reason': 'batch' },
          },
          {
            context: {
              traceId: '4bf92f3577b34da6a3ce929d0e0e4737',
              spanId: '00f067aa0ba902b8',
              traceFlags: TraceFlags.NONE,
              isRemote: true,
              traceState: new TraceState('k=v'),
            },
          },
        ],
      },
      parentCtx,
    );
    child.addEvent('exception', {
      'exception.type': 'Error',
      'exception.message': 'boom ✗',
      'exception.stacktrace': 'Error: boom\n    at x (y.js:1:1)\n'.repeat(40),
    });
    child.addEvent('plain');
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'failed: ünïcode' });
    child.end();
    const other = provider.getTracer('scope-b').startSpan('internal');
    other.setStatus({ code: SpanStatusCode.OK });
    other.end();
    const three = tracer.startSpan('many', {
      attributes: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`attr.${i}`, `value-${i}-${'z'.repeat(i)}`])),
    });
    three.end();

    expect(spans()).toHaveLength(3);
    expectSameBytes(spans());
  });

  it('writes the same bytes for a batch of a thousand spans under two resources', () => {
    const a = recorder({ 'service.name': 'a' });
    const b = recorder({ 'service.name': 'b' });
    for (let i = 0; i < 500; i++) {
      const root = a.provider.getTracer('t1').startSpan(`GET /r/${i % 7}`, { kind: SpanKind.SERVER, attributes: { i, 'url.path': `/r/${i}` } });
      const ctx = trace.setSpan(context.active(), root);
      b.provider
        .getTracer(i % 2 ? 't2' : 't3')
        .startSpan(`q${i}`, { attributes: { n: i * 1000 } }, ctx)
        .end();
      root.end();
    }
    const mixed = [...a.spans(), ...b.spans()].sort(() => Math.random() - 0.5);
    expect(mixed).toHaveLength(1000);
    expectSameBytes(mixed);
  });

  it('writes the same bytes for values the SDK never makes but the proto allows (kvlist, bytes, null)', () => {
    const { provider, spans } = recorder();
    provider.getTracer('t').startSpan('s').end();
    const real = spans()[0]!;
    const fake = Object.create(real, {
      attributes: {
        value: {
          nested: { inner: 'x', deeper: { n: 1, list: [1, 'two', { k: false }] } },
          raw: new Uint8Array([0, 1, 2, 255]),
          nothing: null,
          missing: undefined,
        },
      },
    }) as ReadableSpan;
    expectSameBytes([fake]);
  });

  it('writes the same bytes while attribute values repeat, change, change type, outgrow the cache, nest, or are NaN and -0', () => {
    const { provider, spans } = recorder();
    const base = spans;
    provider.getTracer('t').startSpan('s').end();
    const real = base()[0]!;
    const withAttributes = (attributes: Record<string, unknown>) => Object.create(real, { attributes: { value: attributes } }) as ReadableSpan;
    const sequence = [
      { a: 'x', n: 1, b: true, f: 1.5, z: 0 },
      { a: 'x', n: 1, b: true, f: 1.5, z: 0 },
      { a: 'x', n: 2, b: true, f: 1.5, z: -0 },
      { a: 'y', n: '2', b: false, f: Number.NaN, z: '0' },
      { a: 'y', n: '2', b: false, f: Number.NaN, z: '0' },
      { a: 'y'.repeat(200), n: 2, b: 'true', nested: { a: 'x', n: 1, deeper: { a: 'y' } } },
      { a: 'x', n: 1, nested: { a: 'y', n: '2' }, b: true, list: ['x', 1] },
      { a: 'é', n: 2 ** 40, b: true, f: -1.5 },
      { a: 'é', n: 2 ** 40, b: true, f: -1.5 },
      { a: 'x', n: 1, b: true, f: 1.5, z: 0 },
    ].map(withAttributes);
    // One by one (the cache carries over from call to call), then all in one request.
    for (const span of sequence) expectSameBytes([span]);
    expectSameBytes(sequence);
    // A plain object, one without a prototype, and one whose prototype gained an enumerable key.
    expectSameBytes([withAttributes(Object.assign(Object.create(null), { a: 'x', n: 1 }))]);
    Object.defineProperty(Object.prototype, 'polluted', { value: 'inherited', enumerable: true, configurable: true, writable: true });
    try {
      expectSameBytes([withAttributes({ a: 'x', n: 1 })]);
      expect(ours([withAttributes({ a: 'x' })]).includes(Buffer.from('polluted'))).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expectSameBytes([withAttributes({ a: 'x', n: 1 })]);
  });

  it('encodes start and end times exactly, to the nanosecond, across the 64-bit range of dates', () => {
    const { provider, spans } = recorder();
    provider.getTracer('t').startSpan('s').end();
    const real = spans()[0]!;
    const times: HrTime[] = [
      [0, 0],
      [0, 999_999_999],
      [1, 0],
      [65_535, 999_999_999],
      [65_536, 1],
      [1_796_588_061, 846_000_123],
      [4_294_967_295, 999_999_999],
      [9_223_372_035, 854_775_807],
    ];
    for (let i = 0; i < 500; i++) times.push([Math.floor(Math.random() * 4_000_000_000), Math.floor(Math.random() * 1e9)]);
    for (const t of times) {
      const fake = Object.create(real, { startTime: { value: t }, endTime: { value: t } }) as ReadableSpan;
      const decoded = decodeOtlpProtobuf(encodeTraceRequest([fake]), 'traces') as {
        resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: bigint }[] }[] }[];
      };
      expect(decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.startTimeUnixNano).toBe(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]));
      expect(ours([fake]).equals(upstream([fake]))).toBe(true);
    }
  });

  it('returns a buffer of its own: the next call does not overwrite the last one', () => {
    const { provider, spans } = recorder();
    provider.getTracer('t').startSpan('first').end();
    const first = encodeTraceRequest(spans());
    const copy = Buffer.from(first);
    provider.getTracer('t').startSpan('second-and-longer-name').end();
    encodeTraceRequest(spans());
    expect(Buffer.from(first).equals(copy)).toBe(true);
  });

  it('keeps the bytes of spans encoded as they ended, across chunks and for a span larger than a chunk', () => {
    const { provider, spans } = recorder();
    const tracer = provider.getTracer('t');
    tracer.startSpan('huge', { attributes: { blob: 'x'.repeat(99_000), other: 'y'.repeat(99_000) } }).end();
    for (let i = 0; i < 3000; i++) tracer.startSpan(`span ${i}`, { attributes: { i, path: `/items/${i}` } }).end();
    const all = spans();
    const encoded = all.map(encodeSpan);
    // Encoding more spans after them (new chunks, the scratch writer reused) changes none of their bytes.
    for (let i = 0; i < 2000; i++) encodeSpan(all[i % all.length]!);
    expect(Buffer.from(encodeTraceRequest(encoded)).equals(upstream(all))).toBe(true);
  });

  it('encodes an empty batch as an empty request', () => {
    expect(encodeTraceRequest([]).length).toBe(0);
    expect(upstream([]).length).toBe(0);
  });
});

describe('createProtobufTraceExporter (http/protobuf with the one-pass encoder)', () => {
  let receiver: OtlpReceiver;

  it('delivers spans an ExportSpanProcessor encoded as they ended to a real OTLP receiver', async () => {
    receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const dropped = new DropCounter();
    // Only this exporter's serializer takes encoded spans; a processor in front of any other queues spans.
    const exporter = createProtobufTraceExporter({ url: `${receiver.url}/v1/traces` });
    expect(takesEncodedSpans(exporter)).toBe(true);
    expect(takesEncodedSpans(new InMemorySpanExporter())).toBe(false);
    const processor = new ExportSpanProcessor({
      exporter,
      maxQueueSize: 100,
      maxExportBatchSize: 10,
      scheduledDelayMillis: 60_000,
      exportTimeoutMillis: 10_000,
      dropped,
      log: new Logger('warn', 60_000, () => {}),
      destination: receiver.url,
    });
    const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'encoded-at-end' }), spanProcessors: [processor] });
    const tracer = provider.getTracer('scope', '1.0.0');
    for (let i = 0; i < 25; i++) {
      const root = tracer.startSpan(`GET /r/${i}`, { kind: SpanKind.SERVER, attributes: { 'http.route': `/r/${i}` } });
      tracer.startSpan(`child ${i}`, { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), root)).end();
      root.end();
    }
    await processor.forceFlush();
    const got = await receiver.waitForSpans(50);
    expect(got).toHaveLength(50);
    expect(dropped.total('traces')).toBe(0);
    const byName = Object.fromEntries(got.map((s) => [s.name, s]));
    for (let i = 0; i < 25; i++) {
      expect(byName[`GET /r/${i}`]).toMatchObject({ kind: 2, attributes: { 'http.route': `/r/${i}` }, scope: { name: 'scope', version: '1.0.0' } });
      expect(byName[`child ${i}`]).toMatchObject({ kind: 3, parentSpanId: byName[`GET /r/${i}`]!.spanId, traceId: byName[`GET /r/${i}`]!.traceId });
    }
    await processor.shutdown();
  });

  it('delivers spans a real OTLP receiver decodes, with their names, kinds, parents and attributes', async () => {
    receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const exporter = createProtobufTraceExporter({ url: `${receiver.url}/v1/traces` });
    const { provider, spans } = recorder();
    const tracer = provider.getTracer('scope', '9.9.9');
    const root = tracer.startSpan('GET /things', { kind: SpanKind.SERVER, attributes: { 'http.route': '/things' } });
    tracer.startSpan('SELECT things', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } }, trace.setSpan(context.active(), root)).end();
    root.end();
    const result = await new Promise<{ code: number }>((resolve) => exporter.export(spans(), resolve));
    expect(result.code).toBe(0);
    const got = await receiver.waitForSpans(2);
    const byName = Object.fromEntries(got.map((s) => [s.name, s]));
    expect(byName['GET /things']).toMatchObject({ kind: 2, attributes: { 'http.route': '/things' }, scope: { name: 'scope', version: '9.9.9' } });
    expect(byName['SELECT things']).toMatchObject({
      kind: 3,
      parentSpanId: byName['GET /things']!.spanId,
      traceId: byName['GET /things']!.traceId,
      attributes: { 'db.system.name': 'postgresql' },
    });
    await exporter.shutdown();
  });
});

describe('createProtobufTraceExporterOnFirstExport (the OTLP transport loaded when the first batch leaves)', () => {
  const export_ = (exporter: { export: (s: ReadableSpan[], cb: (r: { code: number; error?: Error }) => void) => void }, spans: ReadableSpan[]) =>
    new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));

  it('makes the exporter at the first export, once, and delivers through it; takes encoded spans', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    let made = 0;
    const exporter = createProtobufTraceExporterOnFirstExport(() => {
      made++;
      return createProtobufTraceExporter({ url: `${receiver.url}/v1/traces` });
    });
    expect(takesEncodedSpans(exporter)).toBe(true);
    await exporter.forceFlush!();
    expect(made).toBe(0);
    const { provider, spans } = recorder();
    provider.getTracer('scope').startSpan('first').end();
    expect((await export_(exporter, spans())).code).toBe(0);
    provider.getTracer('scope').startSpan('second').end();
    expect((await export_(exporter, spans().slice(1))).code).toBe(0);
    expect(made).toBe(1);
    expect((await receiver.waitForSpans(2)).map((s) => s.name).sort()).toEqual(['first', 'second']);
    await exporter.shutdown();
  });

  it('makes nothing when shut down before any export', async () => {
    let made = 0;
    const exporter = createProtobufTraceExporterOnFirstExport(() => {
      made++;
      return new InMemorySpanExporter();
    });
    await exporter.shutdown();
    expect(made).toBe(0);
  });

  it('answers a failed export, with the error, when the exporter cannot be made', async () => {
    const exporter = createProtobufTraceExporterOnFirstExport(() => {
      throw new Error('no transport');
    });
    const { provider, spans } = recorder();
    provider.getTracer('scope').startSpan('lost').end();
    const result = await export_(exporter, spans());
    expect(result.code).toBe(1);
    expect(result.error?.message).toBe('no transport');
  });
});
