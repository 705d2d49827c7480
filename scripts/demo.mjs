#!/usr/bin/env node
// npm run demo [-- --serve]
//
// Runs examples/demo/server.mjs under `node --import healthspan/register`, against
// PostgreSQL (DATABASE_URL, or an embedded one in .demo-data/pg), sends it ~200 requests
// (cached reads, an N+1 route, a slow and a failing route) and a few WebSocket messages,
// then prints what healthspan produced: the RED metrics per route and database operation,
// cache, WebSocket and runtime metrics scraped from /metrics, the spans it exported (to a
// tiny in-process OTLP/HTTP receiver unless you set OTEL_EXPORTER_OTLP_ENDPOINT) with one
// trace drawn as a tree, and the health score, alerts and recommendations read from the
// admin API the app mounts at /_healthspan (with a random token, printed with the status
// page's URL). With --serve the app (and the database) keep running until Ctrl-C.
//
// Exits non-zero when the app does not start, or no spans / metrics come out, or the admin
// API, the cache or the WebSocket metrics are missing.
//
// The parts: scripts/demo/ (the app, the traffic, the summary), scripts/dev/ (the process
// supervisor, PostgreSQL, the OTLP receiver and the Prometheus parser, shared with the tests
// and the benchmarks). What the app will do with its environment is read with healthspan's own
// readConfigFromEnv(), from the build, never parsed here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from './dev/embedded-postgres.mjs';
import { startOtlpReceiver } from './dev/otlp-receiver.mjs';
import { freePort, isPortFree } from './dev/ports.mjs';
import { isShuttingDown, onCleanup, shutdown, stopChild, superviseSignals } from './dev/supervisor.mjs';
import { APP, ensureBuilt, startApp } from './demo/app.mjs';
import { ADMIN_PREFIX, readInsight, summariseInsight } from './demo/insight.mjs';
import { scrapeSamples, summariseMetrics } from './demo/metrics.mjs';
import { DemoError, out, redactUrl, step, urlHost } from './demo/output.mjs';
import { SERVER_KIND, summariseSpans } from './demo/traces.mjs';
import { CONCURRENCY, driveTraffic, driveWebSockets, TRAFFIC_MS } from './demo/traffic.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICE_NAME = 'healthspan-demo';
const TOTAL_REQUESTS = 200;
const WS_CONNECTIONS = 3;
const WS_MESSAGES = 6; // per connection
const PG = { user: 'postgres', password: 'healthspan-demo', database: 'healthspan_demo' }; // local only: 127.0.0.1

const HELP = `usage: npm run demo [-- --serve]

  Starts the example app (${APP}) with \`node --import healthspan/register\`, sends it
  ~${TOTAL_REQUESTS} requests and ${WS_CONNECTIONS * WS_MESSAGES} WebSocket messages, and prints the metrics, traces, health
  score, alerts and recommendations healthspan produced, and the status page's URL.

  --serve     keep the app and the database running after the summary, until Ctrl-C
  --help      this text

  Environment (all optional):
    DATABASE_URL                 use this PostgreSQL instead of an embedded one (.demo-data/pg)
    OTEL_EXPORTER_OTLP_ENDPOINT  send traces there (e.g. Jaeger/Tempo/Collector on :4318);
                                 unset: a receiver inside this script collects them
    OTEL_LOGS_EXPORTER           alert log records follow the traces; set none for Jaeger/Tempo
    OTEL_METRICS_EXPORTER        default prometheus
    HEALTHSPAN_PROMETHEUS_PORT   default 9464, or a free port when 9464 is taken
    DEMO_PORT (or PORT)          the app's port (default: any free port); fix it to keep the
                                 status page URL, or to point Prometheus/Grafana at the app
    HEALTHSPAN_ADMIN_TOKEN       the admin API's token (default: a random one per run)
    REDIS_URL                    Redis as the second tier of the app's cache (default: memory only)
    HEALTHSPAN_DEMO_PRELOAD      debugging: module to --import instead of healthspan/register
                                 (empty: run the app without any preload)
`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--serve');
if (unknown.length > 0) {
  process.stderr.write(`demo: unknown argument ${unknown.join(' ')}\n\n${HELP}`);
  process.exit(2);
}
const SERVE = args.includes('--serve');

