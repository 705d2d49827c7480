// The cache suite: what `createCache()` costs per `get` next to raw Keyv 6, on an L1 hit and
// on the L2 (Redis) path, with the OpenTelemetry SDK set up as an app would have it. The
// measuring runs in a child process (this same file, `--child`) pinned to the server CPU,
// importing the built package so that it measures what ships.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, range } from '../lib/stats.mjs';
import { distFingerprint, readVersion } from '../lib/build.mjs';
import { runPinnedChild } from '../lib/child.mjs';

const SELF = fileURLToPath(import.meta.url);
/** Measured time per L1 case per round (and for the discarded warm-up round). */
const L1_MS = 250;
/** Measured time per L2 case per round: every call is a Redis round trip. */
const L2_MS = 500;
/** Child startup, SDK setup, Redis connections and checks, for the time estimate. */
const FIXED_S = 4;
/** Awaited calls between two clock reads. */
const BATCH_L1 = 64;
const BATCH_L2 = 8;
/** The issue's target: an L1 hit inside an active span costs under this × raw Keyv. */
export const TARGET_RATIO = 1.5;
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const CACHE_NAME = 'bench';
const KEY = 'user:42';
/** A typical cached record: a user with a few fields (200 bytes of JSON). */
const VALUE = {
  id: 42,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  orgId: 7,
  roles: ['admin', 'billing'],
  createdAt: '2024-01-15T09:30:00.000Z',
  settings: { theme: 'dark', locale: 'en-GB', notifications: true },
};

/**
 * The contenders of each path. `raw` is the comparison the target is about (Keyv 6 as it
 * comes); `raw-noser` (L1 only) is a reference: Keyv 6 in memory without its JSON
 * serializer, which stores the object itself as healthspan's L1 does.
 */
export const CONTENDERS = {
  raw: 'raw Keyv (default)',
  'raw-noser': 'raw Keyv, `serialization: false`',
  healthspan: 'healthspan',
};
/** One group per path and parent-span setting; its contenders are measured back to back. */
const GROUPS = [
  { tier: 'l1', span: false, contenders: ['raw', 'raw-noser', 'healthspan'] },
  { tier: 'l1', span: true, contenders: ['raw', 'raw-noser', 'healthspan'] },
  { tier: 'l2', span: false, contenders: ['raw', 'healthspan'] },
  { tier: 'l2', span: true, contenders: ['raw', 'healthspan'] },
];
const caseId = (tier, contender, span) => `${tier}-${contender}${span ? '-span' : ''}`;
const CASES = GROUPS.flatMap((g) => g.contenders.map((contender) => ({ id: caseId(g.tier, contender, g.span), tier: g.tier, contender, span: g.span })));

// ---- child ------------------------------------------------------------------------------

/** A span exporter that drops spans at once (counting them), as cheap as an exporter gets. */
class DroppingSpanExporter {
  exported = 0;
  /** When set, the spans of the next exports are kept for the set-up checks. */
  captured = undefined;
  export(spans, done) {
    this.exported += spans.length;
    if (this.captured) this.captured.push(...spans);
    done({ code: 0 });
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

class DroppingMetricExporter {
  export(_metrics, done) {
    done({ code: 0 });
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

/** The SDK the way an app sets it up: global context manager, tracer and meter providers. */
function setUpSdk(load) {
  const api = load('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = load('@opentelemetry/context-async-hooks');
  const { TracerProvider, BatchSpanProcessor } = load('@opentelemetry/sdk-trace');
  const { MeterProvider, PeriodicExportingMetricReader } = load('@opentelemetry/sdk-metrics');
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spanExporter = new DroppingSpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter })] });
  if (!api.trace.setGlobalTracerProvider(tracerProvider)) throw new Error('could not register the global TracerProvider');
  // The default export interval (60 s): collection does not run while we measure.
  const reader = new PeriodicExportingMetricReader({ exporter: new DroppingMetricExporter() });
  const meterProvider = new MeterProvider({ readers: [reader] });
  if (!api.metrics.setGlobalMeterProvider(meterProvider)) throw new Error('could not register the global MeterProvider');
  return { api, spanExporter, tracerProvider, meterProvider, reader, tracer: api.trace.getTracer('bench-app') };
}

