// A real Prometheus (Debian's `prometheus` package) scrapes the real demo — `node
// scripts/demo.mjs --serve`: examples/demo/server.mjs under `--import healthspan/register` —
// and evaluates docs/prometheus/healthspan-rules.yml; then every Grafana panel query (the
// Prometheus ones: the Tempo panel is checked in rules.test.ts), every variable selector,
// every recording rule and every alerting rule is run through Prometheus' HTTP API, and must
// return data, except the few on EXPECTED_EMPTY below, which must return none.
//
// The demo runs against the PostgreSQL of the test suite (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test) on fixed free ports, and exports traces and alert
// log records to a closed port, so that healthspan.exporter.dropped counts. Its own traffic
// (cached reads, N+1 route, /slow, /error, WebSocket messages) is scraped from the start;
// this test adds more until the end, with enough 5xx for the error-rate rules and a health
// score below 50.
// Without the prometheus binary this file is skipped, except under CI=true (a failure).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATABASE_URL, serveDemo, stopChild as stop, type ServedDemo } from '../helpers/demo.ts';
import { freePort } from '../preload/child.ts';
import { IN_CI, RULES, findBinary, labelValuesQuery, loadDashboard, missingMessage, panelQueries, ruleNames, skipReason, substitute } from './tools.ts';

const prometheus = findBinary('prometheus');
if (!prometheus && !IN_CI) console.warn(`test/prometheus/scrape.test.ts: skipping: ${missingMessage('prometheus')}`);

const JOB = 'healthspan-demo';
const SERVICE = 'healthspan-demo'; // the demo's OTEL_SERVICE_NAME
const TOKEN = 'scrape-test-token-0123456789';
const DATABASE_URL = DEMO_DATABASE_URL;

/**
 * The expressions that cannot return data against the demo, and why. The test asserts that
 * exactly these are empty: one that starts returning data (or another one that stops) fails it.
 */
const EXPECTED_EMPTY: Record<string, string> = {
  // The demo is up and scraped every second: `up == 0` never holds.
  'alert HealthspanTargetDown': 'the target is up',
  // The slowest demo route, GET /slow, takes ~200 ms (GET /users/:id/orders-n1 ~100 ms); the
  // rule asks for a p95 above 1 s.
  'alert HealthspanSlowRoute': 'no route is near 1 s',
  // A fleet needs two instances or more; the demo is one.
  'alert HealthspanFleetDegraded': 'the demo is one instance',
};

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResult {
  ok: boolean;
  error?: string;
  samples: Sample[];
}
interface ApiRule {
  type: 'recording' | 'alerting';
  name: string;
  query: string;
  health: string;
  lastError?: string;
  state?: string;
}

if (!prometheus && IN_CI) {
  describe('prometheus', () => {
    it('is installed (required when CI=true)', () => {
      throw new Error(missingMessage('prometheus'));
    });
  });
}

