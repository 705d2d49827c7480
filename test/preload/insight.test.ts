import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { fixture, get, startApp } from './child.ts';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

describe('insight under --import', () => {
  it('raises slow_request, slow_query and n_plus_one from a real app, tags the slow spans, and scores health', async () => {
    // A real webhook receiver.
    const posts: { transition: string; alert: { rule: string; key: string } }[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        posts.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const app = await startApp(['--import', 'healthspan/register'], fixture('insight-app.mjs'), {
      HEALTHSPAN_ALERT_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'insight-app',
      HEALTHSPAN_SLOW_REQUEST_MS: '100',
      HEALTHSPAN_SLOW_QUERY_MS: '100',
      HEALTHSPAN_INSIGHT_INTERVAL_MS: '200',
    });
    try {
      for (let i = 0; i < 3; i++) await get(`${app.url}/slow`);
      await get(`${app.url}/slow-query`);
      await get(`${app.url}/orders`);
      for (let i = 0; i < 25; i++) await get(`${app.url}/fast`);
      await new Promise((r) => setTimeout(r, 600));
      const { health, alerts } = JSON.parse((await get(`${app.url}/insight`)).body);
      // GET /orders (6 × ~13 ms) sits near the 100 ms threshold: whether it is slow is left out.
      const fired = alerts.map((a: { rule: string; key: string }) => `${a.rule} ${a.key}`).filter((k: string) => k !== 'slow_request GET /orders').sort();
      expect(fired).toEqual([
        'n_plus_one postgresql SELECT pg_namespace',
        'slow_query postgresql SELECT pg_class',
        'slow_request GET /slow',
        'slow_request GET /slow-query',
      ]);
      const n1 = alerts.find((a: { rule: string }) => a.rule === 'n_plus_one');
      expect(n1.message).toMatch(/^N\+1: 5 sequential "SELECT pg_namespace" queries under one span/);
      expect(health.score).toBeGreaterThanOrEqual(0);
      expect(health.components.map((c: { name: string }) => c.name)).toContain('responseTime');
      expect(app.stderr()).toMatch(/healthspan: warning: alert fired \[\w+\] slow route GET \/slow: p95 1\d\d ms over 100 ms \(trace [0-9a-f]{32}\)/);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === 'insight-app' && s.name === 'GET /slow'));
      const slow = spans.find((s) => s.resource['service.name'] === 'insight-app' && s.name === 'GET /slow')!;
      expect(slow.attributes).toMatchObject({ 'healthspan.slow': true, 'healthspan.slow.severity': 'low' });
      // The alert's exemplar is one of the slow traces.
      const slowAlert = alerts.find((a: { rule: string; key: string }) => a.rule === 'slow_request' && a.key === 'GET /slow');
      expect(spans.some((s) => s.name === 'GET /slow' && s.traceId === slowAlert.exemplarTraceId)).toBe(true);
      expect(posts.some((p) => p.transition === 'fired' && p.alert.rule === 'slow_request' && p.alert.key === 'GET /slow')).toBe(true);
    } finally {
      await app.stop();
      await new Promise((r) => hook.close(r));
    }
  });
});
