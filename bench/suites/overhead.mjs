// The overhead suite: what healthspan costs a tiny HTTP service, next to no telemetry
// (`bare`) and to the upstream auto-instrumentation (`upstream`), each exporting every
// span over OTLP http/protobuf to a sink in its own process.
import { mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHelper } from '../lib/helper-process.mjs';
import { clockTicks, cpuTicks, rssMb } from '../lib/procs.mjs';
import { logStderrOnce, startServer } from '../lib/server.mjs';
import { renderOverhead, summarizeOverhead } from './overhead-report.mjs';
import { distFingerprint, readVersion } from '../lib/build.mjs';

export const ENDPOINTS = {
  hello: { app: 'hello.cjs', expectBody: 'hello' },
  pg: { app: 'pg.cjs', expectBody: '2' },
  // Requests wait for one of the pool's 10 clients: pool waits and context propagation through
  // the pool callback are on the hot path.
  pg50: { app: 'pg.cjs', expectBody: '2', connections: 50 },
};
/** Resource detectors a careful upstream user sets: no cloud metadata probes at start. */
export const UPSTREAM_DETECTORS = 'env,host,os,process,serviceinstance,container';
/**
 * `healthspan` starts with an empty TMPDIR every run, so without the code cache of its bundle
 * (as the first start in a fresh container); `healthspan-cached` (hello only) keeps one TMPDIR
 * across rounds, as restarts on one machine do. `healthspan-before` runs only with BENCH_BASELINE (a tarball of an earlier healthspan),
 * with an empty TMPDIR every run too;
 * `upstream-all-detectors` (upstream's default detectors, which probe cloud metadata
 * endpoints at start) only on hello, as an extra row: the comparison is `upstream`.
 */
export function contendersFor(endpoint, ctx) {
  return [
    'bare',
    'healthspan',
    ...(endpoint === 'hello' ? ['healthspan-cached'] : []),
    ...(ctx.app?.baselineDir ? ['healthspan-before'] : []),
    'upstream',
    ...(endpoint === 'hello' ? ['upstream-all-detectors'] : []),
  ];
}

/** A sink must have received at least this many spans per request served. */
const MIN_SPANS_PER_REQUEST = 0.9;
/** Startup, shutdown, flush and settling around each run, for the time estimate. */
const PER_RUN_OVERHEAD_S = 2;

function contenderArgv(contender, app) {
  switch (contender) {
    case 'bare':
      return [process.execPath, app];
    case 'healthspan':
    case 'healthspan-cached':
    case 'healthspan-before':
      return [process.execPath, '--import', 'healthspan/register', app];
    case 'upstream':
    case 'upstream-all-detectors':
      // Upstream's documented recipe; the apps are CommonJS, so no ESM loader hook is needed.
      return [process.execPath, '--require', '@opentelemetry/auto-instrumentations-node/register', app];
  }
  throw new Error(`unknown contender ${contender}`);
}

/** Where a contender runs: the user app folder (the baseline has a folder of its own). */
export function contenderCwd(contender, ctx) {
  return contender === 'healthspan-before' ? ctx.app.baselineDir : ctx.app.dir;
}

/** The environment every server gets: the shell's, minus anything that would change a contender. */
/** The environment of a server under test: none of ours inherited; `sinkPort` for instrumented ones. */
export function serverEnv(sinkPort, extra = {}) {
  const env = { BENCH_EXIT_ON_STDIN_END: '1' };
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(OTEL_|HEALTHSPAN_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  }
  if (sinkPort === undefined) return env;
  return {
    ...env,
    OTEL_SERVICE_NAME: 'healthspan-bench',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_TRACES_SAMPLER: 'always_on',
    ...extra,
  };
}

/** Waits until the sink's span count stops moving (the last export may still be in flight). */
export async function settledCount(sink) {
  let last = await sink.request({ type: 'count' });
  let stableFor = 0;
  for (let waited = 0; waited < 5000 && stableFor < 300; waited += 100) {
    await sleep(100);
    const now = await sink.request({ type: 'count' });
    stableFor = now.spanCount === last.spanCount ? stableFor + 100 : 0;
    last = now;
  }
  return last;
}

