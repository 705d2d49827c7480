import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { fixture, runScript } from './child.ts';
import { CLIENT } from './traces.ts';

const INTERNAL = 1;
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

describe('createCache() under --import', () => {
  it('joins the caller trace, with the Redis command spans under the cache spans', async () => {
    const r = await runScript(['--import', 'healthspan/register'], fixture('cache-app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'cache-app',
    });
    expect(r.stdout).toBe('got {"id":1}\n');
    expect(r.code).toBe(0);
    const spans = receiver.spans.filter((s) => s.resource['service.name'] === 'cache-app');
    const job = spans.find((s) => s.name === 'job')!;
    const set = spans.find((s) => s.name === 'cache.set users')!;
    const get = spans.find((s) => s.name === 'cache.get users')!;
    expect(set).toMatchObject({ kind: INTERNAL, parentSpanId: job.spanId, traceId: job.traceId });
    expect(get).toMatchObject({ kind: INTERNAL, parentSpanId: job.spanId });
    expect(get.attributes).toMatchObject({ 'cache.name': 'users', 'cache.operation': 'get', 'cache.hit': true, 'cache.tier': 'l2' });
    expect(get.attributes['cache.key']).toBeUndefined();
    // Redis command spans nest under the cache operation that sent them.
    expect(spans.find((s) => s.parentSpanId === set.spanId && s.name === 'SET')).toMatchObject({ kind: CLIENT, attributes: { 'db.query.text': 'SET ?' } });
    expect(spans.find((s) => s.parentSpanId === get.spanId && s.name === 'GET')).toMatchObject({ kind: CLIENT, attributes: { 'db.query.text': 'GET ?' } });
  });
});
