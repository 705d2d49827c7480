import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { findSample, scrape } from '../../scripts/dev/prometheus.mjs';
import { fixture, freePort, runScript, startApp } from './child.ts';
import { CLIENT, SERVER } from './traces.ts';

const CONSUMER = 5;
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

/** Connects with a traceparent of our own, sends one number, returns the echo. */
async function roundTrip(url: string, traceId: string, parentId: string): Promise<string> {
  const c = new WebSocket(url, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
  await new Promise((r, j) => c.once('open', r).once('error', j));
  const echo = new Promise<string>((r) => c.once('message', (m) => r(String(m))));
  c.send('41');
  const answer = await echo;
  c.close();
  return answer;
}

describe.each([
  ['without message spans', {}, false],
  ['with message spans', { HEALTHSPAN_WS_MESSAGE_SPANS: 'true' }, true],
] as const)('ESM app with --import, %s', (_name, env, messageSpans) => {
  it('joins the handshake to the caller trace and a pg query in the message handler to it', async () => {
    const traceId = messageSpans ? '11111111111111111111111111111111' : '22222222222222222222222222222222';
    const parentId = '00f067aa0ba902b7';
    const app = await startApp(['--import', 'healthspan/register'], fixture('ws-app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    });
    try {
      expect(await roundTrip(`ws://127.0.0.1:${app.port}/ws`, traceId, parentId)).toBe('42');
      const all = await receiver.waitForSpans((s) => s.some((x) => x.traceId === traceId && x.name === 'GET /ws'));
      const handshake = all.find((s) => s.traceId === traceId && s.name === 'GET /ws')!;
      expect(handshake).toMatchObject({ kind: SERVER, parentSpanId: parentId, scope: { name: 'healthspan-ws' } });
      expect(handshake.attributes['http.response.status_code']).toBe(101);
      // The upgrade is one SERVER span: the HTTP server instrumentation does not see it too.
      expect(all.filter((s) => s.traceId === traceId && s.kind === SERVER)).toHaveLength(1);
      if (!messageSpans) {
        const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === traceId && x.name === 'SELECT'));
        const query = spans.find((s) => s.traceId === traceId && s.name === 'SELECT')!;
        expect(query.kind).toBe(CLIENT);
        expect(query.parentSpanId).toBe(handshake.spanId);
      } else {
        // The receive span starts its own trace, linked to the handshake; the query is its child.
        const isReceive = (s: { name: string; links: { spanId: string }[] }) => s.name === 'receive /ws' && s.links.some((l) => l.spanId === handshake.spanId);
        const spans = await receiver.waitForSpans((s) => {
          const r = s.find(isReceive);
          return !!r && s.some((x) => x.name === 'SELECT' && x.parentSpanId === r.spanId);
        });
        const receive = spans.find(isReceive)!;
        expect(receive.kind).toBe(CONSUMER);
        expect(receive.parentSpanId).toBeUndefined();
        const query = spans.find((s) => s.name === 'SELECT' && s.parentSpanId === receive.spanId)!;
        expect(query).toMatchObject({ kind: CLIENT, traceId: receive.traceId });
      }
    } finally {
      await app.stop();
    }
  });
});

describe('ws client', () => {
  it("makes a CLIENT handshake span that injects traceparent: the server's handshake is its child", async () => {
    const r = await runScript(['--import', 'healthspan/register'], fixture('ws-both.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'ws-both',
    });
    expect(r.stdout).toBe('echo hi\n');
    expect(r.code).toBe(0);
    const spans = receiver.spans.filter((s) => s.resource['service.name'] === 'ws-both');
    const server = spans.find((s) => s.name === 'GET /chat')!;
    const client = spans.find((s) => s.spanId === server.parentSpanId)!;
    expect(client).toMatchObject({ name: 'GET', kind: CLIENT, traceId: server.traceId });
    expect(client.parentSpanId).toBeUndefined();
  });
});

describe('socket.io', () => {
  it('is traced by the socket.io instrumentation and its engine connections are not counted as ours', async () => {
    const prom = await freePort();
    const app = await startApp(['--import', 'healthspan/register'], fixture('socketio-app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'sio',
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_PORT: String(prom),
    });
    const socket = ioClient(`http://127.0.0.1:${app.port}`, { transports: ['websocket'] });
    try {
      const reply = await new Promise((r) => socket.emit('hello', 'ann', r));
      expect(reply).toBe('hi ann');
      const spans = await receiver.waitForSpans((s) =>
        s.some((x) => x.resource['service.name'] === 'sio' && x.scope.name === '@opentelemetry/instrumentation-socket.io'),
      );
      const mine = spans.filter((s) => s.resource['service.name'] === 'sio');
      expect(mine.some((s) => s.scope.name === 'healthspan-ws')).toBe(false);
      const { samples } = await scrape(`http://127.0.0.1:${prom}/metrics`);
      expect(findSample(samples, 'healthspan_ws_connections_active')).toBeUndefined();
    } finally {
      socket.close();
      await app.stop();
    }
  });
});