export async function checkPostgres() {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const where = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    throw new Error(`the pg endpoint needs PostgreSQL at ${where} (set DATABASE_URL): ${err.message}. Run BENCH_ONLY=hello to skip it.`);
  } finally {
    await client.end().catch(() => {});
  }
}

function measureOnce({ endpoint, contender, round, opts, ctx, sink, loadgen }) {
  const extra = contender === 'upstream' ? { OTEL_NODE_RESOURCE_DETECTORS: UPSTREAM_DETECTORS } : {};
  // A fresh TMPDIR: no code cache from an earlier round (the baseline too, so that its first
  // 2xx is measured as ours is; it used to keep the system TMPDIR, and so its cache).
  if (contender === 'healthspan' || contender === 'healthspan-before') extra.TMPDIR = mkdtempSync(path.join(ctx.app.base, 'tmp-'));
  if (contender === 'healthspan-cached') {
    extra.TMPDIR = path.join(ctx.app.base, 'tmp-cached');
    mkdirSync(extra.TMPDIR, { recursive: true });
  }
  return measureServer({
    endpoint,
    contender,
    argv: contenderArgv(contender, ENDPOINTS[endpoint].app),
    cwd: contenderCwd(contender, ctx),
    env: serverEnv(contender === 'bare' ? undefined : sink.ready.port, extra),
    instrumented: contender !== 'bare',
    usesBuild: contender === 'healthspan',
    round,
    opts,
    ctx,
    sink,
    loadgen,
  });
}

/**
 * Starts one server under test, loads it (warm-up, then the measured window), and records
 * req/s, p99, CPU per request, RSS and startup; an instrumented one must have exported at
 * least MIN_SPANS_PER_REQUEST spans per request served. Shared by the suites that measure
 * servers (overhead, insight).
 */
export async function measureServer({ endpoint, contender, argv, cwd, env, instrumented, usesBuild, round, opts, ctx, sink, loadgen }) {
  const { expectBody, connections = opts.connections } = ENDPOINTS[endpoint];
  const run = { round, endpoint, contender, valid: false };
  if (usesBuild) run.build = distFingerprint(ctx.root);
  const before = await sink.request({ type: 'count' });
  let server;
  try {
    server = await startServer({
      argv,
      env,
      cwd: cwd ?? ctx.app.dir,
      cpu: ctx.pinning.server,
      pinning: ctx.pinning,
      name: `${endpoint}/${contender}`,
    });
  } catch (err) {
    run.invalid = `server did not start: ${err.message}`;
    return run;
  }
  run.startupMs = server.startupMs;
  run.connections = connections;
  const load = { url: server.url, connections, expectBody };
  try {
    const warmup = await loadgen.request({ type: 'run', ...load, duration: opts.warmupS });
    if (warmup.error) throw new Error(`load generator failed in warm-up: ${warmup.error}`);
    const ticks0 = cpuTicks(server.pid);
    const measured = await loadgen.request({ type: 'run', ...load, duration: opts.durationS });
    if (measured.error) throw new Error(`load generator failed: ${measured.error}`);
    const ticks1 = cpuTicks(server.pid);
    run.rssMb = rssMb(server.pid);

    const m = measured.result;
    const w = warmup.result;
    const cpuS = (ticks1 - ticks0) / clockTicks();
    Object.assign(run, {
      requests: m.requests,
      reqPerSec: m.reqPerSec,
      p50Ms: m.latencyP50Ms,
      p99Ms: m.latencyP99Ms,
      cpuUsPerReq: m.requests > 0 ? (cpuS * 1e6) / m.requests : undefined,
      serverCpuBusy: cpuS / m.durationS,
      errors: m.errors + m.timeouts + m.non2xx + m.mismatches + w.errors + w.timeouts + w.non2xx + w.mismatches,
      served: server.pollRequests + w.requests + m.requests,
    });
  } catch (err) {
    run.invalid = err.message;
  } finally {
    // Printed by the app at its first request (bench/apps/serve.cjs).
    run.modules = Number(/^modules (\d+)$/m.exec(server.stdout())?.[1]) || undefined;
    const { clean } = await server.stop(10_000);
    if (!clean) run.note = 'did not exit within 10 s of SIGTERM (killed)';
    const stderr = server.stderr().trim();
    if (stderr) run.stderr = stderr.slice(-1500);
  }
  if (run.invalid) return run;

  let sinkErrors = 0;
  if (instrumented) {
    const after = await settledCount(sink);
    run.spans = after.spanCount - before.spanCount;
    run.spansPerReq = run.spans / run.served;
    sinkErrors = after.errors - before.errors;
    if (sinkErrors > 0) run.sinkLastError = after.lastError;
  }
  if (run.errors > 0) run.invalid = `${run.errors} errors / non-2xx / wrong bodies`;
  else if (sinkErrors > 0) run.invalid = `sink rejected ${sinkErrors} export request(s), last: ${run.sinkLastError}`;
  else if (instrumented && run.spansPerReq < MIN_SPANS_PER_REQUEST) {
    run.invalid = `sink received ${run.spans} spans for ${run.served} requests (< ${MIN_SPANS_PER_REQUEST}/request)`;
  }
  run.valid = !run.invalid;
  return run;
}

