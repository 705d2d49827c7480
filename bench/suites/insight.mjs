// The insight suite: what the InsightProcessor costs. `insight-span` measures it per ended
// span (and per `evaluate()`) in a child process (this same file, `--child`) pinned to the
// server CPU, compiling src/insight/processor.ts as the build does (the package does not
// export it); `insight-http` measures the hello and pg servers under
// `--import healthspan/register` with insight on (the default) and off
// (`HEALTHSPAN_INSIGHT=false`), exporting every span over OTLP to the sink.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distFingerprint, readVersion } from '../lib/build.mjs';
import { runPinnedChild } from '../lib/child.mjs';
import { loadSourceModule } from '../lib/source-module.mjs';
import { startHelper } from '../lib/helper-process.mjs';
import { contenderRuns, fmt, median, range, validRunsByRound } from '../lib/stats.mjs';
import { logStderrOnce } from '../lib/server.mjs';
import { ENDPOINTS as ALL_ENDPOINTS, checkPostgres, measureServer, serverEnv } from './overhead.mjs';

// Insight on/off is measured on the two 16-connection endpoints.
const ENDPOINTS = { hello: ALL_ENDPOINTS.hello, pg: ALL_ENDPOINTS.pg };

const SELF = fileURLToPath(import.meta.url);
/** Measured time per span case per round (and for the discarded warm-up round). */
const CASE_MS = 250;
/** Measured time of `evaluate()` per round. */
const EVALUATE_MS = 250;
/** Child startup and the warm-up round, for the time estimate. */
const FIXED_S = 4;
const ROUTES = 50;
const SUMMARIES = 30;
/** Precomputed span specs the loops cycle through. */
const SPECS = 4096;
/** Share of requests answered 500 (under the default 5 % error-rate rule). */
const ERROR_SHARE = 0.03;
/** Share of spans slower than the default thresholds (1 s request, 100 ms query). */
const SLOW_SHARE = 0.01;
/** Queries per parent request span (the N+1 detector groups by parent). */
const QUERIES_PER_PARENT = 4;
/** The issue's target: insight adds under this fraction to the instrumented app's CPU per request. */
export const TARGET_FRACTION = 0.05;

export const SPAN_KINDS = { server: 'HTTP SERVER span', client: 'pg CLIENT span' };
const SPAN_CASES = Object.keys(SPAN_KINDS).flatMap((kind) => ['noop', 'insight'].map((proc) => ({ id: `${kind}-${proc}`, kind, proc })));

// ---- child ------------------------------------------------------------------------------

/** Deterministic pseudo-random numbers, so every run measures the same spans. */
function lcg(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const TABLES = ['users', 'orders', 'products', 'carts', 'invoices', 'payments', 'sessions', 'teams', 'events', 'addresses'];
const OPS = ['SELECT', 'INSERT', 'UPDATE'];
const route = (i) => `/api/${TABLES[i % TABLES.length]}${i >= 10 ? `/v${Math.floor(i / 10)}` : ''}/:id`;
const summary = (i) => `${OPS[i % OPS.length]} ${TABLES[Math.floor(i / OPS.length) % TABLES.length]}`;

const hr = (ms) => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** Spans as the http and pg instrumentations (plus DbProcessor) leave them at end. */
function buildSpecs(api) {
  const rnd = lcg(42);
  const base = Date.now();
  const server = [];
  const client = [];
  const parents = [];
  for (let i = 0; i < SPECS; i++) {
    const r = i % ROUTES;
    const slow = rnd() < SLOW_SHARE;
    const ms = slow ? 1000 + rnd() * 1500 : 2 + rnd() * 120;
    // Every 33rd request of a route fails: 3–4 % per route, under the error-rate rule.
    const status = Math.floor(i / ROUTES) % Math.round(1 / ERROR_SHARE) === 0 ? 500 : 200;
    const method = r % 5 === 4 ? 'POST' : 'GET';
    const start = base + i;
    server.push({
      name: `${method} ${route(r)}`,
      start: hr(start),
      end: hr(start + ms),
      startAttributes: {
        'http.request.method': method,
        'url.path': route(r).replace(':id', String(1000 + i)),
        'url.scheme': 'http',
        'server.address': 'api.example.com',
        'server.port': 8080,
        'network.protocol.version': '1.1',
        'user_agent.original': 'Mozilla/5.0 (bench)',
      },
      endAttributes: { 'http.route': route(r), 'http.response.status_code': status },
      error: status >= 500,
    });
    if (i % QUERIES_PER_PARENT === 0) {
      const id = (n, len) => n.toString(16).padStart(len, '0');
      parents.push(api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: id(0xabc0000 + i, 32), spanId: id(0x1000 + i, 16), traceFlags: 1 }));
    }
    const q = i % SUMMARIES;
    const qms = rnd() < SLOW_SHARE ? 100 + rnd() * 400 : 0.2 + rnd() * 8;
    client.push({
      name: summary(q),
      start: hr(start),
      end: hr(start + qms),
      parent: parents[parents.length - 1],
      startAttributes: {
        'db.system.name': 'postgresql',
        'db.namespace': 'shop',
        'db.operation.name': OPS[q % OPS.length],
        'db.query.text': `${OPS[q % OPS.length]} … ${TABLES[Math.floor(q / OPS.length) % TABLES.length]} WHERE id = $1`,
        'db.query.summary': summary(q),
        'server.address': '127.0.0.1',
        'server.port': 5432,
      },
    });
  }
  return { server, client };
}

