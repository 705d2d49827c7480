import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { fixture, get, startApp } from './child.ts';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

describe.each([
  ['express', 'express-app.mjs', '--import'],
  ['fastify', 'fastify-app.mjs', '--import'],
  ['koa', 'koa-app.cjs', '--require'],
])('%s', (framework, script, flag) => {
  it('names the SERVER span and the route from the router template', async () => {
    const service = `svc-${framework}`;
    const app = await startApp([flag, 'healthspan/register'], fixture(script), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: service,
    });
    try {
      const res = await get(`${app.url}/items/abc-7?q=1`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ id: 'abc-7' });
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.kind === 2), 10_000);
      const server = spans.find((s) => s.resource['service.name'] === service && s.kind === 2)!;
      expect(server.name).toBe('GET /items/:itemId');
      expect(server.attributes['http.route']).toBe('/items/:itemId');
      expect(server.parentSpanId).toBeUndefined();
    } finally {
      await app.stop();
    }
  });
});

describe('worker threads', () => {
  it('are skipped: one startup block for a process with a worker', async () => {
    const app = await startApp(['--import', 'healthspan/register'], fixture('worker-app.mjs'), { OTEL_TRACES_EXPORTER: 'none' });
    try {
      expect((await get(app.url)).body).toBe('ok');
      expect(app.stderr().match(/ started \(node /g)).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});