/** The sum of a counter's data points whose attributes match `where`. */
async function counterSum(reader, name, where) {
  const { resourceMetrics } = await reader.collect();
  let sum = 0;
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const dp of m.dataPoints) {
        if (Object.entries(where).every(([k, v]) => dp.attributes[k] === v)) sum += dp.value;
      }
    }
  }
  return sum;
}

/** ns per awaited call over at least `ms` of sequential calls; every call must find the value. */
async function timeGets(get, ms, batch) {
  const limit = BigInt(Math.round(ms * 1e6));
  let calls = 0;
  let found = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < batch; i++) {
      const v = await get();
      if (v !== undefined) found++;
    }
    calls += batch;
    elapsed = process.hrtime.bigint() - t0;
  }
  if (found !== calls) throw new Error(`${calls - found} of ${calls} gets missed: the key was not where the case needs it`);
  return { ns: Number(elapsed) / calls, calls };
}

async function child({ root, rounds, redisUrl }) {
  const load = createRequire(path.join(root, 'package.json'));
  const sdk = setUpSdk(load);
  const pkg = load(path.join(root, 'dist/index.cjs'));
  if (typeof pkg.createCache !== 'function') throw new Error('dist/index.cjs does not export createCache: run `npx tsup` first');
  const { Keyv } = load('keyv');
  const { createKeyv } = load('@keyv/redis');

  const ns = `healthspan-bench-${process.pid}-${Date.now().toString(36)}`;
  const contenders = {
    'l1-raw': new Keyv(), // Keyv 6 default: KeyvMemoryAdapter(new Map()), JSON serialization
    'l1-raw-noser': new Keyv({ serialization: false }),
    'l1-healthspan': pkg.createCache({ name: CACHE_NAME, namespace: `${ns}-l1`, ttl: 0 }),
    'l2-raw': createKeyv(redisUrl, { namespace: `${ns}-raw` }),
    'l2-healthspan': pkg.createCache({ name: CACHE_NAME, namespace: `${ns}-hs`, ttl: 0, l1: false, l2: { url: redisUrl } }),
  };
  const l2Errors = [];
  contenders['l2-healthspan'].on('error', (err) => l2Errors.push(err));
  contenders['l2-raw'].on('error', (err) => l2Errors.push(err));

  try {
    for (const c of Object.values(contenders)) await c.set(KEY, VALUE);
    // Set-up checks: the values round-trip, healthspan's spans reach the exporter as children
    // of the active span, and its metrics are recorded.
    for (const [id, c] of Object.entries(contenders)) {
      const v = await c.get(KEY);
      if (JSON.stringify(v) !== JSON.stringify(VALUE)) throw new Error(`${id}: get returned ${JSON.stringify(v)}`);
    }
    await sdk.tracerProvider.forceFlush();
    sdk.spanExporter.captured = [];
    let parentId;
    await sdk.tracer.startActiveSpan('request', async (span) => {
      parentId = span.spanContext().spanId;
      await contenders['l1-healthspan'].get(KEY);
      await contenders['l2-healthspan'].get(KEY);
      span.end();
    });
    await sdk.tracerProvider.forceFlush();
    const captured = sdk.spanExporter.captured;
    sdk.spanExporter.captured = undefined;
    const gets = captured.filter((s) => s.name === `cache.get ${CACHE_NAME}`);
    const tiers = gets
      .map((s) => s.attributes['cache.tier'])
      .sort()
      .join(',');
    if (gets.length !== 2 || tiers !== 'l1,l2' || gets.some((s) => s.parentSpanContext?.spanId !== parentId)) {
      throw new Error(`unexpected cache spans: ${JSON.stringify(captured.map((s) => [s.name, s.attributes, s.parentSpanContext?.spanId]))}`);
    }
    const metricsBefore = await counterSum(sdk.reader, 'healthspan.cache.requests', { 'cache.operation': 'get' });
    const exportedBefore = sdk.spanExporter.exported;

    const samples = Object.fromEntries(CASES.map((c) => [c.id, []]));
    const calls = Object.fromEntries(CASES.map((c) => [c.id, 0]));
    let parentSpans = 0;
    // Round 0 warms up the JIT and is discarded. Cases interleave so drift hits them alike,
    // and the contenders of a group take turns going first.
    for (let round = 0; round <= rounds; round++) {
      for (const g of GROUPS) {
        const n = g.contenders.length;
        const order = g.contenders.map((_, i) => g.contenders[(i + round) % n]);
        for (const contender of order) {
          const id = caseId(g.tier, contender, g.span);
          const store = contenders[`${g.tier}-${contender}`];
          const get = () => store.get(KEY);
          const ms = g.tier === 'l1' ? L1_MS : L2_MS;
          const batch = g.tier === 'l1' ? BATCH_L1 : BATCH_L2;
          const r = g.span
            ? await sdk.tracer.startActiveSpan('request', async (span) => {
                parentSpans++;
                try {
                  return await timeGets(get, ms, batch);
                } finally {
                  span.end();
                }
              })
            : await timeGets(get, ms, batch);
          if (round > 0) samples[id].push(r.ns);
          if (contender === 'healthspan') calls[id] += r.calls;
        }
      }
    }

    // Every healthspan get made a span that reached the exporter and counted in the metrics.
    await sdk.tracerProvider.forceFlush();
    const hsCalls = CASES.filter((c) => c.contender === 'healthspan').reduce((n, c) => n + calls[c.id], 0);
    const spansExported = sdk.spanExporter.exported - exportedBefore - parentSpans;
    const metricGets = (await counterSum(sdk.reader, 'healthspan.cache.requests', { 'cache.operation': 'get' })) - metricsBefore;
    const l1Stats = contenders['l1-healthspan'].stats();
    const l2Stats = contenders['l2-healthspan'].stats();

    return {
      source: 'dist',
      rounds,
      l1Ms: L1_MS,
      l2Ms: L2_MS,
      redisUrl,
      valueBytes: JSON.stringify(VALUE).length,
      cases: CASES.map((c) => ({ ...c, ns: samples[c.id] })),
      checks: {
        healthspanGets: hsCalls,
        spansExported,
        metricGets,
        l1Hits: l1Stats.l1.hits,
        l2Hits: l2Stats.l2.hits,
        l2Errors: l2Errors.length + l2Stats.l2.errors,
        l2Timeouts: l2Stats.l2.timeouts,
      },
    };
  } finally {
    // Our namespaces only: nothing else in the shared Redis is touched.
    await contenders['l2-healthspan'].clear().catch(() => undefined);
    await contenders['l2-raw'].delete(KEY).catch(() => undefined);
    for (const c of Object.values(contenders)) await c.disconnect?.().catch(() => undefined);
    await sdk.tracerProvider.shutdown().catch(() => undefined);
    await sdk.meterProvider.shutdown().catch(() => undefined);
  }
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).then(
    // Exit once written: a timer or a socket left behind must not keep the child alive.
    (result) => process.stdout.write(JSON.stringify(result), () => process.exit(0)),
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}

