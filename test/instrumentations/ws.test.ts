import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ServerOptions, WebSocket as WsSocket, WebSocketServer as WsServer } from 'ws';

type WsApi = { WebSocket: typeof WsSocket; WebSocketServer: typeof WsServer };
import { WsInstrumentation } from '../../instrumentations/ws/index.js';

const spans = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const tracer = provider.getTracer('app');
const instrumentation = new WsInstrumentation({ enabled: false, messageSpansPerConnection: 3, routeFallback: (p) => p.replace(/\/\d+/g, '/:id') });

let ws: WsApi;
const SERVER = 1;
const CLIENT = 2;
const PRODUCER = 3;
const CONSUMER = 4;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929b0e0e4736-00f067aa0ba902b7-01';

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  instrumentation.setTracerProvider(provider);
  instrumentation.setMeterProvider(meterProvider);
  instrumentation.enable();
  ws = createRequire(import.meta.url)('ws');
});
afterAll(() => {
  instrumentation.disable();
  context.disable();
  propagation.disable();
  metrics.disable();
  trace.disable();
});
beforeEach(() => {
  spans.reset();
  instrumentation.setConfig({ ...instrumentation.getConfig(), messageSpans: false });
});

const finished = () => spans.getFinishedSpans();
const byName = (name: string) => finished().filter((s) => s.name === name);
async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !predicate(); ) {
    if (Date.now() > end)
      throw new Error(
        `timed out; spans: ${finished()
          .map((s) => s.name)
          .join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}
function connect(url: string, headers: Record<string, string> = {}): Promise<WsSocket> {
  return new Promise((resolve, reject) => {
    const c = new ws.WebSocket(url, { headers });
    c.once('open', () => resolve(c));
    c.once('error', reject);
  });
}
async function metricPoints(name: string) {
  await reader.forceFlush();
  const m = metricExporter
    .getMetrics()
    .at(-1)!
    .scopeMetrics.flatMap((s) => s.metrics)
    .find((x) => x.descriptor.name === name);
  return m?.dataPoints ?? [];
}

/** A server that echoes, and whose message handler makes a child span (as a DB query would). */
function echoServer(options: ServerOptions) {
  const wss = new ws.WebSocketServer(options);
  const childParents: (string | undefined)[] = [];
  wss.on('connection', (socket: WsSocket) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const child = tracer.startSpan('handle');
      childParents.push((child as unknown as ReadableSpan).parentSpanContext?.spanId);
      child.end();
      socket.send(data, { binary: isBinary });
    });
  });
  return { wss, childParents };
}

describe('WsInstrumentation', () => {
  it('{port}: one SERVER span per handshake, status 101, parented by the client traceparent', async () => {
    const { wss } = echoServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as AddressInfo).port;
    const c = await connect(`ws://127.0.0.1:${port}/rooms/42?token=x`, { traceparent: TRACEPARENT });
    c.close();
    await until(() => byName('GET /rooms/:id').length === 1);
    const [span] = byName('GET /rooms/:id');
    expect(span.kind).toBe(SERVER);
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929b0e0e4736');
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/rooms/:id',
      'url.path': '/rooms/42',
      'url.query': 'token=x',
      'url.scheme': 'http',
      'http.response.status_code': 101,
      'server.port': port,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': expect.any(Number),
    });
    expect(span.status.code).toBe(0);
    await new Promise((r) => wss.close(r));
  });

  it('{server}: message handlers run in the handshake context when message spans are off', async () => {
    const server = http.createServer();
    const { wss, childParents } = echoServer({ server });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/chat`);
    const echoed = new Promise((r) => c.once('message', (m) => r(String(m))));
    c.send('hello');
    expect(await echoed).toBe('hello');
    const [handshake] = byName('GET /chat');
    expect(childParents).toEqual([handshake.spanContext().spanId]);
    expect(byName('receive /chat')).toEqual([]);
    c.close();
    await new Promise((r) => wss.close(r));
    await new Promise((r) => server.close(r));
  });

  it('message spans: receive CONSUMER / send PRODUCER linked to the handshake, capped per connection and counted', async () => {
    instrumentation.setConfig({ ...instrumentation.getConfig(), messageSpans: true });
    const server = http.createServer();
    const { wss, childParents } = echoServer({ server });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/chat`);
    let got = 0;
    const all = new Promise<void>((r) => c.on('message', () => ++got === 5 && r()));
    for (let i = 0; i < 5; i++) c.send(`m${i}`);
    await all;
    const handshake = byName('GET /chat')[0].spanContext();
    const receives = byName('receive /chat');
    const sends = byName('send /chat');
    // Cap 3 per connection: 3 spans in all (receive, send, receive), the rest only counted.
    expect(receives.length + sends.length).toBe(3);
    for (const s of [...receives, ...sends]) {
      expect(s.parentSpanContext).toBeUndefined();
      expect(s.links.map((l) => l.context.spanId)).toEqual([handshake.spanId]);
    }
    expect(receives[0].kind).toBe(CONSUMER);
    expect(sends[0].kind).toBe(PRODUCER);
    // The first handler ran inside its receive span.
    expect(childParents[0]).toBe(receives[0].spanContext().spanId);
    const capped = await metricPoints('healthspan.ws.message.spans.capped');
    expect(capped[0].value).toBe(7);
    c.close();
    await new Promise((r) => wss.close(r));
    await new Promise((r) => server.close(r));
  });

  it('{noServer} + handleUpgrade: a refused handshake ends with its real status, and no route (its path is not one)', async () => {
    const wss = new ws.WebSocketServer({ noServer: true, verifyClient: (_info: unknown, done: (ok: boolean, code?: number) => void) => done(false, 401) });
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (s) => wss.emit('connection', s, req)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new ws.WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/private`);
    const status = await new Promise((r) => c.once('unexpected-response', (_req, res) => r(res.statusCode)));
    c.on('error', () => {});
    expect(status).toBe(401);
    await until(() => finished().some((s) => s.attributes['url.path'] === '/private'));
    const [span] = finished().filter((s) => s.attributes['url.path'] === '/private');
    expect(span.name).toBe('GET');
    expect(span.attributes['http.route']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(401);
    expect(span.status.code).toBe(0);
    expect(span.attributes['error.type']).toBeUndefined();
    wss.close();
    await new Promise((r) => server.close(r));
  });
});

describe('metrics', () => {
  it('count connections, messages each way and durations; active returns to 0, also for a client that vanishes', async () => {
    await reader.forceFlush();
    const pointsOf = (name: string, filter: (a: Record<string, unknown>) => boolean = () => true) =>
      metricPoints(name).then((ps) => ps.filter((p) => p.attributes['http.route'] === '/m/:id' && filter(p.attributes)));
    const server = http.createServer();
    const { wss } = echoServer({ server });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const clients = await Promise.all([1, 2, 3].map((i) => connect(`ws://127.0.0.1:${port}/m/${i}`)));
    expect((await pointsOf('healthspan.ws.connections.active'))[0].value).toBe(3);
    for (const c of clients) {
      let n = 0;
      const done = new Promise<void>((r) => c.on('message', () => ++n === 4 && r()));
      c.send('text');
      c.send(Buffer.from([1, 2, 3]));
      c.send('x'.repeat(100));
      c.send(new Uint8Array(10), { binary: true });
      await done;
    }
    const messages = await pointsOf('healthspan.ws.messages');
    const count = (dir: string, type: string) =>
      messages.find((p) => p.attributes['network.io.direction'] === dir && p.attributes['healthspan.ws.message.type'] === type)?.value;
    expect([count('receive', 'text'), count('receive', 'binary'), count('transmit', 'text'), count('transmit', 'binary')]).toEqual([6, 6, 6, 6]);
    const sizes = (
      await pointsOf('healthspan.ws.message.size', (a) => a['network.io.direction'] === 'receive' && a['healthspan.ws.message.type'] === 'text')
    )[0].value as { sum: number; count: number };
    expect({ sum: sizes.sum, count: sizes.count }).toEqual({ sum: 3 * (4 + 100), count: 6 });

    clients[0].close(1000);
    clients[1].close(4001, 'bye');
    // The third vanishes without a close frame: the server only notices the dead socket.
    (clients[2] as unknown as { _socket: { destroy(): void } })._socket.destroy();
    await until(() => wss.clients.size === 0);
    expect((await pointsOf('healthspan.ws.connections.active'))[0].value).toBe(0);
    const durations = await pointsOf('healthspan.ws.connection.duration');
    expect(durations.map((p) => p.attributes['healthspan.ws.close.code']).sort()).toEqual([1000, 1006, 4001]);
    wss.close();
    await new Promise((r) => server.close(r));
  });
});

