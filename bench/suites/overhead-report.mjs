// Turns the overhead suite's raw runs into medians, ratios, target verdicts and Markdown.
// Pure functions: the report can be regenerated from the JSON at any time.
import { contenderRuns, fmt, median, range, validRunsByRound } from '../lib/stats.mjs';

const CONTENDERS = ['bare', 'healthspan', 'healthspan-cached', 'healthspan-before', 'upstream', 'upstream-all-detectors'];
const COMPARED = CONTENDERS.filter((c) => c !== 'bare');

/** `endpoints`: where a target applies (all when absent); `absoluteMax`: a bound on our own figure, not a fraction of upstream's. */
export const TARGETS = [
  { id: 'cpu-hello', label: 'added CPU/request ≤ 0.4× upstream’s', metric: 'addedCpuUs', maxFraction: 0.4, endpoints: ['hello'] },
  { id: 'cpu-pg', label: 'added CPU/request ≤ 0.5× upstream’s', metric: 'addedCpuUs', maxFraction: 0.5, endpoints: ['pg', 'pg50'] },
  { id: 'p99', label: 'p99 ≤ upstream’s', metric: 'p99Ms', maxFraction: 1, endpoints: ['pg50'] },
  { id: 'startup', label: 'added time to first 2xx ≤ 80 ms', metric: 'addedStartupMs', absoluteMax: 80, endpoints: ['hello'] },
  { id: 'modules', label: 'modules loaded at the first request < 150', metric: 'modules', absoluteMax: 149, endpoints: ['hello'] },
  { id: 'rss', label: 'added RSS ≤ 0.5× upstream’s', metric: 'addedRssMb', maxFraction: 0.5 },
];

/** Medians per contender over its valid runs, and the overheads against bare. */
export function summarizeOverhead(runs, endpoint) {
  const contenders = {};
  for (const name of CONTENDERS) {
    const { ok, pick, counts } = contenderRuns(runs, name);
    contenders[name] = {
      ...counts,
      reqPerSec: median(pick('reqPerSec')),
      p99Ms: median(pick('p99Ms')),
      cpuUsPerReq: median(pick('cpuUsPerReq')),
      cpuUsPerReqRange: range(pick('cpuUsPerReq')),
      serverCpuBusy: median(pick('serverCpuBusy')),
      startupMs: median(pick('startupMs')),
      rssMb: median(pick('rssMb')),
      modules: median(pick('modules')),
      spansPerReq: median(pick('spansPerReq')),
      builds: [...new Set(ok.map((r) => r.build).filter(Boolean))],
    };
  }
  const bare = contenders.bare;
  for (const name of COMPARED) {
    const c = contenders[name];
    c.reqPerSecRatio = c.reqPerSec / bare.reqPerSec;
    c.addedCpuUs = c.cpuUsPerReq - bare.cpuUsPerReq;
    c.addedStartupMs = c.startupMs - bare.startupMs;
    c.addedRssMb = c.rssMb - bare.rssMb;
  }
  const targets = {};
  for (const t of TARGETS) {
    if (t.endpoints && endpoint && !t.endpoints.includes(endpoint)) continue;
    targets[t.id] = verdict(t, contenders.healthspan[t.metric], contenders.upstream[t.metric]);
    if (t.maxFraction !== undefined && targets[t.id].fraction !== undefined) targets[t.id].byRound = byRound(runs, t);
  }
  return { contenders, targets };
}

/** A target's figure of one run, given the bare run of the same round. */
const PER_RUN = {
  addedCpuUs: (run, bare) => run.cpuUsPerReq - bare.cpuUsPerReq,
  addedRssMb: (run, bare) => run.rssMb - bare.rssMb,
  p99Ms: (run) => run.p99Ms,
};

/**
 * The target's fraction within each round where bare, healthspan and upstream all have a valid
 * run (a round's contenders run back to back, so drift of the machine between rounds cancels):
 * how many rounds are within the target, and the range. The verdict stays the one of the medians;
 * this says how close to its line it sits.
 */
export function byRound(runs, target) {
  const figure = PER_RUN[target.metric];
  if (!figure) return undefined;
  const fractions = [];
  for (const round of validRunsByRound(runs).values()) {
    if (!round.bare || !round.healthspan || !round.upstream) continue;
    const theirs = figure(round.upstream, round.bare);
    if (!(theirs > 0)) continue;
    fractions.push(figure(round.healthspan, round.bare) / theirs);
  }
  if (fractions.length === 0) return undefined;
  return { rounds: fractions.length, within: fractions.filter((f) => f <= target.maxFraction).length, range: range(fractions) };
}