class NoopProcessor {
  onStart() {}
  onEnd() {}
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

/** ns per created-and-ended span over at least `ms`, cycling through `specs`. */
function timeSpans(tracer, api, kind, specs, ms) {
  const limit = BigInt(Math.round(ms * 1e6));
  const len = specs.length;
  const SERVER = api.SpanKind.SERVER;
  const CLIENT = api.SpanKind.CLIENT;
  const ERROR = { code: api.SpanStatusCode.ERROR };
  let n = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 32; i++) {
      const s = specs[(n + i) % len];
      if (kind === 'server') {
        const span = tracer.startSpan(s.name, { kind: SERVER, startTime: s.start, attributes: s.startAttributes });
        span.setAttributes(s.endAttributes);
        if (s.error) span.setStatus(ERROR);
        span.end(s.end);
      } else {
        tracer.startSpan(s.name, { kind: CLIENT, startTime: s.start, attributes: s.startAttributes }, s.parent).end(s.end);
      }
    }
    n += 32;
    elapsed = process.hrtime.bigint() - t0;
  }
  return Number(elapsed) / n;
}

function timeEvaluate(processor, ms) {
  const limit = BigInt(Math.round(ms * 1e6));
  let n = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < limit) {
    processor.evaluate();
    n++;
    elapsed = process.hrtime.bigint() - t0;
  }
  return Number(elapsed) / n;
}

