import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { findSample, scrape } from '../../scripts/dev/prometheus.mjs';
import { fixture, freePort, get, startApp, type App } from './child.ts';
import { SERVER } from './traces.ts';

interface AlertJson {
  id: string;
  rule: string;
  key: string;
  severity: string;
  observed: number;
  threshold: number;
  ratio: number;
  message: string;
  exemplarTraceId?: string;
  exemplarSpanId?: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(env: Record<string, string>): Promise<{ receiver: OtlpReceiver; app: App }> {
  const receiver = await startOtlpReceiver();
  cleanups.push(() => receiver.close());
  const app = await startApp(['--import', 'healthspan/register'], fixture('alert-log-app.mjs'), {
    OTEL_SERVICE_NAME: 'alert-log-app',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '100',
    // 100 ms requests against a 20 ms threshold: p95/threshold > 3, a critical slow_request.
    HEALTHSPAN_SLOW_REQUEST_MS: '20',
    HEALTHSPAN_INSIGHT_INTERVAL_MS: '200',
    HEALTHSPAN_INSIGHT_WARMUP_MS: '0',
    SLOW_MS: '100',
    ...env,
  });
  cleanups.push(() => app.stop());
  return { receiver, app };
}

/** Waits for the fixture to print its first alert transition (from `onAlert`). */
async function firstTransition(app: App): Promise<{ transition: string; alert: AlertJson }> {
  for (let i = 0; i < 100; i++) {
    const line = app
      .stdout()
      .split('\n')
      .find((l) => l.startsWith('alert '));
    if (line) return JSON.parse(line.slice('alert '.length));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no alert transition\nstdout: ${app.stdout()}\nstderr: ${app.stderr()}`);
}

/** The 20 slow requests a rule needs before it judges the route's p95, at once. */
const slowBurst = (app: App) => Promise.all(Array.from({ length: 20 }, () => get(`${app.url}/slow`)));
const allSlow = (receiver: OtlpReceiver) => receiver.waitForSpans((all) => all.filter((s) => s.name === 'GET /slow').length >= 20);

const transitions = (app: App) =>
  app
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('alert ')).length;

describe('alert log records under --import', () => {
  it('OTEL_LOGS_EXPORTER=otlp: one healthspan.alert record per transition, linked to the slow request span', async () => {
    const { receiver, app } = await setup({ OTEL_LOGS_EXPORTER: 'otlp' });
    expect(app.stderr()).toContain(`logs:             otlp http/protobuf → ${receiver.url}/v1/logs (alert records)`);
    await slowBurst(app);
    const { transition, alert } = await firstTransition(app);
    expect([transition, alert.rule, alert.key, alert.severity]).toEqual(['fired', 'slow_request', 'GET /slow', 'critical']);

    const span = (await allSlow(receiver)).find((s) => s.spanId === alert.exemplarSpanId)!;
    expect(span.kind).toBe(SERVER);
    await receiver.waitForLogs(1);
    // SIGTERM flushes everything still queued: nothing more than the one record may arrive.
    await app.stop();

    expect(transitions(app)).toBe(1);
    expect(receiver.errors).toEqual([]);
    expect(receiver.logs).toHaveLength(1);
    const [log] = receiver.logs;
    expect(log).toEqual({
      eventName: 'healthspan.alert',
      severityNumber: 19, // ERROR3
      severityText: 'ERROR3',
      body: alert.message,
      attributes: {
        'alert.id': alert.id,
        'alert.rule': 'slow_request',
        'alert.key': 'GET /slow',
        'alert.severity': 'critical',
        'alert.state': 'firing',
        'alert.transition': 'fired',
        'alert.observed': alert.observed,
        'alert.threshold': 20,
        'alert.ratio': alert.ratio,
      },
      traceId: span.traceId,
      spanId: span.spanId,
      resource: expect.objectContaining({ 'service.name': 'alert-log-app', 'telemetry.distro.name': 'healthspan' }),
      scope: { name: 'healthspan', version: expect.any(String) },
    });
    expect(log.body).toMatch(/^slow route GET \/slow: p95 [\d,]+ ms over 20 ms, 20 requests in the last 60 s$/);
    // The record and the span agree on the exemplar the alert itself carries.
    expect([alert.exemplarTraceId, alert.exemplarSpanId]).toEqual([span.traceId, span.spanId]);
    // The only span is the request's: emitting and exporting the record traced nothing.
    expect(new Set(receiver.spans.map((s) => s.name))).toEqual(new Set(['GET /slow']));
    expect(receiver.spans).toHaveLength(20);
    expect(receiver.requests.filter((r) => r.path === '/v1/logs').every((r) => r.protocol === 'http/protobuf')).toBe(true);
  });

  it('OTEL_LOGS_EXPORTER=none: the alert fires and no log record is sent', async () => {
    const { receiver, app } = await setup({ OTEL_LOGS_EXPORTER: 'none' });
    expect(app.stderr()).toContain('logs:             none\n');
    await slowBurst(app);
    expect((await firstTransition(app)).alert).toMatchObject({ rule: 'slow_request', key: 'GET /slow', severity: 'critical' });
    await receiver.waitForSpans((all) => all.some((s) => s.name === 'GET /slow'));
    await new Promise((r) => setTimeout(r, 400)); // 4 × OTEL_BLRP_SCHEDULE_DELAY
    await app.stop();
    expect(transitions(app)).toBe(1);
    expect(app.stderr()).toMatch(/alert fired \[critical\] slow route GET \/slow/);
    expect(receiver.logs).toEqual([]);
    expect(receiver.requests.filter((r) => r.path === '/v1/logs')).toEqual([]);
  });

  it('a record still queued at SIGTERM is flushed before the process exits', async () => {
    // A schedule delay far beyond the test: only the shutdown on SIGTERM can send the record.
    const { receiver, app } = await setup({ OTEL_LOGS_EXPORTER: 'otlp', OTEL_BLRP_SCHEDULE_DELAY: '600000' });
    await slowBurst(app);
    await firstTransition(app);
    await allSlow(receiver);
    expect(receiver.logs).toEqual([]);
    const { signal } = await app.stop('SIGTERM');
    expect(signal).toBe('SIGTERM'); // the app has no handler: healthspan flushed, then re-raised it
    expect(receiver.logs.map((l) => [l.eventName, l.attributes['alert.transition'], l.attributes['alert.key']])).toEqual([
      ['healthspan.alert', 'fired', 'GET /slow'],
    ]);
  });

  it('a failed log export is counted in healthspan.exporter.dropped{signal="logs"} and warned about', async () => {
    const prom = await freePort();
    const { receiver, app } = await setup({
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_PORT: String(prom),
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1000',
    });
    receiver.setFailure('http503'); // every export from now on, the alert's record included
    await slowBurst(app);
    await firstTransition(app);
    let dropped: number | undefined;
    for (let i = 0; i < 60 && !dropped; i++) {
      await new Promise((r) => setTimeout(r, 100));
      dropped = findSample((await scrape(`http://127.0.0.1:${prom}/metrics`)).samples, 'healthspan_exporter_dropped_total', {
        signal: 'logs',
        reason: 'export_failed',
      })?.value;
    }
    expect(dropped).toBe(1);
    expect(app.stderr()).toContain(`healthspan: warning: log export to ${receiver.url}/v1/logs failed (`);
    expect(app.stderr()).toContain('; 1 log records dropped, 1 in total (healthspan.exporter.dropped)');
    expect(receiver.requests.some((r) => r.path === '/v1/logs')).toBe(true);
    expect(receiver.logs).toEqual([]);
  });
});