function verdict(target, ours, theirs) {
  if (target.absoluteMax !== undefined) {
    if (!Number.isFinite(ours)) return { status: 'INVALID', text: 'no valid runs' };
    return { status: ours <= target.absoluteMax ? 'PASS' : 'SHORT', text: `${fmt(ours, 0)} (upstream ${fmt(theirs, 0)})` };
  }
  if (!Number.isFinite(ours) || !Number.isFinite(theirs)) return { status: 'INVALID', text: 'no valid runs to compare' };
  if (target.strictlyLess) {
    return {
      status: ours < theirs ? 'PASS' : 'SHORT',
      text: `${fmt(ours, 1)} vs ${fmt(theirs, 1)}`,
    };
  }
  if (theirs <= 0) {
    // Upstream's overhead is lost in the noise: no meaningful fraction exists.
    return { status: ours <= theirs ? 'PASS' : 'UNDECIDED', text: `upstream overhead ${fmt(theirs, 1)} ≤ 0` };
  }
  const fraction = ours / theirs;
  return {
    status: fraction <= target.maxFraction ? 'PASS' : 'SHORT',
    fraction,
    // Three decimals when two would round onto the limit and hide why it is SHORT.
    text: `${fmt(fraction, Math.abs(fraction - target.maxFraction) < 0.005 ? 3 : 2)}× (${fmt(ours, 1)} vs ${fmt(theirs, 1)})`,
  };
}

// autocannon records whole milliseconds.
const ms = (v) => (v === 0 ? '<1' : fmt(v, Number.isInteger(v) ? 0 : 1));
const signed = (v, d) => (Number.isFinite(v) ? (v > 0 ? '+' : '') + fmt(v, d) : '–');

function contenderTable(summary) {
  const rows = [
    '| contender | req/s | vs bare | p99 ms | server CPU µs/req (min–max) | added CPU µs/req | server busy | first 2xx ms | added ms | modules | RSS MB | added RSS MB | spans/req | valid runs |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const name of CONTENDERS) {
    const c = summary.contenders[name];
    if (c.runs === 0) continue;
    if (c.valid === 0) {
      rows.push(`| ${name} | INVALID | | | | | | | | | | | | 0/${c.runs} |`);
      continue;
    }
    const isBare = name === 'bare';
    const spread = c.cpuUsPerReqRange ? ` (${fmt(c.cpuUsPerReqRange[0], 1)}–${fmt(c.cpuUsPerReqRange[1], 1)})` : '';
    rows.push(
      `| ${name} | ${fmt(c.reqPerSec)} | ${isBare ? '1.00' : fmt(c.reqPerSecRatio, 2)} | ${ms(c.p99Ms)} | ` +
        `${fmt(c.cpuUsPerReq, 1)}${spread} | ${isBare ? '' : signed(c.addedCpuUs, 1)} | ${fmt(c.serverCpuBusy * 100)}% | ` +
        `${fmt(c.startupMs)} | ${isBare ? '' : signed(c.addedStartupMs, 0)} | ${fmt(c.modules)} | ${fmt(c.rssMb, 1)} | ` +
        `${isBare ? '' : signed(c.addedRssMb, 1)} | ${isBare ? '' : fmt(c.spansPerReq, 2)} | ${c.valid}/${c.runs} |`,
    );
  }
  const ours = summary.contenders.healthspan.spansPerReq;
  const theirs = summary.contenders.upstream.spansPerReq;
  if (Number.isFinite(ours) && Number.isFinite(theirs) && Math.abs(ours - theirs) >= 0.5) {
    rows.push(
      '',
      `Note: healthspan exported ${fmt(ours, 2)} spans/request and upstream ${fmt(theirs, 2)}; the CPU figures compare different amounts of telemetry.`,
    );
  }
  const builds = summary.contenders.healthspan.builds;
  if (builds.length > 1) {
    rows.push(
      '',
      `Warning: dist/ changed while this was measured (${builds.length} healthspan builds: ${builds.join(', ')}); ` +
        'the healthspan figures mix SDK versions. Rerun on a settled build.',
    );
  }
  const invalid = CONTENDERS.flatMap((n) => summary.contenders[n].invalidReasons.map((r) => `- ${n}: ${r}`));
  if (invalid.length) rows.push('', 'Invalid runs (left out of the medians):', '', ...invalid);
  return rows.join('\n');
}

