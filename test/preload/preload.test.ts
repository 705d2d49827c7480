import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { findSample, scrape } from '../../scripts/dev/prometheus.mjs';
import { fixture, freePort, get, runScript, startApp, until, type App } from './child.ts';
import { CLIENT, SERVER, expectUserTrace } from './traces.ts';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

function otlpEnv(protocol: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
}

describe.each([
  ['ESM app with --import, http/protobuf', ['--import', 'healthspan/register'], 'app.mjs', 'http/protobuf'],
  ['CJS app with --import, http/json', ['--import', 'healthspan/register'], 'app.cjs', 'http/json'],
  ['CJS app with --require, http/protobuf', ['--require', 'healthspan/register'], 'app.cjs', 'http/protobuf'],
])('%s', (_name, flags, script, protocol) => {
  let app: App;
  const service = `svc-${script.replace('.', '-')}-${flags[0].slice(2)}-${protocol.replace('/', '-')}`;
  beforeAll(async () => {
    app = await startApp(flags, fixture(script), { ...otlpEnv(protocol), OTEL_SERVICE_NAME: service });
  });
  afterAll(() => app?.stop());

  it('puts the fetch CLIENT span and the pg CLIENT span under the incoming SERVER span, in one trace', async () => {
    const res = await get(`${app.url}/users/41`);
    expect(res).toEqual({ status: 200, body: '{"id":41,"n":42,"inner":"hello"}', type: 'application/json' });
    await expectUserTrace(receiver, service, 41);
    expect(receiver.requests.some((r) => r.protocol === protocol)).toBe(true);
  });

  it('traces an outgoing node:http request as a CLIENT span between the two SERVER spans', async () => {
    expect((await get(`${app.url}/via-http`)).body).toBe('via http: hello');
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.name === 'GET /via-http'));
    const root = spans.find((s) => s.resource['service.name'] === service && s.name === 'GET /via-http')!;
    const client = spans.find((s) => s.parentSpanId === root.spanId)!;
    expect(client).toMatchObject({ name: 'GET', kind: CLIENT, scope: { name: '@opentelemetry/instrumentation-http' } });
    const inner = await receiver.waitForSpans((all) => all.some((s) => s.parentSpanId === client.spanId));
    expect(inner.find((s) => s.parentSpanId === client.spanId)).toMatchObject({ name: 'GET /hello', kind: SERVER });
  });

  it('prints one startup block and then the modules it patched', async () => {
    const err = await until('the patched-modules line', () => /healthspan: patched modules: .*\n/.test(app.stderr()) && app.stderr());
    expect(err).toContain(`healthspan: healthspan `);
    expect(err).toContain(`  service:          ${service}\n`);
    expect(err).toContain(`  traces:           otlp ${protocol} → ${receiver.url}/v1/traces, sampler parentbased_always_on\n`);
    // OTEL_METRICS_EXPORTER=none here: runtime-node, which only records metrics, is not enabled.
    expect(err).toContain('  instrumentations: http, undici, ws, socket.io, pg, mysql2, redis, ioredis, express, fastify, koa\n');
    expect(err).toMatch(/healthspan: patched modules: .*\bpg@8\.\d+\.\d+/);
    expect(err.match(/ started \(node /g)).toHaveLength(1);
  });
});

describe('the app is unchanged by the preload', () => {
  it('answers every route with the same status, headers and body as without it', async () => {
    const bare = await startApp([], fixture('app.mjs'));
    const traced = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), otlpEnv('http/protobuf'));
    try {
      for (const path of ['/users/5', '/fail', '/missing', '/hello?x=1']) {
        const [a, b] = await Promise.all([get(bare.url + path), get(traced.url + path)]);
        expect(b, path).toEqual(a);
      }
      const fail = await get(`${traced.url}/fail`);
      expect(fail.status).toBe(500);
      expect(fail.body).toBe('error: relation "no_such_table_here" does not exist');
    } finally {
      await Promise.all([bare.stop(), traced.stop()]);
    }
  });
});

