// Semantic conventions, checked on what real apps export under `--import healthspan/register`:
// apps/bare.mjs (node:http without a router, fetch, http.get, ws, pg, mysql2 on MariaDB,
// node-redis, ioredis, a healthspan cache) and apps/routers.mjs (express 5, fastify 5, koa 3
// with @koa/router, socket.io), against the real PostgreSQL, MariaDB and Redis.
//
// The attribute keys of every span type (scope, kind, name) are compared with the tables in
// bare-spans.json and routers-spans.json: an attribute that disappears or appears fails.
// The tables were generated from a real run (HEALTHSPAN_UPDATE_SEMCONV=1 writes them) and
// reviewed against the stable HTTP and database conventions; see docs/telemetry.md.
// Both apps' Prometheus scrapes go through `promtool check metrics` (skipped without promtool,
// except under CI=true).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_DURATION_BUCKETS, FINE_DURATION_BUCKETS, HTTP_DURATION_BUCKETS } from '../../instrumentations/shared/buckets.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../scripts/dev/otlp-receiver.mjs';
import { parsePrometheusText, type PromSample } from '../../scripts/dev/prometheus.mjs';
import { freePort, startApp, until } from '../preload/child.ts';
import { IN_CI, findBinary, missingMessage } from '../prometheus/tools.ts';

const MARK = `lit${process.pid}x${Date.now().toString(36)}`;
const UPDATE = process.env.HEALTHSPAN_UPDATE_SEMCONV === '1';
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const promtool = findBinary('promtool');
/** What Prometheus 2.x sends: OpenMetrics first. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

interface Run {
  spans: ReceivedSpan[];
  scrape: string;
  samples: PromSample[];
  openMetrics: { type: string | null; body: string };
  stdout: string;
  stderr: string;
}

let receiver: OtlpReceiver;
let bare: Run;
let routers: Run;

async function run(name: 'bare' | 'routers', env: Record<string, string> = {}): Promise<Run> {
  const service = `semconv-${name}-${process.pid}`;
  const promPort = await freePort();
  const app = await startApp(
    ['--import', 'healthspan/register'],
    fileURLToPath(new URL(`./apps/${name}.mjs`, import.meta.url)),
    {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_LOGS_EXPORTER: 'none',
      HEALTHSPAN_PROMETHEUS_PORT: String(promPort),
      HS_MARK: MARK,
      ...env,
    },
    { timeoutMs: 60_000 },
  );
  const metricsUrl = `http://127.0.0.1:${promPort}/metrics`;
  const scrape = await (await fetch(metricsUrl)).text();
  const om = await fetch(metricsUrl, { headers: { accept: PROMETHEUS_ACCEPT } });
  const openMetrics = { type: om.headers.get('content-type'), body: await om.text() };
  // The start-up report comes 1 s after start; the app may be done sooner.
  await until('the patched-modules line', () => app.stderr().includes('patched modules: '));
  // healthspan is the only SIGTERM listener: it flushes every span, then ends the process by
  // the signal, as Node would have.
  const exit = await app.stop('SIGTERM');
  expect(exit, app.stderr()).toEqual({ code: null, signal: 'SIGTERM' });
  const spans = receiver.spans.filter((s) => s.resource['service.name'] === service);
  return { spans, scrape, samples: parsePrometheusText(scrape), openMetrics, stdout: app.stdout(), stderr: app.stderr() };
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The two apps one after the other: they share the databases and the CPUs.
  bare = await run('bare', { HEALTHSPAN_HTTP_ROUTE_LIMIT: '20' });
  routers = await run('routers', { HEALTHSPAN_METRICS_DURATION_BUCKETS: 'fine' });
}, 180_000);

afterAll(async () => {
  await receiver?.close();
});

/** `scope KIND name`, with the per-run table name made constant. */
const spanType = (s: ReceivedSpan) => `${s.scope.name} ${KINDS[s.kind]} ${s.name.replace(/hs_semconv_\d+/g, 'hs_semconv_N')}`;

/**
 * A span's attribute keys, and for each event `event <name>: <its keys>`. Insight's
 * `healthspan.slow` / `healthspan.slow.severity` are left out: they mark a span that was slow
 * on this run (a loaded machine), which no table can predict (docs/alerts.md).
 */