// Whatever we start is stopped on every way out (normal end, error, Ctrl-C, SIGTERM, SIGHUP);
// a second Ctrl-C kills everything at once. Once serving, Ctrl-C is the normal way out.
const started = Date.now();
let serving = false;
superviseSignals({
  name: 'demo',
  onSignal(signal, code) {
    if (!serving) return void shutdown(code, `${signal}: stopping (press Ctrl-C again to kill everything now)`);
    out('');
    step(`${signal}: stopping`);
    shutdown(0);
  },
});
// Registered first, so it runs last.
onCleanup((code) => code === 0 && step(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`));

/**
 * The app's environment: yours, with the demo's defaults, the database, and, when traces have
 * nowhere else to go, the local receiver.
 */
function appEnvironment(databaseUrl) {
  const env = { ...process.env, DATABASE_URL: databaseUrl, PORT: process.env.DEMO_PORT || process.env.PORT || '0' };
  env.OTEL_SERVICE_NAME ??= SERVICE_NAME;
  env.OTEL_METRICS_EXPORTER ??= 'prometheus';
  // Rules and health score every second rather than every 5 s, so the summary shows the
  // alerts the traffic caused without waiting (HEALTHSPAN_INSIGHT_INTERVAL_MS, docs/configuration.md).
  env.HEALTHSPAN_INSIGHT_INTERVAL_MS ??= '1000';
  // The demo's traffic starts with the app: no warm-up, so its N+1 shows at once (docs/alerts.md#cold-start).
  env.HEALTHSPAN_INSIGHT_WARMUP_MS ??= '0';
  return env;
}

function useReceiver(env, receiver) {
  env.OTEL_TRACES_EXPORTER = 'otlp';
  env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  delete env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
  // Export batches every 0.5 s rather than 5 s, so the summary does not wait (standard
  // OpenTelemetry variable; an SDK that ignores it only makes the demo wait longer).
  env.OTEL_BSP_SCHEDULE_DELAY ??= '500';
}

async function main() {
  const preload = process.env.HEALTHSPAN_DEMO_PRELOAD ?? 'healthspan/register';
  // The build also provides readConfigFromEnv (public API); with a preload of your own, any build will do.
  if (process.env.HEALTHSPAN_DEMO_PRELOAD === undefined || !fs.existsSync(path.join(ROOT, 'dist', 'index.cjs'))) ensureBuilt(ROOT);
  const { readConfigFromEnv } = await import('healthspan');

  // Database
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) step(`using DATABASE_URL=${redactUrl(databaseUrl)}`);
  else {
    databaseUrl = (
      await startEmbeddedPostgres({
        ...PG,
        dataDir: path.join(ROOT, '.demo-data', 'pg'),
        fallbackDataDir: path.join(os.tmpdir(), 'healthspan-demo', 'pg'),
        log: step,
        root: ROOT,
      }).catch((err) => Promise.reject(new DemoError(err.message)))
    ).url;
  }

  // Where telemetry goes: what healthspan will make of the environment, before and after ours.
  const env = appEnvironment(databaseUrl);
  const asked = readConfigFromEnv(env).config;
  const prometheus = asked.metrics.exporters.includes('prometheus');
  if (prometheus && !env.HEALTHSPAN_PROMETHEUS_PORT) {
    const host = asked.metrics.prometheus.host;
    env.HEALTHSPAN_PROMETHEUS_PORT = String((await isPortFree(9464, host)) ? 9464 : await freePort(host));
  }
  const userEndpoint = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  let receiver = null;
  if (!userEndpoint && asked.traces.exporter === 'otlp') {
    receiver = await startOtlpReceiver({ limit: 20_000 });
    onCleanup(() => receiver.close());
    useReceiver(env, receiver);
    step(`collecting traces with a local OTLP/HTTP receiver at ${receiver.url} (OTEL_EXPORTER_OTLP_ENDPOINT is not set)`);
  }
  const { config } = readConfigFromEnv(env);
  const traces = config.traces;
  const userTraces = userEndpoint && traces.exporter === 'otlp' ? traces.otlp : null;
  if (userTraces) {
    step(`traces go to ${userTraces.endpoint}`);
    if (config.logs.exporter === 'otlp' && new URL(config.logs.otlp.endpoint).origin === new URL(userTraces.endpoint).origin) {
      step('alert log records go there too (OTEL_LOGS_EXPORTER follows the traces); Jaeger and Tempo take no logs: set OTEL_LOGS_EXPORTER=none for them');
    }
  }

  // The admin API's bearer token: yours, or a random one for this run (printed at the end).
  const tokenFromEnv = Boolean(process.env.HEALTHSPAN_ADMIN_TOKEN);
  const adminToken = process.env.HEALTHSPAN_ADMIN_TOKEN || crypto.randomBytes(24).toString('base64url');
  env.HEALTHSPAN_ADMIN_TOKEN = adminToken;

  // App
  const app = await startApp(ROOT, env, preload);
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const checks = [];
  checks.push(
    app.healthspanLines.length
      ? ['ok', 'healthspan printed its startup block']
      : ['warn', 'no "healthspan:" startup lines on the app\'s stderr (is the preload active?)'],
  );
  app.mode = 'quiet';
  app.exit.then(({ code, signal }) => {
    if (isShuttingDown() || app.stopping) return;
    const tail = app.output
      .slice(-20)
      .map((l) => `    ${l}`)
      .join('\n');
    shutdown(1, `the app exited unexpectedly (${signal ?? `code ${code}`}). Its last output:\n${tail}`);
  });

  // Traffic: HTTP and, at the same time, a few WebSocket clients
  step(
    `sending ${TOTAL_REQUESTS} requests to ${baseUrl} (${CONCURRENCY} at a time, over ~${TRAFFIC_MS / 1000} s) and ${WS_CONNECTIONS * WS_MESSAGES} messages over ${WS_CONNECTIONS} WebSockets`,
  );
  const [traffic, ws] = await Promise.all([driveTraffic(baseUrl, TOTAL_REQUESTS), driveWebSockets(baseUrl, WS_CONNECTIONS, WS_MESSAGES)]);
  const trafficEnded = Date.now();
  if (isShuttingDown()) return null;
  const statusLine = [...traffic.stats].map(([label, byStatus]) => `${label} ${[...byStatus].map(([s, n]) => `${n}×${s}`).join(' ')}`).join(', ');
  step(`sent ${traffic.sent} requests in ${(traffic.elapsed / 1000).toFixed(1)} s: ${statusLine}`);
  step(
    `WebSocket ${baseUrl.replace(/^http/, 'ws')}/ws: ${ws.opened} of ${ws.connections} connections opened, ${ws.answered} of ${ws.sent} messages answered${ws.failures.length ? ` (${ws.failures.join('; ')})` : ''}`,
  );
  if (traffic.failed > traffic.sent / 2) {
    throw new DemoError(`${traffic.failed} of ${traffic.sent} requests failed: ${traffic.failures.join('; ')}`);
  }
  if (ws.answered === 0) checks.push(['fail', `the app answered WebSocket messages on /ws (${ws.failures.join('; ') || 'none answered'})`]);
  else
    checks.push([
      ws.answered === ws.connections * WS_MESSAGES ? 'ok' : 'warn',
      `the app answered ${ws.answered} of ${ws.connections * WS_MESSAGES} WebSocket messages on /ws`,
    ]);

  // Metrics
  let metricsOk = true;
  let samples = null;
  const prom = config.metrics.prometheus;
  const metricsUrl = prometheus ? `http://${urlHost(prom.host)}:${prom.port}${prom.path}` : null;
  if (prometheus) {
    try {
      samples = await scrapeSamples(metricsUrl);
    } catch (err) {
      checks.push(['fail', `scraping ${metricsUrl} (${err.message})`]);
      metricsOk = false;
    }
  }

  // Spans: wait until a SERVER span per request has arrived (or 8 s), then, unless serving,
  // stop the app with SIGTERM, which also flushes what is still batched.
  if (receiver) {
    const deadline = Date.now() + 8000;
    const serverSpans = () => receiver.spans.filter((s) => s.kind === SERVER_KIND).length;
    while (!isShuttingDown() && Date.now() < deadline && serverSpans() < traffic.expectedServerSpans) await sleep(200);
  }
  if (isShuttingDown()) return null;

  // The admin API, while the app still runs
  const insight = await readInsight(baseUrl, adminToken, trafficEnded, config.insight.intervalMs, checks);
  if (isShuttingDown()) return null;

  if (!SERVE) {
    step('stopping the app (SIGTERM)');
    app.stopping = true; // its cleanup stays registered and does nothing once it has exited
    const r = await stopChild(app.child, 'SIGTERM', 12_000);
    const how = r.signal ? `signal ${r.signal}` : `code ${r.code}`;
    if (r.killed) checks.push(['warn', `the app did not exit within 12 s of SIGTERM and was killed`]);
    else if (r.code !== 0) checks.push(['warn', `the app exited with ${how} after SIGTERM`]);
    else if (r.ms > 3000) checks.push(['warn', `the app took ${r.ms} ms to exit after SIGTERM`]);
    else checks.push(['ok', `the app exited cleanly ${r.ms} ms after SIGTERM`]);
    if (receiver) await sleep(100); // let the receiver finish reading a last export
  }

  // Summary
  out('');
  out('─'.repeat(78));
  if (samples) metricsOk = summariseMetrics(samples, checks) && metricsOk;
  else if (!prometheus) out(`Metrics: OTEL_METRICS_EXPORTER=${config.metrics.exporters.join(',') || 'none'}, not scraped by the demo`);
  out('');
  let spansOk = true;
  if (receiver) spansOk = summariseSpans(receiver, traffic, checks, { expectedService: config.serviceName, serve: SERVE });
  else if (userTraces) out(`Traces: exported to ${userTraces.endpoint} (look there)`);
  else out(`Traces: OTEL_TRACES_EXPORTER=${traces.exporter}, not collected by the demo`);
  const otherRequests = (p) => receiver?.requests.filter((r) => r.path === p).length ?? 0;
  if (otherRequests('/v1/metrics') || otherRequests('/v1/logs')) {
    out(
      `  (the receiver also got ${otherRequests('/v1/metrics')} OTLP metric and ${otherRequests('/v1/logs')} log requests: the log requests are alert records)`,
    );
  }
  if (insight) {
    out('');
    summariseInsight(insight);
  }

  out('');
  out('Checks');
  const mark = { ok: '✓', warn: '!', fail: '✗' };
  for (const [level, text] of checks) out(`  ${mark[level]} ${text}`);

  // A token you set yourself is not printed: the lines below use the variable instead.
  const shownToken = tokenFromEnv ? '$HEALTHSPAN_ADMIN_TOKEN' : adminToken;
  const adminUrl = `${baseUrl}${ADMIN_PREFIX}`;
  out('');
  out(SERVE ? 'Where to look (running until Ctrl-C)' : 'Where to look');
  if (!SERVE) out('  (these work while the app runs: npm run demo -- --serve; DEMO_PORT=8080 fixes its port)');
  out(`  status page  ${adminUrl}/#token=${shownToken}`);
  out(`  admin API    ${adminUrl}  (summary, analytics, alerts, thresholds, cache/stats, metrics; docs/admin.md)`);
  out(
    `  token        ${tokenFromEnv ? '(yours, from HEALTHSPAN_ADMIN_TOKEN)' : `${adminToken}  (random for this run; set HEALTHSPAN_ADMIN_TOKEN to choose it)`}`,
  );
  out(`  curl         curl -H "Authorization: Bearer ${shownToken}" ${adminUrl}/analytics`);
  if (metricsUrl) out(`  Prometheus   ${metricsUrl}  (scrape it: docs/exporters.md, dashboard docs/grafana/healthspan.json)`);
  if (userTraces) out(`  traces       ${userTraces.endpoint} (OTLP, ${userTraces.protocol})`);
  else out('  traces       set OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 to send them to Jaeger, Tempo or a Collector');
  out('  setup        docs/exporters.md: Prometheus, OTLP, Jaeger, Grafana (Tempo + Prometheus), Collector');
  out(`  the app      ${baseUrl}/users/7  (and /users, /users/7/orders, /users/7/orders-n1, /slow, /error)`);
  out(`               ${baseUrl.replace(/^http/, 'ws')}/ws  (send {"userId": 3})`);
  out('─'.repeat(78));

  if (!metricsOk || !spansOk || checks.some(([level]) => level === 'fail')) {
    throw new DemoError('healthspan did not produce the expected telemetry (see the ✗ checks above)');
  }
  if (!SERVE) return 0;

  // --serve: keep everything running until Ctrl-C
  out('');
  step(`serving ${baseUrl} with healthspan (status page ${adminUrl}/#token=${shownToken}, metrics ${metricsUrl ?? 'off'}); press Ctrl-C to stop`);
  app.mode = 'serve';
  serving = true;
  if (receiver) {
    onCleanup(async () => {
      app.stopping = true;
      await stopChild(app.child, 'SIGTERM', 12_000); // first, so its last export is counted
      step(`the OTLP receiver got ${receiver.spanCount} spans in total`);
    });
  }
  return new Promise(() => {}); // the signal handlers take it from here
}

main().then(
  (code) => code !== null && shutdown(code),
  (err) => {
    if (isShuttingDown()) return;
    shutdown(1, err instanceof DemoError ? err.message : `unexpected error: ${err?.stack ?? err}`);
  },
);