describe('an app whose handler throws', () => {
  it('crashes exactly as it does without healthspan: uncaught error, exit code 1', async () => {
    const outcomes = [];
    for (const flags of [[], ['--import', 'healthspan/register']]) {
      const app = await startApp(flags, fixture('throwing-app.mjs'), { OTEL_TRACES_EXPORTER: 'none' });
      await fetch(`${app.url}/throw`).catch(() => undefined);
      const { code, signal } = await app.exited;
      const firstErrorLine = app
        .stderr()
        .split('\n')
        .find((l) => l.startsWith('Error: '));
      outcomes.push({ code, signal, firstErrorLine });
    }
    expect(outcomes[0]).toEqual({ code: 1, signal: null, firstErrorLine: 'Error: boom from handler' });
    expect(outcomes[1]).toEqual(outcomes[0]);
  });
});

describe('Prometheus', () => {
  it('serves request and database metrics on the loopback endpoint', async () => {
    const port = await freePort();
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_PORT: String(port),
    });
    try {
      for (const id of [1, 2, 3]) expect((await get(`${app.url}/users/${id}`)).status).toBe(200);
      const res = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const count = findSample(res.samples, 'http_server_request_duration_count', { http_route: '/users/:id', http_response_status_code: '200' });
      expect(count?.value).toBe(3);
      // Raw paths never become label values.
      expect(res.text).not.toContain('/users/1"');
      expect(findSample(res.samples, 'http_server_request_duration_count', { http_route: '/hello' })?.value).toBe(3);
      // The scrape itself is not traced or counted as a request.
      expect(res.text).not.toContain('http_route="/metrics"');
      // Runtime gauges appear once the event-loop histogram has samples: poll briefly.
      let runtime = res;
      for (let i = 0; i < 30 && !runtime.samples.some((s) => s.name === 'nodejs_eventloop_delay_p99'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        runtime = await scrape(`http://127.0.0.1:${port}/metrics`);
      }
      expect(findSample(runtime.samples, 'nodejs_eventloop_delay_p99')?.value).toBeGreaterThan(0);
      expect(runtime.samples.some((s) => s.name === 'v8js_memory_heap_used')).toBe(true);
      // Detector results that arrive asynchronously (host.id) are there on the first scrape.
      const target = findSample(runtime.samples, 'target_info')?.labels;
      expect(target?.host_id).toMatch(/^\w{8,}$/);
      if (existsSync('/etc/machine-id')) expect(target?.host_id).toBe(readFileSync('/etc/machine-id', 'utf8').trim());
      expect(target?.service_instance_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(app.stderr()).not.toMatch(/error/i);
      // Nothing listens beyond loopback.
      expect(app.stderr()).toContain(`metrics:          prometheus http://127.0.0.1:${port}/metrics`);
    } finally {
      await app.stop();
    }
  });
});

describe('collector down for the whole run', () => {
  it('keeps answering every request, counts the drops and warns a bounded number of times', async () => {
    const dead = await freePort();
    const prom = await freePort();
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20',
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_PORT: String(prom),
    });
    try {
      const statuses: number[] = [];
      for (let round = 0; round < 20; round++) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => fetch(`${app.url}/hello`).then((r) => r.status)));
        statuses.push(...batch);
      }
      expect(statuses).toHaveLength(400);
      expect(new Set(statuses)).toEqual(new Set([200]));
      const droppedTraces = async () => {
        const { samples } = await scrape(`http://127.0.0.1:${prom}/metrics`);
        return samples.filter((s) => s.name === 'healthspan_exporter_dropped_total' && s.labels.signal === 'traces').reduce((n, s) => n + s.value, 0);
      };
      const total = await until('dropped spans to be counted', async () => (await droppedTraces()) || false);
      expect(total).toBeLessThanOrEqual(400);
      const warnings = app
        .stderr()
        .split('\n')
        .filter((l) => (l.startsWith('healthspan: warning:') || l.startsWith('healthspan: error:')) && /export|otel/.test(l));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(3);
      expect(warnings.join('\n')).toContain(`trace export to http://127.0.0.1:${dead}/v1/traces failed`);
    } finally {
      await app.stop();
    }
  });
});