function keysOf(s: ReceivedSpan): string[] {
  const keys = Object.keys(s.attributes)
    .filter((k) => !k.startsWith('healthspan.slow'))
    .sort();
  for (const e of s.events) keys.push(`event ${e.name}: ${Object.keys(e.attributes).sort().join(' ')}`);
  return keys;
}

/** span type → every distinct key set its spans had (sorted), as `a b c` strings. */
function table(spans: ReceivedSpan[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of spans) (out[spanType(s)] ??= new Set()).add(keysOf(s).join(' | '));
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, [...out[k]].sort()]),
  );
}

function expectTable(name: string, spans: ReceivedSpan[]): void {
  const file = new URL(`./${name}-spans.json`, import.meta.url);
  const got = table(spans);
  if (UPDATE) writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
  expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

/** Everything a span exports, as text. */
const exported = (s: ReceivedSpan) => JSON.stringify({ name: s.name, attributes: s.attributes, status: s.status, events: s.events });
const byName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const labelValues = (samples: PromSample[], metric: string, label: string) =>
  [...new Set(samples.filter((s) => s.name === metric).map((s) => s.labels[label]))].sort();
const bucketBounds = (samples: PromSample[], metric: string) =>
  [...new Set(samples.filter((s) => s.name === `${metric}_bucket` && s.labels.le !== '+Inf').map((s) => Number(s.labels.le)))].sort((a, b) => a - b);

describe('span attributes, by span type', () => {
  it('bare node:http, fetch, http.get, ws, pg, mysql2, node-redis, ioredis, cache: exactly the keys of bare-spans.json', () => {
    expectTable('bare', bare.spans);
  });

  it('express, fastify, koa, socket.io: exactly the keys of routers-spans.json', () => {
    expectTable('routers', routers.spans);
  });
});

describe('nothing leaks through a side door', () => {
  it('no literal, key, value or secret in any exported span, event, status or metric', () => {
    for (const r of [bare, routers]) {
      const leaks = r.spans.filter((s) => exported(s).includes(MARK)).map((s) => `${s.name}: ${exported(s)}`);
      expect(leaks).toEqual([]);
      expect(r.scrape).not.toContain(MARK);
    }
  });

  it('exception events are scrubbed like the status: message and the first line of the stack', () => {
    const client = bare.spans.filter((s) => s.name === 'CLIENT' && s.status.code === 2);
    expect(client.map((s) => s.scope.name).sort()).toEqual(['@opentelemetry/instrumentation-ioredis', '@opentelemetry/instrumentation-redis']);
    for (const s of client) {
      const e = s.events.find((ev) => ev.name === 'exception')!;
      expect(e.attributes['exception.message']).toBe('ERR unknown subcommand ?. Try CLIENT HELP.');
      expect(String(e.attributes['exception.stacktrace']).split('\n')[0]).toMatch(/^\w+: ERR unknown subcommand \?\. Try CLIENT HELP\.$/);
      expect(s.status.message ?? '').not.toContain(MARK);
    }
  });
});

describe('http.route only when the route is known', () => {
  it('a scanner flood of unknown paths (404) takes no route and no template; the real routes keep theirs', () => {
    const server = bare.spans.filter((s) => s.kind === 2);
    const notFound = server.filter((s) => s.attributes['http.response.status_code'] === 404);
    expect(notFound).toHaveLength(60);
    expect(notFound.every((s) => s.name === 'GET' && s.attributes['http.route'] === undefined)).toBe(true);
    expect([...new Set(server.map((s) => s.attributes['http.route']).filter((r) => r !== undefined))].sort()).toEqual([
      '/chat',
      '/fail',
      '/hello',
      '/rooms/:id',
      '/users/:id',
    ]);
    // The cap was 20 templates: the 60 scanner paths would have filled it three times over.
    expect(labelValues(bare.samples, 'http_server_request_duration_count', 'http_route')).toEqual([undefined, '/fail', '/hello', '/users/:id'].sort());
    expect(bare.samples.find((s) => s.name === 'healthspan_http_route_folded_total')?.value).toBe(0);
  });

  it('express, fastify and koa requests no route matched have no http.route and are named by the method', () => {
    const server = routers.spans.filter((s) => s.kind === 2 && s.scope.name === 'healthspan-http-server');
    const byPath = Object.fromEntries(
      server.map((s) => [s.attributes['url.path'], { name: s.name, route: s.attributes['http.route'], status: s.attributes['http.response.status_code'] }]),
    );
    expect(byPath).toMatchObject({
      '/items/7': { name: 'GET /items/:id', route: '/items/:id', status: 200 },
      '/missing': { name: 'GET', route: undefined, status: 404 },
      '/fitems/7': { name: 'GET /fitems/:id', route: '/fitems/:id', status: 200 },
      '/fmissing': { name: 'GET', route: undefined, status: 404 },
      '/kitems/7': { name: 'GET /kitems/:id', route: '/kitems/:id', status: 200 },
      '/kmissing': { name: 'GET', route: undefined, status: 404 },
    });
    expect(labelValues(routers.samples, 'http_server_request_duration_count', 'http_route')).toEqual(
      [undefined, '/fitems/:id', '/items/:id', '/kitems/:id'].sort(),
    );
  });

  it('an unknown method is named HTTP, with the method as sent in http.request.method_original', () => {
    const [span] = bare.spans.filter((s) => s.kind === 2 && s.attributes['http.request.method'] === '_OTHER');
    expect(span).toMatchObject({ name: 'HTTP /users/:id', attributes: { 'http.request.method_original': 'PURGE', 'http.route': '/users/:id' } });
  });

  it('server and ws handshake spans name the peer: network.peer.address and network.peer.port', () => {
    const spans = bare.spans.filter((s) => s.kind === 2 && (s.scope.name === 'healthspan-http-server' || s.scope.name === 'healthspan-ws'));
    expect(spans.length).toBeGreaterThan(60);
    for (const s of spans) {
      expect(s.attributes['network.peer.address']).toBe('127.0.0.1');
      expect(s.attributes['network.peer.port']).toEqual(expect.any(Number));
      expect(s.attributes['network.peer.port']).not.toBe(s.attributes['server.port']);
    }
    expect(byName(bare.spans, 'GET /chat').map((s) => s.scope.name)).toEqual(['healthspan-ws']);
  });
});

describe('databases', () => {
  it('a failed query carries db.response.status_code, and error.type is that code', () => {
    const failed = bare.spans.filter((s) => s.attributes['db.system.name'] !== undefined && s.status.code === 2);
    const codes = failed
      .map((s) => `${s.scope.name} ${s.name.replace(/hs_semconv_\d+/, 'T')} ${s.attributes['db.response.status_code']} ${s.attributes['error.type']}`)
      .sort();
    expect(codes).toEqual(
      [
        '@opentelemetry/instrumentation-pg INSERT T 23505 23505',
        '@opentelemetry/instrumentation-mysql2 INSERT T 1062 1062',
        '@opentelemetry/instrumentation-mysql2 SELEC 1064 1064',
        '@opentelemetry/instrumentation-redis INCR ERR ERR',
        '@opentelemetry/instrumentation-ioredis INCR ERR ERR',
        '@opentelemetry/instrumentation-redis CLIENT ERR ERR',
        '@opentelemetry/instrumentation-ioredis CLIENT ERR ERR',
      ].sort(),
    );
  });

  it('connection set-up is no root trace, no db.client.operation.duration point and no insight statement', () => {
    const roots = bare.spans.filter((s) => s.parentSpanId === undefined || s.parentSpanId === '');
    expect(roots.filter((s) => s.attributes['db.system.name'] !== undefined).map((s) => s.name)).toEqual([]);
    expect(bare.spans.filter((s) => ['redis-connect', 'connect', 'HELLO', 'INFO'].includes(s.name))).toEqual([]);
    const ops = labelValues(bare.samples, 'db_client_operation_duration_count', 'db_operation_name');
    expect(ops).not.toContain(undefined);
    for (const op of ['HELLO', 'CLIENT', 'INFO', 'AUTH']) expect(ops).not.toContain(op);
    const queries = JSON.parse(/^QUERIES (.*)$/m.exec(bare.stdout)![1]) as string[];
    expect(queries.filter((q) => q.startsWith('redis ')).sort()).toEqual(['redis DEL', 'redis EXEC', 'redis GET', 'redis INCR', 'redis MULTI', 'redis SET']);
  });

  it('Redis batches: one rule for node-redis and ioredis (each command by its name, the batch in healthspan.redis.batch)', () => {
    const redis = bare.spans
      .filter((s) => s.attributes['db.system.name'] === 'redis' && s.attributes['healthspan.redis.batch'] !== undefined)
      .map(
        (s) =>
          `${s.scope.name.replace('@opentelemetry/instrumentation-', '')} ${s.attributes['healthspan.redis.batch']} ${s.name} ${s.attributes['db.operation.name']}`,
      );
    expect(redis.sort()).toEqual(
      [
        'redis MULTI SET SET',
        'redis MULTI GET GET',
        'redis PIPELINE SET SET',
        'redis PIPELINE GET GET',
        'ioredis MULTI SET SET',
        'ioredis MULTI GET GET',
        'ioredis PIPELINE SET SET',
        'ioredis PIPELINE GET GET',
      ].sort(),
    );
  });
});

describe('metrics', () => {
  it("duration histograms use the semantic conventions' advisory buckets by default", () => {
    expect(bucketBounds(bare.samples, 'http_server_request_duration')).toEqual(HTTP_DURATION_BUCKETS);
    expect(bucketBounds(bare.samples, 'http_client_request_duration')).toEqual(HTTP_DURATION_BUCKETS);
    expect(bucketBounds(bare.samples, 'db_client_operation_duration')).toEqual(DB_DURATION_BUCKETS);
    expect(bucketBounds(bare.samples, 'db_client_connection_wait_time')).toEqual(DB_DURATION_BUCKETS);
  });

  it("HEALTHSPAN_METRICS_DURATION_BUCKETS=fine gives them healthspan's finer buckets", () => {
    expect(bucketBounds(routers.samples, 'http_server_request_duration')).toEqual(FINE_DURATION_BUCKETS);
    expect(bucketBounds(routers.samples, 'http_client_request_duration')).toEqual(FINE_DURATION_BUCKETS);
  });

  it('the pool connection count is db_client_connections in Prometheus (a gauge may not end in _count)', () => {
    expect(labelValues(bare.samples, 'db_client_connections', 'db_client_connection_state')).toEqual(['idle', 'used']);
    expect(bare.samples.some((s) => s.name === 'db_client_connection_count')).toBe(false);
  });

  it('serves OpenMetrics to a client that prefers it (Prometheus does)', () => {
    expect(bare.openMetrics.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(bare.openMetrics.body.endsWith('\n# EOF\n')).toBe(true);
    expect(bare.openMetrics.body).toContain('# TYPE healthspan_cache_requests counter\n');
    expect(bare.openMetrics.body).toMatch(/^healthspan_cache_requests_total\{/m);
    expect(bare.openMetrics.body).not.toMatch(/^# UNIT /m);
  });

  if (!promtool && IN_CI) {
    it('promtool is installed (required when CI=true)', () => {
      throw new Error(missingMessage('promtool'));
    });
  }

  it.skipIf(!promtool)('promtool check metrics finds nothing to complain about in either scrape', () => {
    for (const r of [bare, routers]) {
      const check = spawnSync(promtool!, ['check', 'metrics'], { input: r.scrape, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);
    }
  });
});

describe('startup report', () => {
  it('names every module that was patched, also those loaded after the start-up line', () => {
    const patched = (stderr: string) =>
      [...stderr.matchAll(/patched modules?: (.*?)(?: \(loaded after start-up\))?$/gm)].flatMap((m) => m[1].split(', ')).map((m) => m.replace(/@[^@]+$/, ''));
    expect(patched(bare.stderr)).toEqual(expect.arrayContaining(['http', 'pg', 'pg-pool', 'mysql2', '@redis/client', 'ioredis', 'ws']));
    expect(patched(routers.stderr)).toEqual(expect.arrayContaining(['http', 'express', 'fastify', 'koa', 'socket.io']));
  });
});
