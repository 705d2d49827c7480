import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { findSample, scrape } from '../../scripts/dev/prometheus.mjs';
import { fixture, freePort, get, startApp, until } from './child.ts';

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
      req
        .on('data', (c) => (body += c))
        .on('end', () => {
          posts.push(JSON.parse(body));
          res.end();
        });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const prom = await freePort();
    const app = await startApp(['--import', 'healthspan/register'], fixture('insight-app.mjs'), {
      OTEL_METRICS_EXPORTER: 'prometheus',
      HEALTHSPAN_PROMETHEUS_PORT: String(prom),
      HEALTHSPAN_ALERT_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'insight-app',
      HEALTHSPAN_SLOW_REQUEST_MS: '100',
      HEALTHSPAN_SLOW_QUERY_MS: '100',
      HEALTHSPAN_INSIGHT_INTERVAL_MS: '200',
      HEALTHSPAN_INSIGHT_WARMUP_MS: '0',
    });
    const insight = async () => JSON.parse((await get(`${app.url}/insight`)).body);
    try {
      // A healthy start: fast requests only.
      for (let i = 0; i < 25; i++) await get(`${app.url}/fast`);
      await new Promise((r) => setTimeout(r, 400));
      const before = await insight();
      expect(before.alerts).toEqual([]);
      expect(before.health.score).toBeGreaterThanOrEqual(80);
      expect(before.health.status).toBe('healthy');
      expect(before.health.recommendations).toEqual([]);
      // A rule judges a p95 from 20 samples on.
      for (let i = 0; i < 20; i++) await Promise.all([get(`${app.url}/slow`), get(`${app.url}/slow-query`)]);
      await get(`${app.url}/orders`);
      // 10 failures of 81 requests: too few on /fail for error_rate (20), enough to hurt the score.
      for (let i = 0; i < 10; i++) await get(`${app.url}/fail`);
      // The next evaluations (every 200 ms) raise the alerts and score the errors: wait for one
      // that saw all of the traffic (its score is the gauge's).
      const n1 = 'n_plus_one GET /orders → postgresql SELECT pg_sleep(?), nspname FROM pg_namespace WHERE oid > $1 LIMIT ?';
      const expected = [n1, 'slow_query postgresql SELECT pg_sleep(?) FROM pg_class LIMIT ?', 'slow_request GET /slow', 'slow_request GET /slow-query'];
      const { health, alerts, routes } = await until('an evaluation of all the traffic', async () => {
        const now = await insight();
        const keys = now.alerts.map((a: { rule: string; key: string }) => `${a.rule} ${a.key}`);
        const gauge = findSample((await scrape(`http://127.0.0.1:${prom}/metrics`)).samples, 'healthspan_health_score')?.value;
        return (
          expected.every((k) => keys.includes(k)) &&
          now.health.score < before.health.score - 20 &&
          gauge !== undefined &&
          Math.abs(gauge - now.health.score) <= 5 &&
          now
        );
      });
      expect(health.score).toBeLessThan(before.health.score - 20);
      expect(health.components.find((c: { name: string }) => c.name === 'errors').score).toBe(0);
      // Where the time goes: GET /slow-query is mostly database, in one statement (opening
      // the pool's connection has no span of its own, so it counts as the route's own time).
      const slowQuery = routes.find((r: { route: string }) => r.route === 'GET /slow-query');
      expect(slowQuery.split.db).toBeGreaterThan(0.5);
      expect(slowQuery.split.http + slowQuery.split.cache).toBe(0);
      expect(slowQuery.split.topQueries[0].summary).toBe('SELECT pg_class');
      const slowRoute = routes.find((r: { route: string }) => r.route === 'GET /slow');
      expect(slowRoute.split).toBeUndefined();
      expect(health.recommendations).toContainEqual(
        expect.stringMatching(
          /^GET \/slow-query is slow: p95 \d+ ms against 100 ms\. Most of its time \(\d+(\.\d)?%\) is in the database, mostly "SELECT pg_class" \(\d+(\.\d)?%\)\.$/,
        ),
      );
      expect(health.recommendations).toContainEqual(
        expect.stringMatching(
          /^N\+1 pattern: 6 sequential "SELECT pg_namespace" queries per GET \/orders request \(\d+ ms\), once in the last 60 s\. Load the rows/,
        ),
      );
      // GET /orders (6 × ~13 ms) sits near the 100 ms threshold: whether it is slow is left out.
      const fired = alerts
        .map((a: { rule: string; key: string }) => `${a.rule} ${a.key}`)
        .filter((k: string) => k !== 'slow_request GET /orders')
        .sort();
      expect(fired).toEqual(expected.slice().sort());
      const nPlusOne = alerts.find((a: { rule: string }) => a.rule === 'n_plus_one');
      expect(nPlusOne.message).toMatch(/^N\+1: 6 sequential "SELECT pg_namespace" queries per GET \/orders request/);
      expect(health.score).toBeGreaterThanOrEqual(0);
      expect(health.components.map((c: { name: string }) => c.name)).toContain('responseTime');
      expect(app.stderr()).toMatch(
        /healthspan: warning: alert fired \[\w+\] slow route GET \/slow: p95 [\d,]+ ms over 100 ms, \d+ requests in the last 60 s \(trace [0-9a-f]{32}\)/,
      );
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === 'insight-app' && s.name === 'GET /slow'));
      const slow = spans.find((s) => s.resource['service.name'] === 'insight-app' && s.name === 'GET /slow')!;
      // The severity follows the span's own duration (120 ms asked, more on a loaded machine).
      const ratio = Number(slow.endTimeUnixNano - slow.startTimeUnixNano) / 1e6 / 100;
      const severity = ratio > 3 ? 'critical' : ratio > 2 ? 'high' : ratio > 1.5 ? 'medium' : 'low';
      expect(slow.attributes).toMatchObject({ 'healthspan.slow': true, 'healthspan.slow.severity': severity });
      // The alert's exemplar is one of the slow traces.
      const slowAlert = alerts.find((a: { rule: string; key: string }) => a.rule === 'slow_request' && a.key === 'GET /slow');
      expect(spans.some((s) => s.name === 'GET /slow' && s.traceId === slowAlert.exemplarTraceId)).toBe(true);
      await until('the webhook post', () => posts.some((p) => p.transition === 'fired' && p.alert.rule === 'slow_request' && p.alert.key === 'GET /slow'));
      // The same transitions as metrics: one firing per alert, and the active-alerts gauge.
      const metrics = await scrape(`http://127.0.0.1:${prom}/metrics`);
      const firing = (rule: string) =>
        metrics.samples
          .filter((m) => m.name === 'healthspan_alerts_total' && m.labels.alert_rule === rule && m.labels.alert_state === 'firing')
          .reduce((n, m) => n + m.value, 0);
      expect(firing('n_plus_one')).toBe(1);
      expect(firing('slow_query')).toBe(1);
      expect(firing('slow_request')).toBe(alerts.filter((a: { rule: string }) => a.rule === 'slow_request').length);
      const active = metrics.samples.filter((m) => m.name === 'healthspan_alerts_active').reduce((n, m) => n + m.value, 0);
      expect(active).toBe(alerts.length);
      // The gauge shows the last evaluation; the runtime part may have moved a point since.
      expect(Math.abs(findSample(metrics.samples, 'healthspan_health_score')!.value - health.score)).toBeLessThanOrEqual(5);
    } finally {
      await app.stop();
      await new Promise((r) => hook.close(r));
    }
  });
});