async function child({ root, rounds }) {
  const load = createRequire(path.join(root, 'package.json'));
  const api = load('@opentelemetry/api');
  const { TracerProvider } = load('@opentelemetry/sdk-trace');
  const pkg = loadSourceModule(root, 'src/insight/processor.ts');
  const insight = new pkg.InsightProcessor({ evaluateIntervalMs: 0 });
  const providers = {
    noop: new TracerProvider({ spanProcessors: [new NoopProcessor()] }),
    insight: new TracerProvider({ spanProcessors: [insight] }),
  };
  const tracers = { noop: providers.noop.getTracer('bench'), insight: providers.insight.getTracer('bench') };
  const specs = buildSpecs(api);

  // Set-up check: a slow span is tagged, and the processor classifies what we feed it.
  const slow = specs.server.find((s) => s.end[0] * 1e3 + s.end[1] / 1e6 - (s.start[0] * 1e3 + s.start[1] / 1e6) > 1000);
  let tagged = false;
  const capture = new NoopProcessor();
  capture.onEnd = (span) => (tagged = span.attributes['healthspan.slow'] === true);
  const probe = new TracerProvider({ spanProcessors: [new pkg.InsightProcessor({ evaluateIntervalMs: 0 }), capture] });
  const ps = probe.getTracer('bench').startSpan(slow.name, { kind: api.SpanKind.SERVER, startTime: slow.start, attributes: slow.startAttributes });
  ps.setAttributes(slow.endAttributes);
  ps.end(slow.end);
  await probe.shutdown();

  const ns = Object.fromEntries(SPAN_CASES.map((c) => [c.id, []]));
  const evaluateNs = [];
  // Round 0 warms up the JIT and is discarded (it also fills the windows with every route and
  // statement); cases interleave and the two processors take turns going first.
  for (let round = 0; round <= rounds; round++) {
    for (const kind of Object.keys(SPAN_KINDS)) {
      const order = round % 2 ? ['insight', 'noop'] : ['noop', 'insight'];
      for (const proc of order) {
        const v = timeSpans(tracers[proc], api, kind, specs[kind], CASE_MS);
        if (round > 0) ns[`${kind}-${proc}`].push(v);
      }
    }
    const e = timeEvaluate(insight, EVALUATE_MS);
    if (round > 0) evaluateNs.push(e);
  }
  // Builds before the read model (BENCH_BASELINE) had these methods on the processor itself.
  const read = insight.read ?? insight;
  const health = read.health();
  const keys = read.bounds().keys;
  const checks = {
    slowTagged: tagged,
    requestKeys: keys.routes,
    queryKeys: keys.queries,
    activeAlerts: (insight.read ? read.alerts() : insight.engine.active()).map((a) => `${a.rule} ${a.key ?? ''}`.trim()),
    healthScore: health.score,
  };
  await providers.noop.shutdown();
  await providers.insight.shutdown();
  return {
    source: 'src',
    rounds,
    caseMs: CASE_MS,
    evaluateMs: EVALUATE_MS,
    routes: ROUTES,
    summaries: SUMMARIES,
    errorShare: ERROR_SHARE,
    slowShare: SLOW_SHARE,
    queriesPerParent: QUERIES_PER_PARENT,
    cases: SPAN_CASES.map((c) => ({ ...c, ns: ns[c.id] })),
    evaluateNs,
    checks,
  };
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).then(
    (result) => process.stdout.write(JSON.stringify(result), () => process.exit(0)),
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}

// ---- orchestrator: insight-span ---------------------------------------------------------

/** Median ns per span of both processors, the added ns (median of per-round differences). */
export function spanCost(data, kind) {
  const noop = data.cases.find((c) => c.kind === kind && c.proc === 'noop').ns;
  const ins = data.cases.find((c) => c.kind === kind && c.proc === 'insight').ns;
  const added = ins.map((v, i) => v - noop[i]);
  return { noopNs: median(noop), insightNs: median(ins), addedNs: median(added), addedRange: range(added), noopRange: range(noop), insightRange: range(ins) };
}

function renderSpan(p) {
  const { data, file, result } = p;
  const pinned = result.settings?.pinning?.pinned;
  const rows = [
    '| span | no-op processor ns/span (min–max) | InsightProcessor ns/span (min–max) | added by insight ns/span (per-round min–max) |',
    '|---|--:|--:|--:|',
  ];
  for (const kind of Object.keys(SPAN_KINDS)) {
    const c = spanCost(data, kind);
    rows.push(
      `| ${SPAN_KINDS[kind]} | ${fmt(c.noopNs)} (${fmt(c.noopRange[0])}–${fmt(c.noopRange[1])}) | ${fmt(c.insightNs)} (${fmt(c.insightRange[0])}–${fmt(c.insightRange[1])}) | ` +
        `**${fmt(c.addedNs)}** (${fmt(c.addedRange[0])}–${fmt(c.addedRange[1])}) |`,
    );
  }
  const [elo, ehi] = range(data.evaluateNs);
  rows.push(
    `| one \`evaluate()\`, ${data.routes} routes + ${data.summaries} statements in the windows | | ${fmt(median(data.evaluateNs) / 1000, 1)} µs (${fmt(elo / 1000, 1)}–${fmt(ehi / 1000, 1)}) | |`,
  );
  const k = data.checks;
  return [
    '### Per span (`insight-span`)',
    '',
    `Method: one child process ${pinned ? 'pinned to CPU 0 (`taskset -c`)' : '**unpinned**'} compiles \`InsightProcessor\` ` +
      '(`src/insight/processor.ts`, with esbuild as the build does; the package does not export it) and builds two `TracerProvider`s: one with only `new InsightProcessor({ evaluateIntervalMs: 0 })`, ' +
      'the baseline with only a no-op processor. Each loop creates and ends spans as the instrumentations leave them: an HTTP ' +
      `SERVER span (\`http.request.method\`, \`url.*\`, then \`http.route\` from ${data.routes} routes and \`http.response.status_code\`, ` +
      `${fmt(data.errorShare * 100)} % 500s with an error status) and a pg CLIENT span (\`db.system.name\`, \`db.query.text\`, \`db.query.summary\` ` +
      `from ${data.summaries} summaries, ${data.queriesPerParent} per parent request), with explicit start and end times ` +
      `(${fmt(data.slowShare * 100)} % slower than the default thresholds, so \`onEnding\` tags them). After a discarded warm-up round, ` +
      `${data.rounds} round(s) run every case for ${data.caseMs} ms (the two providers take turns going first) and then ` +
      `\`evaluate()\` in a loop for ${data.evaluateMs} ms over the filled windows. Figures are medians over rounds; "added" is the ` +
      'median of the per-round differences.',
    '',
    `${result.machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · ${data.rounds} round(s) · ` +
      `${data.build ? `build ${data.build} · ` : ''}@opentelemetry/sdk-trace ${data.versions?.sdkTrace ?? '?'} · raw results: ${file}`,
    '',
    ...rows,
    '',
    `Checks: a slow span was ${k.slowTagged ? '' : '**not** '}tagged \`healthspan.slow\`; the windows held ${fmt(k.requestKeys)} routes and ` +
      `${fmt(k.queryKeys)} statements at the end; health score ${fmt(k.healthScore)}; alerts firing: ${k.activeAlerts.length ? k.activeAlerts.join(', ') : 'none'}.`,
  ].join('\n');
}