// ---- orchestrator -----------------------------------------------------------------------

function runChild(opts, ctx) {
  return runPinnedChild(SELF, { root: ctx.root, rounds: opts.rounds, redisUrl: REDIS_URL }, ctx, 'cache');
}

function caseOf(data, tier, contender, span) {
  return data.cases.find((c) => c.tier === tier && c.contender === contender && c.span === span);
}

/** Median ns of both contenders, their ratio, and the range of the per-round ratios. */
export function compare(data, tier, span, baseline = 'raw') {
  const raw = caseOf(data, tier, baseline, span);
  const hs = caseOf(data, tier, 'healthspan', span);
  const rawNs = median(raw.ns);
  const hsNs = median(hs.ns);
  const perRound = hs.ns.map((v, i) => v / raw.ns[i]);
  return { rawNs, hsNs, ratio: hsNs / rawNs, ratioRange: range(perRound), rawRange: range(raw.ns), hsRange: range(hs.ns) };
}

function renderCache(parts) {
  const p = parts.cache;
  if (!p) return '_Not run yet._';
  const { data, file, result } = p;
  const pinned = result.settings?.pinning?.pinned;
  const l1Span = compare(data, 'l1', true);
  const verdict = l1Span.ratio < TARGET_RATIO ? 'PASS' : 'SHORT';
  const noser = caseOf(data, 'l1', 'raw-noser', true) && compare(data, 'l1', true, 'raw-noser');
  const rows = [
    '| path | parent span | baseline | baseline per get (min–max) | healthspan per get (min–max) | healthspan / baseline (per-round min–max) |',
    '|---|---|---|--:|--:|--:|',
  ];
  for (const g of GROUPS) {
    const unit = g.tier === 'l1' ? (v) => `${fmt(v)} ns` : (v) => `${fmt(v / 1000, 1)} µs`;
    const cell = (v, [lo, hi]) => `${unit(v)} (${unit(lo)}–${unit(hi)})`;
    for (const baseline of g.contenders.filter((c) => c !== 'healthspan')) {
      if (!caseOf(data, g.tier, baseline, g.span)) continue;
      const c = compare(data, g.tier, g.span, baseline);
      const ratio = `${fmt(c.ratio, 2)}×`;
      rows.push(
        `| ${g.tier === 'l1' ? 'L1 hit' : 'L2 hit (Redis, no L1)'} | ${g.span ? 'active' : 'none'} | ${CONTENDERS[baseline]} | ` +
          `${cell(c.rawNs, c.rawRange)} | ${cell(c.hsNs, c.hsRange)} | ` +
          `${baseline === 'raw' ? `**${ratio}**` : ratio} (${fmt(c.ratioRange[0], 2)}–${fmt(c.ratioRange[1], 2)}) |`,
      );
    }
  }
  const k = data.checks;
  const v = data.versions ?? {};
  return [
    '`cache.get(key)` of `createCache()` next to `keyv.get(key)` of raw Keyv 6, per awaited call. ' +
      'healthspan makes an INTERNAL span and records two metric points (the request counter and the ' +
      'duration histogram) on every call; raw Keyv makes no telemetry. L1: healthspan with its default ' +
      'in-memory LRU only, next to raw Keyv with its default in-memory store (`new Keyv()`: `KeyvMemoryAdapter` over ' +
      'a `Map` with the built-in `KeyvJsonSerializer`, so every raw hit runs `JSON.parse` with a reviver on the ' +
      'stored string) and, for reference, raw Keyv with `serialization: false`, which like healthspan’s L1 returns ' +
      'the stored object. L2: healthspan with `l1: false` and `l2: { url }`, next to raw Keyv through `@keyv/redis` ' +
      '(`createKeyv(url, { namespace })`), the key present in the same local Redis; both decode with Keyv’s JSON ' +
      'serializer.',
    '',
    `Method: one child process ${pinned ? 'pinned to CPU 0 (`taskset -c`)' : '**unpinned**'} sets the SDK up as an ` +
      'app does (`AsyncLocalStorageContextManager` as the global context manager, a global `TracerProvider` with a ' +
      '`BatchSpanProcessor` to an exporter that drops the spans, a global `MeterProvider` with a ' +
      '`PeriodicExportingMetricReader`), imports `createCache` from the built package (`dist/index.cjs`), runs a ' +
      `discarded warm-up round, then ${data.rounds} round(s) in which each case awaits \`get\` of one warm key in a ` +
      `sequential loop for ${data.l1Ms} ms (L1) or ${data.l2Ms} ms (L2); the cases of one path run back to back, ` +
      'taking turns going first. "Active" runs the loop inside `tracer.startActiveSpan(\'request\', …)`, so every ' +
      'cache span is its child; "none" makes every cache span a root span. Each figure is the median over rounds; ' +
      `the ratio is of the medians. The value is a ${fmt(data.valueBytes)}-byte JSON object. No Redis ` +
      'instrumentation is loaded, so neither side makes Redis command spans.',
    '',
    `${result.machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · ${data.rounds} round(s) · ` +
      `${data.build ? `build ${data.build} · ` : ''}keyv ${v.keyv ?? '?'} · @keyv/redis ${v.keyvRedis ?? '?'} · ` +
      `redis (node-redis) ${v.redis ?? '?'} · @opentelemetry/sdk-trace ${v.sdkTrace ?? '?'} · raw results: ${file}`,
    '',
    ...rows,
    '',
    `**Target: an L1 hit with an active span under ${TARGET_RATIO}× raw Keyv (default) — ${verdict}** ` +
      `(${fmt(l1Span.ratio, 2)}×: ${fmt(l1Span.hsNs)} ns vs ${fmt(l1Span.rawNs)} ns).` +
      (noser ? ` Against raw Keyv without its serializer (${fmt(noser.rawNs)} ns) the same hit is ${fmt(noser.ratio, 1)}×.` : ''),
    '',
    `Checks (warm-up round included): healthspan made ${fmt(k.healthspanGets)} gets, ${fmt(k.spansExported)} cache spans ` +
      `reached the exporter and the request counter grew by ${fmt(k.metricGets)}; L2 errors ${fmt(k.l2Errors)}, ` +
      `timeouts ${fmt(k.l2Timeouts)}.`,
  ].join('\n');
}