describe('lifecycle', () => {
  it('OTEL_SDK_DISABLED=true makes the preload a no-op', async () => {
    const before = receiver.spanCount;
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), { ...otlpEnv('http/protobuf'), OTEL_SDK_DISABLED: 'true' });
    try {
      expect((await get(`${app.url}/users/3`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(app.stderr()).toBe('');
      expect(receiver.spanCount).toBe(before);
    } finally {
      await app.stop();
    }
  });

  it('flushes spans on SIGTERM and then exits by the signal when the app has no handler of its own', async () => {
    const service = 'svc-sigterm';
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      ...otlpEnv('http/protobuf'),
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_SERVICE_NAME: service,
      NO_SIGTERM_HANDLER: '1',
    });
    expect((await get(`${app.url}/hello`)).status).toBe(200);
    const { code, signal } = await app.stop('SIGTERM');
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(receiver.spans.some((s) => s.resource['service.name'] === service && s.name === 'GET /hello')).toBe(true);
  });

  it('leaves the exit to the app when it handles SIGTERM itself, after flushing', async () => {
    const service = 'svc-sigterm-app';
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      ...otlpEnv('http/protobuf'),
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_SERVICE_NAME: service,
    });
    expect((await get(`${app.url}/hello`)).status).toBe(200);
    expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it.each([
    ['--import', 'app.mjs'],
    ['--require', 'app.cjs'],
  ])('HEALTHSPAN_STRICT=true (%s): exit code 1 before the app runs, and only the list of problems', async (flag, app) => {
    const r = await runScript([flag, 'healthspan/register'], fixture(app), {
      HEALTHSPAN_STRICT: 'true',
      OTEL_BSP_MAX_QUEUE_SIZE: 'lots',
      HEALTHSPAN_SLOW_QUERY_MS: '0.2',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    // No stack, no `problems: [...]` dump, no "using <default>": nothing is used, nothing starts.
    expect(r.stderr).toBe(
      'healthspan: 2 configuration problems (HEALTHSPAN_STRICT=true), so healthspan did not start:\n' +
        '  - OTEL_BSP_MAX_QUEUE_SIZE="lots" is invalid (expected an integer from 1 to 1000000)\n' +
        '  - HEALTHSPAN_SLOW_QUERY_MS="0.2" is invalid (expected milliseconds from 1 to 3600000)\n',
    );
  });

  it('without strict mode a bad variable is one warning line and the app runs', async () => {
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), { OTEL_TRACES_EXPORTER: 'none', OTEL_BSP_MAX_QUEUE_SIZE: 'lots' });
    try {
      expect((await get(`${app.url}/hello`)).status).toBe(200);
      expect(app.stderr()).toContain('healthspan: warning: OTEL_BSP_MAX_QUEUE_SIZE="lots" is invalid (expected an integer from 1 to 1000000); using 2048\n');
    } finally {
      await app.stop();
    }
  });

  it('redacts OTLP header values in the startup block', async () => {
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      ...otlpEnv('http/protobuf'),
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t,x-tenant=acme',
    });
    try {
      expect(app.stderr()).toContain('(headers: authorization=[redacted], x-tenant=[redacted])');
      expect(app.stderr()).not.toContain('s3cr3t');
      expect(app.stderr()).not.toContain('acme');
    } finally {
      await app.stop();
    }
  });

  it('start() from code warns about modules loaded before it, and a second start() returns the running instance', async () => {
    const r = await runScript([], fixture('start-late.cjs'), { OTEL_SERVICE_NAME: 'late' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('healthspan: warning: pg was loaded before healthspan started, so the pg instrumentation cannot patch it');
    expect(r.stderr).toContain('healthspan: warning: start() was called again; returning the running instance');
    expect(r.stdout).toContain('second start returned the same instance: true');
    expect(r.stdout).toContain('done');
  });
});
