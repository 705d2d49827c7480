import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../../scripts/dev/prometheus.mjs';
import { fixture, freePort, get, startApp, type App } from './child.ts';

const DISTINCT = 100_000;
const CONCURRENCY = 32;

let app: App;
let prom: number;
beforeAll(async () => {
  prom = await freePort();
  app = await startApp(['--expose-gc', '--import', 'healthspan/register'], fixture('insight-app.mjs'), {
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'prometheus',
    HEALTHSPAN_PROMETHEUS_PORT: String(prom),
    HEALTHSPAN_LOG_LEVEL: 'error',
  });
});
afterAll(() => app?.stop());

/** GETs every path over keep-alive connections, `CONCURRENCY` at a time; resolves with the statuses seen. */
async function load(paths: (i: number) => string, n: number): Promise<Map<number, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const path = paths(next++);
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: app.port, path, agent }, (res) => {
            res.resume().on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return statuses;
}

async function heapAfterGc(): Promise<number> {
  await get(`${app.url}/gc`);
  return JSON.parse((await get(`${app.url}/insight`)).body).heapUsed;
}

describe('100 000 distinct URLs', () => {
  it('leave route keys, metric series and memory bounded, and every request counted', async () => {
    // Words, not ids: the route heuristic cannot fold these, so only the caps can.
    const path = (i: number) => `/w${i.toString(36)}x/page`;
    await load((i) => path(DISTINCT + i), 2000);
    const heapBefore = await heapAfterGc();

    const statuses = await load(path, DISTINCT);
    expect(statuses).toEqual(new Map([[200, DISTINCT]]));
    const heapAfter = await heapAfterGc();
    const { stats, routes } = JSON.parse((await get(`${app.url}/insight`)).body);

    // The route templater caps distinct templates at 200 (HEALTHSPAN_HTTP_ROUTE_LIMIT) and
    // reports the rest as http.route="_other"; insight keeps at most its 200 keys (taken by
    // the first 200 templates) and folds the rest, "GET _other" included, into its _other.
    expect(stats.keys.routes).toBe(201);
    expect(routes.length).toBe(201);
    const other = routes.find((r: { route: string }) => r.route === '_other');
    expect(other.count).toBe(stats.routesFolded);
    expect(stats.routesFolded).toBeGreaterThan(DISTINCT - 200);
    expect(stats.keys.pendingTraces).toBe(0);

    const metrics = await scrape(`http://127.0.0.1:${prom}/metrics`);
    const counts = metrics.samples.filter((s) => s.name === 'http_server_request_duration_count');
    const labels = new Set(counts.map((s) => s.labels.http_route));
    expect(labels.size).toBeLessThanOrEqual(201);
    expect(labels.has('_other')).toBe(true);
    expect(metrics.samples.length).toBeLessThan(20_000);
    // Nothing is lost by folding: every request is in some series (the warm-up, the 100 000
    // and the /gc and /insight calls so far; the scrape itself is not counted).
    const total = counts.reduce((n, s) => n + s.value, 0);
    expect(total).toBe(2000 + DISTINCT + 2 + 3);

    // Memory stays flat: what 100 000 distinct URLs may leave behind is bounded by the caps.
    expect(heapAfter - heapBefore).toBeLessThan(16 * 2 ** 20);
  }, 120_000);
});
