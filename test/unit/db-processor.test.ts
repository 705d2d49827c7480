import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { DbProcessor } from '../../src/db/processor.js';

function setup(sanitize = true) {
  const spans = new InMemorySpanExporter();
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const provider = new TracerProvider({
    spanProcessors: [new DbProcessor({ sanitize, meter: meterProvider.getMeter('healthspan') }), new SimpleSpanProcessor({ exporter: spans })],
  });
  const tracer = provider.getTracer('test');
  const end = (name: string, attributes: Attributes, kind = SpanKind.CLIENT, fail?: () => void) => {
    const span = tracer.startSpan(name, { kind, attributes });
    if (fail) {
      span.recordException("PostgreSQL error of type 'error' occurred (code: 23505)");
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'duplicate key value violates unique constraint "users_email_key"' });
    }
    span.end();
    return spans.getFinishedSpans().at(-1)!;
  };
  const points = async () => {
    await reader.forceFlush();
    const m = metrics
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((s) => s.metrics)
      .find((x) => x.descriptor.name === 'db.client.operation.duration');
    return m?.dataPoints.map((p) => p.attributes) ?? [];
  };
  return { end, points };
}

function setupTracer() {
  const spans = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new DbProcessor(), new SimpleSpanProcessor({ exporter: spans })] });
  return { tracer: provider.getTracer('test'), spans };
}

const pg = { 'db.system.name': 'postgresql', 'db.namespace': 'shop', 'server.address': 'db', 'server.port': 5432 };