// ---- orchestrator: insight-http ---------------------------------------------------------

/** The two contenders: the preload's default, and the same with insight switched off. */
export const HTTP_CONTENDERS = { on: 'healthspan', off: 'healthspan, `HEALTHSPAN_INSIGHT=false`' };
const PER_RUN_OVERHEAD_S = 2;

function measureOnce({ endpoint, contender, round, opts, ctx, sink, loadgen }) {
  const run = measureServer({
    endpoint,
    contender,
    argv: [process.execPath, '--import', 'healthspan/register', ENDPOINTS[endpoint].app],
    env: serverEnv(sink.ready.port, contender === 'off' ? { HEALTHSPAN_INSIGHT: 'false' } : {}),
    instrumented: true,
    usesBuild: true,
    round,
    opts,
    ctx,
    sink,
    loadgen,
  });
  return run;
}

/** Medians per contender over valid runs; the ratio on/off of the medians and per round. */
export function summarizeHttp(runs) {
  const out = {};
  for (const endpoint of Object.keys(ENDPOINTS)) {
    const mine = runs.filter((r) => r.endpoint === endpoint);
    if (!mine.length) continue;
    const c = {};
    for (const contender of Object.keys(HTTP_CONTENDERS)) {
      const { pick, counts } = contenderRuns(mine, contender);
      c[contender] = {
        ...counts,
        cpuUsPerReq: median(pick('cpuUsPerReq')),
        cpuUsPerReqRange: range(pick('cpuUsPerReq')),
        reqPerSec: median(pick('reqPerSec')),
        p99Ms: median(pick('p99Ms')),
        rssMb: median(pick('rssMb')),
        spansPerReq: median(pick('spansPerReq')),
      };
    }
    const perRound = [...validRunsByRound(mine).values()]
      .map(({ on, off }) => (on && off ? on.cpuUsPerReq / off.cpuUsPerReq : undefined))
      .filter(Number.isFinite);
    const ratio = c.on.cpuUsPerReq / c.off.cpuUsPerReq;
    const status = !Number.isFinite(ratio) ? 'INVALID' : ratio - 1 < TARGET_FRACTION ? 'PASS' : 'SHORT';
    out[endpoint] = { contenders: c, ratio, ratioRange: range(perRound), addedUs: c.on.cpuUsPerReq - c.off.cpuUsPerReq, status };
  }
  return out;
}