function pinningText(pinning) {
  return pinning?.pinned
    ? 'the server runs pinned to CPU 0 and the load generator, the OTLP sink and the orchestrator to CPU 1 (`taskset -c`)'
    : `**processes ran unpinned** (${pinning?.reason ?? 'no pinning'}), so server and load generator competed for the same CPUs`;
}

const ENDPOINT_TITLES = {
  hello: '`hello`: GET / → "hello"',
  pg: '`pg`: GET / → `SELECT $1::int + 1` through a pg.Pool of 10 connections',
  pg50: '`pg50`: the `pg` app at 50 connections on its pool of 10 (requests wait for a pool client)',
};

const mb = (bytes) => fmt(bytes / 2 ** 20, 1);

/** What `npm install` of each brings into a fresh app folder (scripts/dev/user-app.mjs). */
function installTable(install) {
  if (!install) return [];
  const rows = [
    '',
    '### Install',
    '',
    'Each installed alone into a fresh app folder (`npm install <it>`, no overrides): size of `node_modules`, packages in it, ' +
      'copies of `@opentelemetry/*` packages, whether `npm ls --all` exits 0, and the warnings npm printed.',
    '',
    '| package | node_modules MB | packages | @opentelemetry/* packages (copies) | npm ls --all | npm warnings |',
    '|---|--:|--:|--:|---|--:|',
  ];
  const label = {
    healthspan: 'healthspan (this build)',
    baseline: 'healthspan-before (BENCH_BASELINE)',
    upstream: '@opentelemetry/auto-instrumentations-node',
  };
  for (const [key, i] of Object.entries(install)) {
    const names = Object.keys(i.otelCopies);
    const copies = Object.values(i.otelCopies).reduce((n, v) => n + v.length, 0);
    rows.push(
      `| ${label[key] ?? key} | ${mb(i.bytes)} | ${i.packages} | ${names.length} (${copies}) | ${i.npmLsOk ? 'exit 0' : '**fails**'} | ${i.warnings} |`,
    );
  }
  return rows;
}

/**
 * @param {Record<string, { data: { runs: object[] }, file: string, result: object }>} parts
 *   the newest stored result of every endpoint
 */
