import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { shutdown, start } from '../../src/index.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric, type ReceivedSpan } from '../../scripts/dev/otlp-receiver.mjs';
import { exported, underParent } from './spans.ts';
import { fixture, runScript } from '../preload/child.ts';

// Redis on 127.0.0.1:6379.
const CLIENT = 3;
const RUN = `${process.pid}-${Date.now().toString(36)}`;
// Every key and value used here carries one of these markers, so a leak is easy to find.
const KEY = `hs:sk-${RUN}:`;
const VALUE = `sv-${RUN}-`;
const SERVER = { 'db.system.name': 'redis', 'server.address': '127.0.0.1', 'server.port': 6379 };

type NodeRedis = typeof import('redis');
type NodeRedisClient = ReturnType<NodeRedis['createClient']>;
type IORedisClient = import('ioredis').Redis;

let receiver: OtlpReceiver;
let client: NodeRedisClient;
let io: IORedisClient;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  start({
    serviceName: 'redis-test',
    traces: { exporter: 'otlp', otlp: { endpoint: `${receiver.url}/v1/traces` }, batch: { scheduledDelayMillis: 50 } },
    metrics: { exporters: ['otlp'], otlp: { endpoint: `${receiver.url}/v1/metrics` }, exportIntervalMillis: 200 },
    instrumentations: ['redis', 'ioredis'],
    resourceDetectors: [],
  });
  // After start(): a static import would load the clients before the require hook is in place.
  const load = createRequire(import.meta.url);
  const redis: NodeRedis = load('redis');
  const IORedis: typeof import('ioredis').default = load('ioredis');
  client = redis.createClient({ socket: { host: '127.0.0.1', port: 6379 } });
  await client.connect();
  // Connected outside any span: ioredis' handshake (HELLO, CLIENT SETINFO, INFO) stays untraced.
  io = new IORedis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  await io.connect();
});

afterAll(async () => {
  const keys = await client?.keys(`${KEY}*`);
  if (keys?.length) await client.del(keys);
  await client?.quit();
  await io?.quit();
  await shutdown();
  await receiver?.close();
});

const shape = (s: ReceivedSpan) => ({ name: s.name, kind: s.kind, text: s.attributes['db.query.text'], status: s.status.code });