describe('errors', () => {
  it('counts errors emitted by a connection by error.type, and the app still gets them', async () => {
    const server = http.createServer();
    const wss = new ws.WebSocketServer({ server });
    const appErrors: string[] = [];
    wss.on('connection', (s: WsSocket) => s.on('error', (err: Error & { code?: string }) => appErrors.push(err.code ?? err.message)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/err`);
    // A masked text frame whose payload is not UTF-8: the server must reject it.
    (c as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]));
    await until(() => appErrors.length === 1);
    expect(appErrors).toEqual(['WS_ERR_INVALID_UTF8']);
    await reader.forceFlush();
    const errors = (await metricPoints('healthspan.ws.errors')).filter((p) => p.attributes['http.route'] === '/err');
    expect(errors.map((p) => [p.attributes['error.type'], p.value])).toEqual([['WS_ERR_INVALID_UTF8', 1]]);
    c.terminate();
    wss.close();
    await new Promise((r) => server.close(r));
  });
});

describe('the app sees ws as it is', () => {
  it('send callbacks, ping/pong, binary and fragmented messages, compression and terminate behave as without us', async () => {
    const server = http.createServer();
    const wss = new ws.WebSocketServer({ server, perMessageDeflate: { threshold: 0 } });
    const received: unknown[] = [];
    const sendResults: unknown[] = [];
    wss.on('connection', (s) => {
      s.on('message', (data, isBinary) => {
        received.push([isBinary, Buffer.from(data as Buffer).toString('hex')]);
        s.send(data, { binary: isBinary }, (err) => sendResults.push(err ?? 'ok'));
      });
      s.on('ping', (d) => received.push(['ping', String(d)]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new ws.WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { perMessageDeflate: true });
    await new Promise((r) => c.once('open', r));
    const pong = new Promise((r) => c.once('pong', (d) => r(String(d))));
    c.ping('p1');
    expect(await pong).toBe('p1');
    let echoes = 0;
    const three = new Promise<void>((r) => c.on('message', () => ++echoes === 3 && r()));
    c.send(Buffer.from('ab'), { binary: true });
    // A fragmented text message: two frames, one message.
    c.send('hel', { fin: false });
    c.send('lo', { fin: true });
    c.send('z'.repeat(2000));
    await three;
    expect(received).toEqual([
      ['ping', 'p1'],
      [true, '6162'],
      [false, Buffer.from('hello').toString('hex')],
      [false, Buffer.from('z'.repeat(2000)).toString('hex')],
    ]);
    expect(sendResults).toEqual(['ok', 'ok', 'ok']);
    const closed = new Promise((r) => c.once('close', (code) => r(code)));
    [...wss.clients][0].terminate();
    expect(await closed).toBe(1006);
    wss.close();
    await new Promise((r) => server.close(r));
  });

  it('stops on disable and starts again on enable', async () => {
    const server = http.createServer();
    const { wss } = echoServer({ server });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/toggle`;
    instrumentation.disable();
    (await connect(url)).close();
    await new Promise((r) => setTimeout(r, 50));
    expect(byName('GET /toggle')).toEqual([]);
    instrumentation.enable();
    (await connect(url)).close();
    await until(() => byName('GET /toggle').length === 1);
    wss.close();
    await new Promise((r) => server.close(r));
  });
});

void CLIENT;