describe('DbProcessor', () => {
  it('names the span by its summary, derives operation and collection, and sanitizes the text', () => {
    const { end } = setup();
    const span = end('pg.query:SELECT shop', { ...pg, 'db.query.text': "SELECT * FROM users WHERE email = 'a@b.c' AND id IN (1, 2, 3)" });
    expect(span.name).toBe('SELECT users');
    expect(span.attributes).toEqual({
      ...pg,
      'db.query.text': 'SELECT * FROM users WHERE email = ? AND id IN (?)',
      'db.query.summary': 'SELECT users',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'users',
    });
  });

  it('keeps the text as written when sanitizing is off (unsafe) but still names the span', () => {
    const { end } = setup(false);
    const span = end('q', { ...pg, 'db.query.text': "DELETE FROM sessions WHERE token = 'abc'" });
    expect(span.name).toBe('DELETE sessions');
    expect(span.attributes['db.query.text']).toBe("DELETE FROM sessions WHERE token = 'abc'");
  });

  it('sets error.type from the SQLSTATE and removes quoted parts from the status message', () => {
    const { end } = setup();
    const span = end('q', { ...pg, 'db.query.text': 'INSERT INTO users (email) VALUES ($1)' }, SpanKind.CLIENT, () => {});
    expect(span.attributes['error.type']).toBe('23505');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'duplicate key value violates unique constraint ?' });
  });

  it("sets error.type to the driver's code when the connection broke (ECONNRESET), with no response status code", () => {
    const { tracer, spans } = setupTracer();
    const span = tracer.startSpan('query', { kind: SpanKind.CLIENT, attributes: { ...pg, 'db.query.text': 'SELECT 1' } });
    span.recordException("PostgreSQL error of type 'error' occurred (code: ECONNRESET)");
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'read ECONNRESET' });
    span.end();
    const [done] = spans.getFinishedSpans();
    expect(done.attributes['error.type']).toBe('ECONNRESET');
    expect(done.attributes['db.response.status_code']).toBeUndefined();
  });

  it('names redis spans by the upper-cased command', () => {
    const { end } = setup();
    const span = end('get', { 'db.system.name': 'redis', 'db.operation.name': 'get', 'db.query.text': 'GET ?' });
    expect(span.name).toBe('GET');
    expect(span.attributes).toMatchObject({ 'db.operation.name': 'GET', 'db.query.summary': 'GET', 'db.query.text': 'GET ?' });
  });

  it('scrubs exception events like the status: message and the first line of the stack, quoted values gone', () => {
    const { tracer, spans } = setupTracer();
    const span = tracer.startSpan('query', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'mysql', 'db.query.text': 'INSERT INTO users (email) VALUES (?)' },
    });
    const err = Object.assign(new Error("Duplicate entry 'alice@example.com' for key 'users.email'"), { code: 'ER_DUP_ENTRY' });
    span.recordException(err);
    span.recordException('Key (email)=(alice@example.com) already exists.');
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.end();
    const [done] = spans.getFinishedSpans();
    expect(done.status.message).toBe('Duplicate entry ?');
    expect(done.events.map((e) => e.attributes?.['exception.message'])).toEqual(['Duplicate entry ?', 'Key (email)=(?) already exists.']);
    const stack = String(done.events[0].attributes?.['exception.stacktrace']).split('\n');
    expect(stack[0]).toBe('Error: Duplicate entry ?');
    expect(stack[1]).toMatch(/^\s+at /);
    expect(JSON.stringify(done.events)).not.toContain('alice');
  });

  it('records no db.client.operation.duration for connection set-up (redis-connect, HELLO, CLIENT SETINFO)', async () => {
    const { end, points } = setup();
    end('redis-connect', { 'db.system.name': 'redis' });
    end('hello', { 'db.system.name': 'redis', 'db.operation.name': 'hello', 'db.query.text': 'HELLO' });
    end('client', { 'db.system.name': 'redis', 'db.operation.name': 'client', 'db.query.text': 'CLIENT' });
    end('connect', { 'db.system.name': 'redis', 'db.query.text': 'connect' });
    end('get', { 'db.system.name': 'redis', 'db.operation.name': 'get', 'db.query.text': 'GET ?' });
    expect((await points()).map((p) => p['db.operation.name'])).toEqual(['GET']);
  });

  it('names a Redis command sent in a batch by the command, and the batch in healthspan.redis.batch', () => {
    const { end } = setup();
    expect(end('MULTI', { 'db.system.name': 'redis', 'db.operation.name': 'MULTI', 'db.query.text': 'SET ?' }).attributes).toMatchObject({
      'db.operation.name': 'SET',
      'healthspan.redis.batch': 'MULTI',
    });
    expect(end('PIPELINE SET', { 'db.system.name': 'redis', 'db.operation.name': 'PIPELINE SET', 'db.query.text': 'SET ?' }).name).toBe('SET');
    const multi = end('multi', { 'db.system.name': 'redis', 'db.operation.name': 'multi', 'db.query.text': 'MULTI' });
    expect(multi.name).toBe('MULTI');
    expect(multi.attributes['healthspan.redis.batch']).toBeUndefined();
  });

  it('leaves spans that are not database CLIENT spans alone', () => {
    const { end } = setup();
    expect(end('GET /x', { 'http.request.method': 'GET' }).name).toBe('GET /x');
    expect(end('internal', { ...pg, 'db.query.text': "SELECT 'x'" }, SpanKind.INTERNAL).attributes['db.query.text']).toBe("SELECT 'x'");
  });

  it('records db.client.operation.duration with low-cardinality attributes only', async () => {
    const { end, points } = setup();
    end('q', { ...pg, 'db.query.text': 'SELECT name FROM users WHERE id = 7' });
    end('q', { ...pg, 'db.query.text': 'SELECT name FROM users WHERE id = 8' });
    end('get', { 'db.system.name': 'redis', 'db.operation.name': 'get', 'db.query.text': 'GET ?' });
    end('GET /x', { 'http.request.method': 'GET' });
    expect(await points()).toEqual([
      { ...pg, 'db.operation.name': 'SELECT', 'db.collection.name': 'users', 'db.query.summary': 'SELECT users' },
      { 'db.system.name': 'redis', 'db.operation.name': 'GET', 'db.query.summary': 'GET' },
    ]);
  });
});