function renderHttp(p) {
  const { data, file, result } = p;
  const pinned = result.settings?.pinning?.pinned;
  const s = result.settings ?? {};
  const summary = summarizeHttp(data.runs);
  const rows = [
    '| endpoint | contender | server CPU µs/req (min–max) | req/s | p99 ms | RSS MB | spans/req | valid runs |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
  ];
  const verdicts = [];
  for (const [endpoint, e] of Object.entries(summary)) {
    for (const [id, label] of Object.entries(HTTP_CONTENDERS)) {
      const c = e.contenders[id];
      const [lo, hi] = c.cpuUsPerReqRange ?? [];
      rows.push(
        `| ${endpoint} | ${label} | ${fmt(c.cpuUsPerReq, 1)} (${fmt(lo, 1)}–${fmt(hi, 1)}) | ${fmt(c.reqPerSec)} | ${fmt(c.p99Ms, 1)} | ` +
          `${fmt(c.rssMb, 1)} | ${fmt(c.spansPerReq, 2)} | ${c.valid}/${c.runs}${c.invalidReasons.length ? ` (${c.invalidReasons.join('; ')})` : ''} |`,
      );
    }
    const [rlo, rhi] = e.ratioRange ?? [];
    verdicts.push(
      `| ${endpoint} | ${fmt(e.addedUs, 1)} | **${fmt(e.ratio, 3)}×** (${fmt(rlo, 3)}–${fmt(rhi, 3)}) | ${fmt((e.ratio - 1) * 100, 1)} % | **${e.status}** |`,
    );
  }
  return [
    '### Per request (`insight-http`)',
    '',
    `Method: the overhead suite’s hello and pg apps under \`--import healthspan/register\`, once as the preload sets up by default ` +
      '(insight on) and once with `HEALTHSPAN_INSIGHT=false`, every span exported over OTLP http/protobuf to the sink. ' +
      `Server ${pinned ? 'pinned to CPU 0, load generator and sink on CPU 1' : '**unpinned**'}; ${s.rounds ?? '?'} interleaved round(s) ` +
      `(the contenders take turns going first) of ${s.warmupS ?? '?'} s warm-up + ${s.durationS ?? '?'} s measured at ` +
      `${s.connections ?? '?'} connections. Server CPU is user + system time of the server process over the measured ` +
      'seconds, divided by the requests served; figures are medians over valid runs, the ratio is of the medians (per-round range in brackets).',
    '',
    `${result.machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · build ${[...new Set(data.runs.map((r) => r.build))].join(', ')} · ` +
      `healthspan ${data.versions?.healthspan ?? '?'} · autocannon ${data.versions?.autocannon ?? '?'} · raw results: ${file}`,
    '',
    ...rows,
    '',
    '| endpoint | added CPU µs/req | insight on / off | added | target: under +5 % |',
    '|---|--:|--:|--:|---|',
    ...verdicts,
    '',
    `**Target: insight adds under ${fmt(TARGET_FRACTION * 100)} % to the instrumented app’s CPU per request — ` +
      `${Object.entries(summary)
        .map(([e, v]) => `${e} ${v.status}`)
        .join(', ')}.**`,
  ].join('\n');
}

function render(parts) {
  const sections = [
    '`InsightProcessor` (its span path is `src/insight/ingest.ts`) runs on every ended span on the application’s thread: `onEnding` tags ' +
      'spans slower than their threshold, `onEnd` classifies the span and records it in bounded rolling windows; the alert ' +
      'rules and the health score are computed by `evaluate()` on an unref’d timer (every 5 s by default), never on the span path.',
  ];
  sections.push('', parts['insight-span'] ? renderSpan(parts['insight-span']) : '### Per span (`insight-span`)\n\n_Not run yet._');
  sections.push('', parts['insight-http'] ? renderHttp(parts['insight-http']) : '### Per request (`insight-http`)\n\n_Not run yet._');
  return sections.join('\n');
}

function formatRun(r) {
  const head = `${r.endpoint.padEnd(5)} insight ${r.contender.padEnd(3)}`;
  const f = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  if (r.reqPerSec === undefined) return `${head} INVALID: ${r.invalid}`;
  return (
    `${head} ${f(r.reqPerSec).padStart(6)} req/s  p99 ${f(r.p99Ms)} ms  cpu ${f(r.cpuUsPerReq, 1)} µs/req (busy ${f(r.serverCpuBusy * 100)}%)  ` +
    `rss ${f(r.rssMb, 1)} MB  spans ${f(r.spansPerReq, 2)}/req${r.invalid ? `  INVALID: ${r.invalid}` : ''}${r.note ? `  NOTE: ${r.note}` : ''}`
  );
}