export function renderOverhead(parts) {
  const names = Object.keys(ENDPOINT_TITLES).filter((n) => parts[n]);
  const any = parts[names[0]]?.result;
  const out = [
    'Measured as users get it: `npm run bench` packs this repository, installs the tarball with `npm install` into a ' +
      'fresh app folder next to `@opentelemetry/auto-instrumentations-node` and `pg` (no overrides, none of this ' +
      'repository’s node_modules), copies `bench/apps/` there and runs every server from that folder. ' +
      'Each endpoint is a tiny CommonJS `node:http` app started as: `bare` (`node app.cjs`), ' +
      '`healthspan` (`node --import healthspan/register app.cjs`, all its defaults, with an empty `TMPDIR` every run, so ' +
      'without the code cache of its bundle, as the first start in a fresh container), on hello also `healthspan-cached` ' +
      '(its code cache kept across rounds, as restarts on one machine), `upstream` ' +
      '(`node --require @opentelemetry/auto-instrumentations-node/register app.cjs`, its documented recipe, with ' +
      '`OTEL_NODE_RESOURCE_DETECTORS=env,host,os,process,serviceinstance,container`: the detectors a careful user sets) and, ' +
      'on hello only, `upstream-all-detectors` (the same with upstream’s default detectors, which probe cloud metadata ' +
      'endpoints at start: an extra row, not the comparison). With `BENCH_BASELINE=<tarball>`, `healthspan-before` runs ' +
      'an earlier healthspan tarball installed the same way, side by side. ' +
      'All instrumented ' +
      'contenders sample every request and export every span over OTLP http/protobuf to a sink running in its ' +
      'own process; after each run the sink must have received at least 0.9 spans per request served, ' +
      'or the run is INVALID and left out.',
    '',
    `Method: rounds are interleaved (every round starts a fresh server for each contender, in an order ` +
      `that rotates each round, so drift on this noisy machine hits all contenders alike); ${pinningText(any?.settings?.pinning)}. ` +
      'autocannon drives fixed connections through a discarded warm-up and then a measured window. ' +
      'Every figure is the median over rounds. **Server CPU per request** (utime+stime from `/proc/<pid>/stat` ' +
      'over the measured window, divided by the requests completed in it) is the fairest figure on two cores: ' +
      'req/s depends on whether the server or the load generator saturates its core first, while CPU per request ' +
      'is what instrumentation costs whatever the load. "Server busy" is server CPU time over wall time: well ' +
      'below 100% the server was not the bottleneck (the load generator or PostgreSQL was), so its req/s ratio ' +
      'understates the cost. PostgreSQL is a system service and runs unpinned on both cores. ' +
      'First 2xx is spawn → first successful HTTP answer (polled every 5 ms); modules is `Object.keys(require.cache).length` ' +
      'at the first request; RSS is VmRSS right after the measured window.',
  ];
  for (const name of names) {
    const { data, file, result } = parts[name];
    const s = result.settings;
    const summary = summarizeOverhead(data.runs, name);
    out.push(
      '',
      `### ${ENDPOINT_TITLES[name]}`,
      '',
      `${result.machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · ` +
        `${s.rounds} round(s) × ${s.durationS} s measured (${s.warmupS} s warm-up) at ${data.runs[0]?.connections ?? s.connections} connections · ` +
        `healthspan ${data.versions?.healthspan ?? '?'}, upstream auto-instrumentations-node ${data.versions?.upstream ?? '?'} · ` +
        `raw results: ${file}`,
      '',
      contenderTable(summary),
    );
  }
  out.push(...installTable(parts[names[0]]?.data.install));
  out.push(
    '',
    '**What the added RSS is.** Most of it is V8’s young generation: under load V8 grows it, up to its default maximum, ' +
      'when many objects survive its collections, and keeps it at that size. healthspan keeps a request’s objects from ' +
      'surviving: its contexts have no per-context closures (the API’s have three, which V8’s young-generation collector keeps ' +
      'alive, with the span they reach, long after the request), and with OTLP `http/protobuf` the export queue holds each ' +
      'span’s encoded bytes outside the heap instead of the span (docs/architecture.md). The rest is the compiled SDK and its ' +
      'heap at start. A user can cap the young generation with `node --max-semi-space-size=<MB>` (or `NODE_OPTIONS`), at ' +
      'some CPU per request; sampling (`OTEL_TRACES_SAMPLER`) does not reduce it, since unsampled spans are still recorded ' +
      'for the metrics and insight.',
    '',
    '**What the start-up is, and what "modules" counts.** healthspan is one bundled file (`dist/index.cjs`) plus the ' +
      'installed `import-in-the-middle` entry and the files of `dist/vendor/` that the configuration uses (none here, with ' +
      'metrics and logs off; the OTLP transport loads at the first export, a contrib instrumentation when the app loads ' +
      'its library), so `require.cache` holds a handful of files; the Node built-ins it needs are ' +
      'not in that count (test/package/install.test.ts checks that `crypto`, `zlib`, `v8`, `fs/promises` and `readline` are ' +
      'not loaded before the first request). The added time to first 2xx is compiling and running that bundle (with its ' +
      'code cache: deserialising it) and `start()`; on this machine, where `node -e 0` alone takes 60–80 ms, the uncached ' +
      'start is the larger part over the cached one. Start-up is measured here in milliseconds once per round, so single ' +
      'rounds move with the machine; instruction counts do not: `npm run bench:startup` (valgrind, the same tarball in an app folder, `BENCH_BASELINE` too) prints them.',
  );
  out.push('', '### Targets', '', `| target | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
  for (const t of TARGETS) {
    const cells = names.map((n) => {
      const v = summarizeOverhead(parts[n].data.runs, n).targets[t.id];
      if (!v) return '';
      const r = v.byRound;
      return `**${v.status}** ${v.text}${r ? `; by round ${r.within}/${r.rounds} within (${fmt(r.range[0], 2)}–${fmt(r.range[1], 2)}×)` : ''}`;
    });
    out.push(`| ${t.label} | ${cells.join(' | ')} |`);
  }
  out.push(
    '',
    'A verdict compares the medians over all rounds. "By round" is the same fraction taken within each round whose bare, ' +
      'healthspan and upstream runs are all valid (the contenders of a round run back to back, so a drift of the machine ' +
      'between rounds cancels): how many of those rounds are within the target, and their range. It says how close to its ' +
      'line a verdict sits; on this noisy machine a figure near its line can be PASS in one run and SHORT in the next.',
  );
  return out.join('\n');
}
