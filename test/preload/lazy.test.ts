import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { fixture, runScript } from './child.ts';
import { CLIENT } from './traces.ts';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

// What exists at start: instrumentations whose modules are loaded before any app code
// (http: our exporters load node:http) or that hook no module (undici; runtime-node, which
// records metrics only, when metrics are exported).
const AT_START = ['http', 'undici'];

describe.each([
  ['CommonJS, --require', ['--require', 'healthspan/register'], 'lazy.cjs', 'lazy_cjs'],
  ['CommonJS, --import', ['--import', 'healthspan/register'], 'lazy.cjs', 'lazy_cjs'],
  ['ESM, --import', ['--import', 'healthspan/register'], 'lazy.mjs', 'lazy_esm'],
])('%s', (_name, flags, script, column) => {
  it('creates the pg instrumentation when the app loads pg, not before, and still traces its first query', async () => {
    const service = `lazy-${script}-${flags[0]}`;
    const run = await runScript(flags, fixture(script), {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(out.before).toEqual(AT_START);
    expect(out.afterPg).toEqual([...AT_START, 'pg'].sort());
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.name.startsWith('SELECT')));
    const query = spans.find((s) => s.resource['service.name'] === service && s.name.startsWith('SELECT'))!;
    expect(query).toMatchObject({ kind: CLIENT, scope: { name: '@opentelemetry/instrumentation-pg' } });
    expect(query.attributes['db.query.text']).toBe(`SELECT ? AS ${column}`);
  });
});

describe('runtime-node', () => {
  it('is created at start when metrics are exported, and not at all when they are not', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_LOGS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '50' };
    const withMetrics = await runScript(['--require', 'healthspan/register'], fixture('lazy.cjs'), { ...env, OTEL_METRICS_EXPORTER: 'otlp' });
    expect(withMetrics.code, withMetrics.stderr).toBe(0);
    expect(JSON.parse(withMetrics.stdout.trim().split('\n').at(-1)!).before).toEqual(['http', 'runtime-node', 'undici']);
    expect(withMetrics.stderr).toContain('  instrumentations: http, undici, ws, socket.io, pg, mysql2, redis, ioredis, express, fastify, koa, runtime-node\n');
    const without = await runScript(['--require', 'healthspan/register'], fixture('lazy.cjs'), { ...env, OTEL_METRICS_EXPORTER: 'none' });
    expect(without.code, without.stderr).toBe(0);
    expect(JSON.parse(without.stdout.trim().split('\n').at(-1)!).before).toEqual(['http', 'undici']);
    expect(without.stderr).toContain('  instrumentations: http, undici, ws, socket.io, pg, mysql2, redis, ioredis, express, fastify, koa\n');
  });
});

describe('OTLP gzip (zlib is loaded by the first compressed export, not at start)', () => {
  it('exports gzip-compressed spans the receiver decodes', async () => {
    const service = 'lazy-gzip';
    const run = await runScript(['--require', 'healthspan/register'], fixture('lazy.cjs'), {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    expect(run.code, run.stderr).toBe(0);
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.name.startsWith('SELECT')));
    expect(spans.find((s) => s.resource['service.name'] === service && s.name.startsWith('SELECT'))?.attributes['db.query.text']).toBe('SELECT ? AS lazy_cjs');
    expect(receiver.requests.some((r) => r.path === '/v1/traces' && r.headers['content-encoding'] === 'gzip')).toBe(true);
    expect(receiver.errors).toEqual([]);
  });
});