describe.skipIf(!prometheus)(
  prometheus ? `a real Prometheus (${prometheus}) scraping the demo (scripts/demo.mjs --serve)` : `a real Prometheus (${skipReason('prometheus')})`,
  () => {
    let tmp: string;
    let demo: ServedDemo | undefined;
    const demoOut = () => demo?.output() ?? '';
    let prom: ChildProcess | undefined;
    let promOut = '';
    let promUrl: string;
    let base: string;
    let instance: string;
    let traffic: Promise<void> | undefined;
    let stopTraffic = false;
    let socket: WebSocket | undefined;

    const query = async (expr: string): Promise<QueryResult> => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
      if (body.status !== 'success') return { ok: false, error: body.error ?? `HTTP ${res.status}`, samples: [] };
      return { ok: true, samples: body.data!.resultType === 'vector' ? body.data!.result : [] };
    };
    const rules = async (): Promise<ApiRule[]> => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: ApiRule[] }[] } };
      return body.data.groups.flatMap((g) => g.rules);
    };
    const vars = () => ({ job: JOB, instance, service: SERVICE });
    const dashboardExpr = (expr: string) => substitute(expr, { rateInterval: '10s', range: '1m', vars: vars() });
    const tail = () => `\nprometheus: ${promOut.slice(-2000)}\ndemo: ${demoOut().slice(-4000)}`;
    const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await check().catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'healthspan-prometheus-'));
      const [appPort, metricsPort, deadOtlpPort, promPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
      instance = `127.0.0.1:${metricsPort}`;
      promUrl = `http://127.0.0.1:${promPort}`;

      // Prometheus first, so that it scrapes the demo's own traffic as well.
      writeFileSync(
        join(tmp, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${JSON.stringify(RULES)}`,
          'scrape_configs:',
          `  - job_name: ${JOB}`,
          '    static_configs:',
          `      - targets: ["${instance}"]`,
          '',
        ].join('\n'),
      );
      prom = spawn(
        prometheus!,
        [
          `--config.file=${join(tmp, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(tmp, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prom.stdout!.on('data', (d) => (promOut += d));
      prom.stderr!.on('data', (d) => (promOut += d));
      await waitFor('Prometheus to be ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 20_000);

      // Resolves once the demo prints "demo: serving http://127.0.0.1:<port>", which comes after
      // its own checks passed (it exits non-zero otherwise).
      demo = await serveDemo({
        DATABASE_URL,
        DEMO_PORT: String(appPort),
        HEALTHSPAN_PROMETHEUS_PORT: String(metricsPort),
        HEALTHSPAN_ADMIN_TOKEN: TOKEN,
        // Nothing listens there: every trace (and alert record) export fails and
        // healthspan.exporter.dropped counts. The demo then runs no OTLP receiver of its own.
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadOtlpPort}`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
        // Bounds the exporter's retries, so drops are counted every second or so, not in bursts.
        OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
        HEALTHSPAN_INSIGHT_INTERVAL_MS: '500',
      }).catch((err: Error) => {
        throw new Error(`${err.message}\nprometheus: ${promOut.slice(-2000)}`);
      });
      base = demo.base;
      expect(base).toBe(`http://127.0.0.1:${appPort}`);

      // More traffic until afterAll: a third of the requests are GET /error (5xx), so the error
      // rate rules fire (in the app and in Prometheus) and the health score's errors component
      // drops to 0, which caps the score at 25 (docs/health-score.md): HealthspanHealthLow.
      socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`);
      await new Promise((resolve, reject) => socket!.once('open', resolve).once('error', reject));
      socket.on('error', () => {});
      traffic = (async () => {
        for (let i = 0; !stopTraffic; i++) {
          const paths = ['/error', `/users/${1 + (i % 6)}`, '/health', ...(i % 4 === 0 ? ['/slow'] : []), ...(i % 8 === 0 ? ['/users/7/orders-n1'] : [])];
          await Promise.all(
            paths.map((p) =>
              fetch(`${base}${p}`)
                .then((r) => r.text())
                .catch(() => ''),
            ),
          );
          if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ userId: 1 + (i % 50) }));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
    }, 90_000);

    afterAll(async () => {
      stopTraffic = true;
      await traffic?.catch(() => {});
      socket?.terminate();
      // Ctrl-C: the demo stops the app (SIGTERM, so it flushes) and exits 0.
      await demo?.stop();
      await stop(prom, 'SIGTERM', 5_000);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }, 30_000);

    it('the demo printed the status page URL, and its admin API answers with the token', async () => {
      // A token given in HEALTHSPAN_ADMIN_TOKEN is not printed: the URL names the variable.
      expect(demoOut()).toContain(`status page  ${base}/_healthspan/#token=$HEALTHSPAN_ADMIN_TOKEN`);
      expect(demoOut()).not.toContain(TOKEN);
      expect(demoOut()).toMatch(/✓ WebSocket messages are on \/metrics \(healthspan_ws_messages_total: \d+\)/);
      const res = await fetch(`${base}/_healthspan/summary`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ service: SERVICE });
      expect((await fetch(`${base}/_healthspan/summary`)).status).toBe(401);
    });

    it("scrapes the demo's healthspan endpoint: target up, target_info carries the service", async () => {
      await waitFor('the first scrape', async () => (await query(`up{job="${JOB}"} == 1`)).samples.length === 1, 15_000);
      const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
      };
      const target = targets.data.activeTargets.find((t) => t.labels.job === JOB);
      expect(target).toMatchObject({ health: 'up', lastError: '' });
      const info = await query(`target_info{job="${JOB}"}`);
      expect(info.samples[0]?.metric).toMatchObject({ job: JOB, instance, service_name: SERVICE, telemetry_distro_name: 'healthspan' });
    });

    it('loads every rule of healthspan-rules.yml and evaluates all of them without error', async () => {
      const { records, alerts } = ruleNames();
      await waitFor('every rule to be evaluated', async () => (await rules()).every((r) => r.health === 'ok'), 20_000);
      const loaded = await rules();
      expect(loaded.filter((r) => r.type === 'recording').map((r) => r.name)).toEqual(records);
      expect(loaded.filter((r) => r.type === 'alerting').map((r) => r.name)).toEqual(alerts);
      expect(loaded.filter((r) => r.health !== 'ok' || r.lastError).map((r) => `${r.name}: ${r.health} ${r.lastError}`)).toEqual([]);
    }, 30_000);

    it('every dashboard query, variable selector, recording and alerting rule returns data, except exactly the allow-listed ones', async () => {
      const d = loadDashboard();
      const alertExprs = Object.fromEntries((await rules()).filter((r) => r.type === 'alerting').map((r) => [r.name, r.query]));
      expect(Object.keys(alertExprs).sort()).toEqual([...ruleNames().alerts].sort());
      const checks: { name: string; expr: string }[] = [
        ...panelQueries(d).map((q) => ({ name: q.name, expr: dashboardExpr(q.expr) })),
        ...d.templating.list.flatMap((v) => {
          const lv = labelValuesQuery(v);
          return lv ? [{ name: `variable ${v.name}`, expr: dashboardExpr(lv.selector) }] : [];
        }),
        ...ruleNames().records.map((r) => ({ name: `recording rule ${r}`, expr: `${r}{job="${JOB}"}` })),
        // The alert expressions as Prometheus loaded them (their `for` is not waited for).
        ...Object.entries(alertExprs).map(([name, expr]) => ({ name: `alert ${name}`, expr })),
      ];
      for (const name of Object.keys(EXPECTED_EMPTY))
        expect(
          checks.map((c) => c.name),
          `allow-listed ${name} exists`,
        ).toContain(name);

      let empty: string[] = [];
      await waitFor(
        'every query but the allow-listed ones to return data',
        async () => {
          empty = [];
          for (const c of checks) {
            const r = await query(c.expr);
            if (!r.ok) throw new Error(`${c.name}: ${r.error}\n${c.expr}`);
            if (r.samples.length === 0) empty.push(c.name);
          }
          return empty.every((name) => name in EXPECTED_EMPTY);
        },
        35_000,
      ).catch(() => {});
      expect(empty.sort(), `empty:\n${empty.map((n) => `${n}: ${checks.find((c) => c.name === n)?.expr}`).join('\n')}`).toEqual(
        Object.keys(EXPECTED_EMPTY).sort(),
      );
    }, 50_000);

    it("the numbers are the demo's: routes, 5xx ratio, p95, query p95, cache hit ratio, WebSocket, drops, alerts", async () => {
      const q = panelQueries(loadDashboard());
      const byTitle = (title: string, refId = 'A') => {
        const found = q.find((p) => p.panelTitle === title && p.record.endsWith(`_${refId}`));
        if (!found) throw new Error(`no panel "${title}" ${refId}`);
        return query(dashboardExpr(found.expr));
      };
      const value = (s: Sample | undefined) => Number(s?.value[1]);

      const score = await byTitle('Health score (worst instance)');
      expect(value(score.samples[0])).toBeGreaterThanOrEqual(0);
      expect(value(score.samples[0])).toBeLessThan(50); // see the traffic in beforeAll

      const rate = await byTitle('Request rate by route');
      expect(rate.samples.map((s) => s.metric.http_route)).toEqual(
        expect.arrayContaining(['/users/:id', '/users/:id/orders', '/users/:id/orders-n1', '/internal/price', '/slow', '/error', '/health']),
      );

      const ratio = await byTitle('5xx ratio by route');
      const ratioOf = (route: string) => value(ratio.samples.find((s) => s.metric.http_route === route));
      expect(ratioOf('/error')).toBe(1);
      expect(ratioOf('/health')).toBe(0);

      // GET /slow runs a 200 ms query: its p95 is at least that (no upper bound: a loaded machine
      // makes it slower, which says nothing about the panel).
      const p95 = await byTitle('Latency p50 / p95 / p99 by route', 'B');
      const slowP95 = value(p95.samples.find((s) => s.metric.http_route === '/slow'));
      expect(slowP95).toBeGreaterThan(0.1);
      const recorded = await query(`job_route:http_server_request_duration_seconds:p95_5m{job="${JOB}", http_route="/slow"}`);
      expect(value(recorded.samples[0])).toBeGreaterThan(0.1);

      // Its statement, SELECT pg_sleep(0.2), has no table: its summary is just "SELECT".
      const dbP95 = await byTitle('Query p95 by statement summary');
      expect(value(dbP95.samples.find((s) => s.metric.db_query_summary === 'SELECT'))).toBeGreaterThan(0.1);

      const hit = await byTitle('Cache hit ratio by cache');
      const users = value(hit.samples.find((s) => s.metric.cache_name === 'users'));
      expect(users).toBeGreaterThan(0);
      expect(users).toBeLessThanOrEqual(1);

      const ws = await byTitle('WebSocket messages');
      expect(
        ws.samples
          .filter((s) => s.metric.http_route === '/ws')
          .map((s) => s.metric.network_io_direction)
          .sort(),
      ).toEqual(['receive', 'transmit']);
      const wsTotal = await query(`sum(healthspan_ws_messages_total{job="${JOB}"})`);
      expect(value(wsTotal.samples[0])).toBeGreaterThan(0);

      const drops = await byTitle('Dropped telemetry');
      expect(drops.samples.map((s) => s.metric)).toContainEqual({ signal: 'traces', reason: 'export_failed' });

      // In-process alerts: the N+1 route, the pg_sleep query and GET /error.
      await waitFor(
        'the n_plus_one, slow_query and error_rate alerts',
        async () => {
          const rules = (await byTitle('Active alerts by rule and severity')).samples.map((s) => s.metric.alert_rule);
          return ['n_plus_one', 'slow_query', 'error_rate'].every((r) => rules.includes(r));
        },
        10_000,
      );

      // The Prometheus alert mirrors them, with the in-process rule and severity as labels.
      const firing = `ALERTS{alertname="HealthspanAlertFiring", alertstate="firing", rule="error_rate"}`;
      await waitFor(firing, async () => (await query(firing)).samples.length > 0, 10_000);
      const alert = (await query(firing)).samples[0];
      expect(alert.metric).toMatchObject({ job: JOB, instance, alert_rule: 'error_rate' });
      expect(alert.metric.severity).toBe(alert.metric.alert_severity);
    }, 40_000);
  },
);