describe('node-redis', () => {
  it('names each command span by the command, under the caller span, without keys or values', async () => {
    const [k1, k2, k3] = [1, 2, 3].map((i) => `${KEY}nr-${i}`);
    const results: unknown[] = [];
    const spans = await underParent(
      receiver,
      'node-redis',
      async () => {
        results.push(await client.set(k1, `${VALUE}one`));
        results.push(await client.get(k1));
        results.push(await client.mGet([k1, k2, k3]));
        results.push(await client.del(k1));
      },
      4,
    );
    expect(results).toEqual(['OK', `${VALUE}one`, [`${VALUE}one`, null, null], 1]);
    expect(spans.map(shape)).toEqual([
      { name: 'SET', kind: CLIENT, text: 'SET ?', status: SpanStatusCode.UNSET },
      { name: 'GET', kind: CLIENT, text: 'GET ?', status: SpanStatusCode.UNSET },
      { name: 'MGET', kind: CLIENT, text: 'MGET ? ? ?', status: SpanStatusCode.UNSET },
      { name: 'DEL', kind: CLIENT, text: 'DEL ?', status: SpanStatusCode.UNSET },
    ]);
    expect(spans[0].scope.name).toBe('@opentelemetry/instrumentation-redis');
    expect(spans[0].attributes).toEqual({ ...SERVER, 'db.operation.name': 'SET', 'db.query.text': 'SET ?', 'db.query.summary': 'SET' });
    for (const s of spans) expect(exported(s)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
  });

  it('caps db.query.text at 16 placeholders', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `${KEY}many-${i}`);
    const [span] = await underParent(receiver, 'node-redis-many', () => client.mGet(keys), 1);
    expect(span.name).toBe('MGET');
    expect(span.attributes['db.query.text']).toBe(`MGET${' ?'.repeat(16)} …`);
  });

  it('traces the commands of a MULTI and of a pipeline, one span each', async () => {
    const k = `${KEY}nr-multi`;
    let multi: unknown;
    let pipeline: unknown;
    const spans = await underParent(
      receiver,
      'node-redis-multi',
      async () => {
        multi = await client.multi().set(k, `${VALUE}m`).get(k).exec();
        pipeline = await client.multi().set(k, `${VALUE}p1`).set(k, `${VALUE}p2`).execAsPipeline();
      },
      4,
    );
    expect(multi).toEqual(['OK', `${VALUE}m`]);
    expect(pipeline).toEqual(['OK', 'OK']);
    // One rule for both clients: each span is named by its command; the batch is in
    // healthspan.redis.batch (node-redis itself names them MULTI / PIPELINE SET).
    expect(spans.map(shape)).toEqual([
      { name: 'SET', kind: CLIENT, text: 'SET ?', status: SpanStatusCode.UNSET },
      { name: 'GET', kind: CLIENT, text: 'GET ?', status: SpanStatusCode.UNSET },
      { name: 'SET', kind: CLIENT, text: 'SET ?', status: SpanStatusCode.UNSET },
      { name: 'SET', kind: CLIENT, text: 'SET ?', status: SpanStatusCode.UNSET },
    ]);
    expect(spans.map((s) => s.attributes['healthspan.redis.batch'])).toEqual(['MULTI', 'MULTI', 'PIPELINE', 'PIPELINE']);
    expect(spans[0].attributes).toEqual({
      ...SERVER,
      'db.operation.name': 'SET',
      'db.query.text': 'SET ?',
      'db.query.summary': 'SET',
      'healthspan.redis.batch': 'MULTI',
    });
    for (const s of spans) expect(exported(s)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
  });

  it("hands the app node-redis' own error and marks the span as failed", async () => {
    const k = `${KEY}nr-not-a-number`;
    await client.set(k, `${VALUE}text`);
    let caught: Error | undefined;
    const [span] = await underParent(receiver, 'node-redis-error', () => client.incr(k).catch((e: Error) => (caught = e)), 1);
    expect(caught?.constructor.name).toBe('SimpleError');
    expect(caught?.message).toBe('ERR value is not an integer or out of range');
    expect(span).toMatchObject({ name: 'INCR', kind: CLIENT, status: { code: SpanStatusCode.ERROR } });
    expect(span.attributes['db.query.text']).toBe('INCR ?');
    expect(exported(span)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
  });
});

describe('ioredis', () => {
  it('names each command span by the command, under the caller span, without keys or values', async () => {
    const [k1, k2, k3] = [1, 2, 3].map((i) => `${KEY}io-${i}`);
    const results: unknown[] = [];
    const spans = await underParent(
      receiver,
      'ioredis',
      async () => {
        results.push(await io.set(k1, `${VALUE}one`));
        results.push(await io.get(k1));
        results.push(await io.mget(k1, k2, k3));
        results.push(await io.del(k1));
      },
      4,
    );
    expect(results).toEqual(['OK', `${VALUE}one`, [`${VALUE}one`, null, null], 1]);
    // ioredis sends lower-case command names; healthspan upper-cases the command everywhere.
    expect(spans.map(shape)).toEqual([
      { name: 'SET', kind: CLIENT, text: 'SET ?', status: SpanStatusCode.UNSET },
      { name: 'GET', kind: CLIENT, text: 'GET ?', status: SpanStatusCode.UNSET },
      { name: 'MGET', kind: CLIENT, text: 'MGET ? ? ?', status: SpanStatusCode.UNSET },
      { name: 'DEL', kind: CLIENT, text: 'DEL ?', status: SpanStatusCode.UNSET },
    ]);
    expect(spans[0].scope.name).toBe('@opentelemetry/instrumentation-ioredis');
    expect(spans[0].attributes).toEqual({ ...SERVER, 'db.operation.name': 'SET', 'db.query.text': 'SET ?', 'db.query.summary': 'SET' });
    for (const s of spans) expect(exported(s)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
  });

  it('traces pipelines and MULTI/EXEC, one span per command', async () => {
    const k = `${KEY}io-batch`;
    let pipeline: unknown;
    let multi: unknown;
    const spans = await underParent(
      receiver,
      'ioredis-batch',
      async () => {
        pipeline = await io.pipeline().set(k, `${VALUE}p`).get(k).exec();
        multi = await io.multi().set(k, `${VALUE}m`).get(k).exec();
      },
      6,
    );
    expect(pipeline).toEqual([
      [null, 'OK'],
      [null, `${VALUE}p`],
    ]);
    expect(multi).toEqual([
      [null, 'OK'],
      [null, `${VALUE}m`],
    ]);
    // Same rule as node-redis: named by the command, the batch in healthspan.redis.batch;
    // ioredis sends MULTI and EXEC as commands of their own, so they have spans.
    expect(spans.map((s) => [s.name, s.attributes['db.query.text'], s.attributes['healthspan.redis.batch']])).toEqual([
      ['SET', 'SET ?', 'PIPELINE'],
      ['GET', 'GET ?', 'PIPELINE'],
      ['MULTI', 'MULTI', undefined],
      ['SET', 'SET ?', 'MULTI'],
      ['GET', 'GET ?', 'MULTI'],
      ['EXEC', 'EXEC', undefined],
    ]);
    expect(spans.every((s) => s.kind === CLIENT && s.status.code === SpanStatusCode.UNSET)).toBe(true);
    for (const s of spans) expect(exported(s)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
  });

  it("hands the app ioredis' own error and marks the span as failed", async () => {
    const k = `${KEY}io-not-a-number`;
    await io.set(k, `${VALUE}text`);
    let caught: Error | undefined;
    const [span] = await underParent(receiver, 'ioredis-error', () => io.incr(k).catch((e: Error) => (caught = e)), 1);
    expect(caught?.name).toBe('ReplyError');
    expect(caught?.message).toBe('ERR value is not an integer or out of range');
    expect(span).toMatchObject({ name: 'INCR', kind: CLIENT, status: { code: SpanStatusCode.ERROR } });
    expect(span.attributes['db.query.text']).toBe('INCR ?');
    expect(exported(span)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
  });
});

describe('everything exported', () => {
  it('carries no key or value in any span, and no statement text in db.client.operation.duration', async () => {
    // Wait for the last test's spans to be in, then scan all of them, roots included.
    await receiver.waitForSpans((all) => all.length > 20);
    const leaks = receiver.spans.filter((s) => new RegExp(`sk-${RUN}|sv-${RUN}`).test(exported(s)));
    expect(leaks.map((s) => `${s.name}: ${exported(s)}`)).toEqual([]);

    const metric = await waitForMetric((m) => m.points.some((p) => p.attributes['db.query.summary'] === 'INCR'));
    expect(metric).toMatchObject({ unit: 's', type: 'histogram', scope: { name: 'healthspan' } });
    const get = metric.points.find((p) => p.attributes['db.query.summary'] === 'GET' && p.attributes['db.operation.name'] === 'GET');
    expect(get?.attributes).toEqual({ ...SERVER, 'db.operation.name': 'GET', 'db.query.summary': 'GET' });
    for (const p of metric.points) {
      expect(Object.keys(p.attributes)).not.toContain('db.query.text');
      expect(JSON.stringify(p.attributes)).not.toMatch(new RegExp(`sk-${RUN}|sv-${RUN}`));
    }
    expect(receiver.metrics.some((m) => m.name === 'db.client.operation.duration' && m.scope.name !== 'healthspan')).toBe(false);
  });
});

/** The latest export of db.client.operation.duration (cumulative), once `ready` holds for it. */
async function waitForMetric(ready: (m: ReceivedMetric) => boolean, timeoutMs = 5000): Promise<ReceivedMetric> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metric = receiver.metrics.findLast((m) => m.name === 'db.client.operation.duration');
    if (metric && ready(metric)) return metric;
    if (Date.now() > deadline) throw new Error(`db.client.operation.duration: ${JSON.stringify(metric?.points.map((p) => p.attributes))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ESM app preloaded with --import healthspan/register', () => {
  it('exports the command spans of node-redis and ioredis, named by the command', async () => {
    const service = `redis-esm-${process.pid}`;
    const r = await runScript(['--import', 'healthspan/register'], fixture('redis-esm.mjs'), {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      HS_TEST_KEY: `${KEY}esm`,
    });
    expect(r.stdout).toBe('node-redis null\nioredis null\n');
    expect(r.code).toBe(0);
    const mine = (all: ReceivedSpan[]) => all.filter((s) => s.resource['service.name'] === service && s.name === 'GET');
    const spans = mine(await receiver.waitForSpans((all) => mine(all).length >= 2));
    expect(spans.map((s) => [s.scope.name, s.attributes['db.query.text']]).sort()).toEqual([
      ['@opentelemetry/instrumentation-ioredis', 'GET ?'],
      ['@opentelemetry/instrumentation-redis', 'GET ?'],
    ]);
    // The fixture runs ioredis under a `job` span: its command is that span's child.
    const job = receiver.spans.find((s) => s.resource['service.name'] === service && s.name === 'job');
    expect(spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-ioredis')!.parentSpanId).toBe(job?.spanId);
  });
});