export const cacheSuite = {
  id: 'cache',
  title: 'Traced cache: `createCache()` next to raw Keyv',
  parts: ['cache'],

  estimateSeconds(opts) {
    const perRound = CASES.reduce((s, c) => s + (c.tier === 'l1' ? L1_MS : L2_MS), 0) / 1000;
    return FIXED_S + (opts.rounds + 1) * perRound;
  },

  async run(opts, ctx) {
    ctx.log(`cache: L1 and L2 get, healthspan vs raw Keyv, with and without a parent span; ${opts.rounds} round(s) + warm-up`);
    const data = await runChild(opts, ctx);
    data.build = distFingerprint(ctx.root);
    const nm = (p) => path.join(ctx.root, 'node_modules', p, 'package.json');
    data.versions = {
      keyv: readVersion(nm('keyv')),
      keyvRedis: readVersion(nm('@keyv/redis')),
      redis: readVersion(nm('redis')),
      sdkTrace: readVersion(nm('@opentelemetry/sdk-trace')),
      sdkMetrics: readVersion(nm('@opentelemetry/sdk-metrics')),
    };
    for (const g of GROUPS) {
      const unit = g.tier === 'l1' ? (v) => `${fmt(v)} ns` : (v) => `${fmt(v / 1000, 1)} µs`;
      for (const baseline of g.contenders.filter((c) => c !== 'healthspan')) {
        const c = compare(data, g.tier, g.span, baseline);
        ctx.log(
          `cache: ${g.tier} ${g.span ? 'active span' : 'no span    '} ${baseline.padEnd(9)} ${unit(c.rawNs).padStart(9)}  ` +
            `healthspan ${unit(c.hsNs).padStart(9)}  ratio ${fmt(c.ratio, 2)}×`,
        );
      }
    }
    const l1Span = compare(data, 'l1', true);
    ctx.log(
      `cache: target L1 hit with an active span < ${TARGET_RATIO}× raw Keyv: ${l1Span.ratio < TARGET_RATIO ? 'PASS' : 'SHORT'} (${fmt(l1Span.ratio, 2)}×)`,
    );
    const k = data.checks;
    if (k.spansExported < k.healthspanGets) ctx.log(`cache: WARNING only ${k.spansExported} of ${k.healthspanGets} spans reached the exporter`);
    if (k.metricGets < k.healthspanGets) ctx.log(`cache: WARNING the request counter counted ${k.metricGets} of ${k.healthspanGets} gets`);
    return { parts: { cache: data } };
  },

  render: renderCache,
};