async function runHttp(opts, ctx) {
  const endpoints = Object.keys(ENDPOINTS);
  if (endpoints.some((e) => e.startsWith('pg'))) await checkPostgres();
  const sink = await startHelper('bench/sink.mjs', { name: 'OTLP sink', cpu: ctx.pinning.client, pinning: ctx.pinning });
  const loadgen = await startHelper('bench/loadgen.mjs', { name: 'load generator', cpu: ctx.pinning.client, pinning: ctx.pinning });
  const runs = [];
  const stderrShown = new Set();
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const endpoint of endpoints) {
        const order = round % 2 ? ['on', 'off'] : ['off', 'on'];
        for (const contender of order) {
          const run = await measureOnce({ endpoint, contender, round, opts, ctx, sink, loadgen });
          runs.push(run);
          ctx.log(`[insight-http round ${round}/${opts.rounds}] ${formatRun(run)}`);
          logStderrOnce(ctx, stderrShown, `${endpoint}/${contender}`, run.stderr);
        }
      }
    }
  } finally {
    await Promise.all([sink.close(), loadgen.close()]);
  }
  const versions = {
    healthspan: readVersion(path.join(ctx.root, 'package.json')),
    autocannon: readVersion(path.join(ctx.root, 'node_modules/autocannon/package.json')),
  };
  for (const [endpoint, e] of Object.entries(summarizeHttp(runs))) {
    ctx.log(
      `insight-http: ${endpoint} on ${fmt(e.contenders.on.cpuUsPerReq, 1)} µs/req, off ${fmt(e.contenders.off.cpuUsPerReq, 1)} µs/req, ` +
        `ratio ${fmt(e.ratio, 3)}× → target < +${fmt(TARGET_FRACTION * 100)} %: ${e.status}`,
    );
  }
  return { versions, runs };
}

export const insightSuite = {
  id: 'insight',
  title: 'Insight: `InsightProcessor` cost',
  parts: ['insight-span', 'insight-http'],

  estimateSeconds(opts, parts) {
    let s = 0;
    if (parts.includes('insight-span')) s += FIXED_S + ((opts.rounds + 1) * (SPAN_CASES.length * CASE_MS + EVALUATE_MS)) / 1000;
    if (parts.includes('insight-http')) {
      s += opts.rounds * Object.keys(ENDPOINTS).length * Object.keys(HTTP_CONTENDERS).length * (opts.warmupS + opts.durationS + PER_RUN_OVERHEAD_S);
    }
    return s;
  },

  async run(opts, ctx, parts) {
    const out = {};
    if (parts.includes('insight-span')) {
      ctx.log(
        `insight-span: ${Object.keys(SPAN_KINDS).join(', ')} spans, InsightProcessor vs no-op, ${opts.rounds} round(s) of ${CASE_MS} ms each + evaluate()`,
      );
      const data = await runPinnedChild(SELF, { root: ctx.root, rounds: opts.rounds }, ctx, 'insight-span');
      data.build = distFingerprint(ctx.root);
      data.versions = { sdkTrace: readVersion(path.join(ctx.root, 'node_modules/@opentelemetry/sdk-trace/package.json')) };
      for (const kind of Object.keys(SPAN_KINDS)) {
        const c = spanCost(data, kind);
        ctx.log(`insight-span: ${kind.padEnd(6)} no-op ${fmt(c.noopNs)} ns  insight ${fmt(c.insightNs)} ns  added ${fmt(c.addedNs)} ns/span`);
      }
      ctx.log(`insight-span: evaluate() ${fmt(median(data.evaluateNs) / 1000, 1)} µs (${data.checks.requestKeys} routes, ${data.checks.queryKeys} statements)`);
      if (!data.checks.slowTagged) ctx.log('insight-span: WARNING the slow probe span was not tagged healthspan.slow');
      out['insight-span'] = data;
    }
    if (parts.includes('insight-http')) out['insight-http'] = await runHttp(opts, ctx);
    return { parts: out };
  },

  render,
};