function formatRun(r) {
  const head = `${r.endpoint.padEnd(5)} ${r.contender.padEnd(10)}`;
  if (r.invalid && r.reqPerSec === undefined) return `${head} INVALID: ${r.invalid}`;
  const f = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  const parts = [
    `${f(r.reqPerSec).padStart(6)} req/s`,
    `p99 ${f(r.p99Ms)} ms`,
    `cpu ${f(r.cpuUsPerReq, 1)} µs/req (busy ${f(r.serverCpuBusy * 100)}%)`,
    `startup ${f(r.startupMs)} ms`,
    `modules ${f(r.modules)}`,
    `rss ${f(r.rssMb, 1)} MB`,
  ];
  if (r.spansPerReq !== undefined) parts.push(`spans ${f(r.spansPerReq, 2)}/req`);
  if (r.build) parts.push(`build ${r.build}`);
  return `${head} ${parts.join('  ')}${r.invalid ? `  INVALID: ${r.invalid}` : ''}${r.note ? `  NOTE: ${r.note}` : ''}`;
}

export const overheadSuite = {
  id: 'overhead',
  title: 'Overhead: healthspan vs upstream auto-instrumentation',
  parts: Object.keys(ENDPOINTS),

  estimateSeconds(opts, parts, ctx) {
    const runs = parts.reduce((n, p) => n + contendersFor(p, ctx).length, 0);
    return opts.rounds * runs * (opts.warmupS + opts.durationS + PER_RUN_OVERHEAD_S);
  },

  /** Runs the selected endpoints; returns { parts: { [endpoint]: { runs, summary } } }. */
  async run(opts, ctx, parts) {
    if (parts.some((p) => p.startsWith('pg'))) await checkPostgres();
    const sink = await startHelper('bench/sink.mjs', { name: 'OTLP sink', cpu: ctx.pinning.client, pinning: ctx.pinning });
    const loadgen = await startHelper('bench/loadgen.mjs', { name: 'load generator', cpu: ctx.pinning.client, pinning: ctx.pinning });
    const runs = Object.fromEntries(parts.map((p) => [p, []]));
    const stderrShown = new Set();
    try {
      for (let round = 1; round <= opts.rounds; round++) {
        for (const endpoint of parts) {
          // Rotate the order every round so no contender always runs first (or after another).
          const contenders = contendersFor(endpoint, ctx);
          const shift = (round - 1) % contenders.length;
          const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
          for (const contender of order) {
            const run = await measureOnce({ endpoint, contender, round, opts, ctx, sink, loadgen });
            runs[endpoint].push(run);
            ctx.log(`[round ${round}/${opts.rounds}] ${formatRun(run)}`);
            logStderrOnce(ctx, stderrShown, `${endpoint}/${contender}`, run.stderr);
          }
        }
      }
    } finally {
      await Promise.all([sink.close(), loadgen.close()]);
    }
    const versions = { ...ctx.app.versions, autocannon: readVersion(path.join(ctx.root, 'node_modules/autocannon/package.json')) };
    const out = {};
    for (const endpoint of parts) out[endpoint] = { versions, install: ctx.app.install, runs: runs[endpoint] };
    return { parts: out };
  },

  summarize: summarizeOverhead,
  render: renderOverhead,
};
