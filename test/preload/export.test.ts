import { afterAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { findSample, scrape } from '../../scripts/dev/prometheus.mjs';
import { fixture, freePort, get, runScript, startApp } from './child.ts';
import { CLIENT, SERVER } from './traces.ts';

const receivers: OtlpReceiver[] = [];
afterAll(() => Promise.all(receivers.map((r) => r.close())));

describe.each([
  ['grpc', 'grpc'],
  ['http/protobuf', 'http'],
  ['http/json', 'http'],
] as const)('OTLP traces and metrics over %s', (protocol, kind) => {
  it('exports the request span and the http.server.request.duration metric', async () => {
    const receiver = await startOtlpReceiver({ protocol: kind });
    receivers.push(receiver);
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    try {
      expect((await get(`${app.url}/hello`)).status).toBe(200);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'GET /hello'));
      expect(spans.find((s) => s.name === 'GET /hello')!.kind).toBe(SERVER);
      const metric = await receiver.waitForMetric('http.server.request.duration');
      expect(metric.type).toBe('histogram');
      expect(metric.unit).toBe('s');
      const point = metric.points.find((p) => p.attributes['http.route'] === '/hello')!;
      expect(point.count).toBe(1);
      expect(point.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
      expect(receiver.requests.every((r) => r.protocol === protocol)).toBe(true);
      // Headers (gRPC: metadata) reach the collector.
      expect(receiver.requests.every((r) => r.headers['x-tenant'] === 'acme')).toBe(true);
    } finally {
      await app.stop();
    }
  });
});

describe('createPrometheusHandler', () => {
  it("serves the metrics from the app's own server when HEALTHSPAN_PROMETHEUS_SERVE=false", async () => {
    const app = await startApp(['--import', 'healthspan/register'], fixture('mounted-metrics.mjs'), {
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_SERVE: 'false',
    });
    try {
      expect((await get(`${app.url}/page`)).body).toBe('ok');
      const res = await scrape(`${app.url}/metrics`);
      expect(res.status).toBe(200);
      expect(findSample(res.samples, 'http_server_request_duration_count', { http_route: '/page' })?.value).toBe(1);
      expect(app.stderr()).toContain('metrics:          prometheus (mounted with createPrometheusHandler(), no listener)');
    } finally {
      await app.stop();
    }
  });

  it('answers 503 with a reason when healthspan does not run with the Prometheus exporter', async () => {
    const app = await startApp([], fixture('mounted-metrics.mjs'));
    try {
      const res = await get(`${app.url}/metrics`);
      expect(res).toEqual({ status: 503, body: 'healthspan is not running with OTEL_METRICS_EXPORTER=prometheus\n', type: 'text/plain; charset=utf-8' });
    } finally {
      await app.stop();
    }
  });
});

describe('a process that ends on its own', () => {
  it('flushes its spans on beforeExit and exits normally', async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const r = await runScript(['--import', 'healthspan/register'], fixture('short-lived.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_METRICS_EXPORTER: 'none',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('got bye\n');
    const names = receiver.spans.map((s) => `${s.name} ${s.kind}`).sort();
    expect(names).toEqual([`GET ${CLIENT}`, `GET /once ${SERVER}`].sort());
  });
});

describe('HEALTHSPAN_DB_CONNECT_SPANS=true', () => {
  it('adds the pg connect spans under the request', async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      HEALTHSPAN_DB_CONNECT_SPANS: 'true',
    });
    try {
      expect((await get(`${app.url}/users/3`)).status).toBe(200);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'pg.connect'));
      const root = spans.find((s) => s.name === 'GET /users/:id')!;
      const poolConnect = spans.find((s) => s.name === 'pg-pool.connect')!;
      expect(poolConnect).toMatchObject({ kind: CLIENT, parentSpanId: root.spanId });
      expect(spans.find((s) => s.name === 'pg.connect')).toMatchObject({ kind: CLIENT, parentSpanId: poolConnect.spanId });
    } finally {
      await app.stop();
    }
  });
});

describe('our own outgoing calls', () => {
  it("leave the app's http.client.request.duration alone: failing OTLP exports are not recorded, the app's calls are", async () => {
    const [prom, dead] = [await freePort(), await freePort()];
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}`, // nothing listens: every export fails
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_PORT: String(prom),
      HEALTHSPAN_LOG_LEVEL: 'error',
    });
    try {
      for (const id of [1, 2, 3]) expect((await get(`${app.url}/users/${id}`)).status).toBe(200);
      expect((await get(`${app.url}/via-http`)).status).toBe(200);
      // Let several exports fail.
      let dropped = 0;
      for (let i = 0; i < 50 && dropped === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        dropped = (await scrape(`http://127.0.0.1:${prom}/metrics`)).samples
          .filter((m) => m.name === 'healthspan_exporter_dropped_total')
          .reduce((n, m) => n + m.value, 0);
      }
      expect(dropped).toBeGreaterThan(0);
      const { samples } = await scrape(`http://127.0.0.1:${prom}/metrics`);
      const client = samples.filter((m) => m.name === 'http_client_request_duration_count');
      expect(client.filter((m) => m.labels.server_port === String(dead))).toEqual([]);
      // The app's own calls: three fetches (undici) and one node:http request to itself.
      expect(client.filter((m) => m.labels.server_port === String(app.port)).reduce((n, m) => n + m.value, 0)).toBe(4);
    } finally {
      await app.stop();
    }
  });
});

describe('sampling', () => {
  it('exports no span with OTEL_TRACES_SAMPLER=always_off, yet database metrics still count every query', async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_TRACES_SAMPLER: 'always_off',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    try {
      for (const id of [1, 2, 3]) expect((await get(`${app.url}/users/${id}`)).status).toBe(200);
      // An export may have caught only the first queries: wait for one taken after all three.
      const selects = async () =>
        (await receiver.waitForMetric('db.client.operation.duration')).points.find((p) => p.attributes['db.query.summary'] === 'SELECT')?.count;
      for (let i = 0; i < 50 && (await selects()) !== 3; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await selects()).toBe(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.spanCount).toBe(0);
    } finally {
      await app.stop();
    }
  });
});
