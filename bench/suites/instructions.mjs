// The instructions suite: added CPU per request as a count of instructions, a figure that does
// not move with a noisy or shared machine (the overhead suite's µs per request moved by a third
// between machines of the same kind). Each server of the overhead suite's endpoints runs under
// `valgrind --tool=callgrind` with collection off; after a warm-up of WARMUP requests (V8 has
// optimised the hot paths by then), collection is switched on for MEASURED requests and the
// count dumped. Instructions are not time: a cache miss counts as one. The overhead suite's
// CPU time stays the figure the targets are judged on; this one says whether a difference
// between two runs of it is the code or the machine. `healthspan-insight-off` (HEALTHSPAN_INSIGHT=false)
// counts what insight adds, against the insight suite's target.
//
// Runs only when asked (BENCH_ONLY=instructions, or one of its parts): valgrind runs the
// server about 50 times slower, and the suite takes about a minute per server.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startHelper } from '../lib/helper-process.mjs';
import { logStderrOnce, startServer } from '../lib/server.mjs';
import { fmt, median, range } from '../lib/stats.mjs';
import { readVersion } from '../lib/build.mjs';
import { TARGET_FRACTION } from './insight.mjs';
import { ENDPOINTS, UPSTREAM_DETECTORS, checkPostgres, contenderCwd, serverEnv, settledCount } from './overhead.mjs';

/** Requests before counting starts, and requests counted. */
export const WARMUP_REQUESTS = 30_000;
export const MEASURED_REQUESTS = 20_000;
/** A part of this suite is an endpoint of the overhead suite, suffixed. */
const SUFFIX = '-instructions';
const PARTS = Object.keys(ENDPOINTS).map((e) => `${e}${SUFFIX}`);
/** Valgrind's start of a server with upstream's 1,260 modules takes tens of seconds. */
const START_TIMEOUT_MS = 300_000;
/** Per server: start under valgrind, warm-up, measured requests, dump, for the time estimate. */
const PER_RUN_S = 75;
/** Rounds when BENCH_ROUNDS is not set: counts repeat closely, and a round is slow. */
const DEFAULT_ROUNDS = 2;
const roundsOf = (opts) => (process.env.BENCH_ROUNDS ? opts.rounds : DEFAULT_ROUNDS);

/** healthspan with `HEALTHSPAN_INSIGHT=false`: what insight adds, counted (the insight suite's CPU time cannot resolve 5 %). */
const INSIGHT_OFF = 'healthspan-insight-off';

function contenders(ctx) {
  return ['bare', 'healthspan', INSIGHT_OFF, ...(ctx.app?.baselineDir ? ['healthspan-before'] : []), 'upstream'];
}

// Valgrind and callgrind_control meet through FIFOs named by this prefix; its default lives in
// TMPDIR, which healthspan's servers get fresh per run (so callgrind_control would not find them).
const vgdbPrefix = (dumpDir) => path.join(dumpDir, 'vgdb-pipe');

function argvFor(contender, app, dumpDir) {
  const node =
    contender === 'bare'
      ? [process.execPath, app]
      : contender === 'upstream'
        ? [process.execPath, '--require', '@opentelemetry/auto-instrumentations-node/register', app]
        : [process.execPath, '--import', 'healthspan/register', app];
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    '--smc-check=all-non-file',
    `--vgdb-prefix=${vgdbPrefix(dumpDir)}`,
    `--callgrind-out-file=${path.join(dumpDir, 'cg')}.%p`,
    ...node,
  ];
}

/** Runs `callgrind_control` on a server; throws with its output when it fails (it exits 0 when it finds no such run). */
function control(args, pid, dumpDir) {
  const r = spawnSync('callgrind_control', [`--vgdb-prefix=${vgdbPrefix(dumpDir)}`, ...args, String(pid)], { encoding: 'utf8' });
  const said = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0 || /^Error/m.test(said)) throw new Error(`callgrind_control ${args.join(' ')} ${pid}: exit ${r.status} ${said.slice(-300)}`);
}

/** The instruction total of the newest dump callgrind wrote for `pid`. */
function dumpedTotal(dir, pid) {
  const dumps = readdirSync(dir)
    .filter((f) => f.startsWith(`cg.${pid}.`))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  if (dumps.length === 0) throw new Error(`no callgrind dump for pid ${pid} in ${dir}`);
  const text = readFileSync(path.join(dir, dumps.at(-1)), 'utf8');
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(text);
  if (!m) throw new Error(`no instruction total in ${dumps.at(-1)}`);
  return Number(m[1]);
}

async function measureOnce({ endpoint, contender, round, opts, ctx, sink, loadgen, dumpDir }) {
  const spec = ENDPOINTS[endpoint];
  const part = `${endpoint}${SUFFIX}`;
  const run = { round, endpoint: part, contender, valid: false, warmupRequests: WARMUP_REQUESTS, measuredRequests: MEASURED_REQUESTS };
  const extra = contender === 'upstream' ? { OTEL_NODE_RESOURCE_DETECTORS: UPSTREAM_DETECTORS } : {};
  if (contender.startsWith('healthspan')) extra.TMPDIR = mkdtempSync(path.join(ctx.app.base, 'tmp-'));
  if (contender === INSIGHT_OFF) extra.HEALTHSPAN_INSIGHT = 'false';
  let server;
  try {
    server = await startServer({
      argv: argvFor(contender, spec.app, dumpDir),
      env: serverEnv(contender === 'bare' ? undefined : sink.ready.port, extra),
      cwd: contenderCwd(contender, ctx),
      cpu: ctx.pinning.server,
      pinning: ctx.pinning,
      name: `${part}/${contender}`,
      timeoutMs: START_TIMEOUT_MS,
    });
  } catch (err) {
    run.invalid = `server did not start: ${err.message}`;
    return run;
  }
  const load = { url: server.url, connections: spec.connections ?? opts.connections, expectBody: spec.expectBody };
  try {
    const warm = await loadgen.request({ type: 'run', ...load, amount: WARMUP_REQUESTS });
    if (warm.error) throw new Error(`load generator failed in warm-up: ${warm.error}`);
    control(['--instr=on'], server.pid, dumpDir);
    const measured = await loadgen.request({ type: 'run', ...load, amount: MEASURED_REQUESTS });
    if (measured.error) throw new Error(`load generator failed: ${measured.error}`);
    control(['--dump'], server.pid, dumpDir);
    const m = measured.result;
    const w = warm.result;
    const errors = m.errors + m.timeouts + m.non2xx + m.mismatches + w.errors + w.timeouts + w.non2xx + w.mismatches;
    const total = dumpedTotal(dumpDir, server.pid);
    Object.assign(run, { requests: m.requests, instructions: total, perRequest: total / m.requests, errors });
    if (errors > 0) run.invalid = `${errors} failed request(s)`;
    else if (m.requests !== MEASURED_REQUESTS) run.invalid = `${m.requests} of ${MEASURED_REQUESTS} requests answered`;
    else run.valid = true;
  } catch (err) {
    run.invalid = err.message;
  } finally {
    const { clean } = await server.stop(30_000);
    if (!clean) run.note = 'did not exit within 30 s of SIGTERM (killed)';
    const stderr = server
      .stderr()
      .split('\n')
      .filter((l) => !/^==\d+==/.test(l))
      .join('\n')
      .trim();
    if (stderr) run.stderr = stderr.slice(-1500);
  }
  return run;
}

function formatRun(r) {
  const head = `${r.endpoint}/${r.contender}`;
  if (!r.valid) return `${head}: INVALID (${r.invalid})`;
  return `${head}: ${fmt(r.perRequest / 1000, 1)} k instructions/request`;
}

export function summarizeInstructions(runs) {
  const names = [...new Set(runs.map((r) => r.contender))];
  const per = (name) => runs.filter((r) => r.contender === name && r.valid).map((r) => r.perRequest);
  const bare = median(per('bare'));
  const rows = names.map((name) => {
    const values = per(name);
    const value = median(values);
    return {
      name,
      value,
      range: range(values),
      added: name === 'bare' || bare === undefined ? undefined : value - bare,
      valid: values.length,
      runs: runs.filter((r) => r.contender === name).length,
    };
  });
  const upstream = rows.find((r) => r.name === 'upstream')?.added;
  for (const r of rows) r.ratio = r.added !== undefined && upstream ? r.added / upstream : undefined;
  return rows;
}

/** What insight adds, from a part's rows: instructions per request, and the fraction of the count with insight off. */
export function insightShare(rows) {
  const on = rows.find((r) => r.name === 'healthspan')?.value;
  const off = rows.find((r) => r.name === INSIGHT_OFF)?.value;
  if (!Number.isFinite(on) || !Number.isFinite(off) || off <= 0) return undefined;
  return { added: on - off, fraction: (on - off) / off };
}

function renderInstructions(parts) {
  const out = [];
  const first = Object.values(parts)[0];
  out.push(
    'Added CPU per request counted in instructions (`valgrind --tool=callgrind` on the server, the same packed tarball in the same app folder): ' +
      `each server answers ${fmt(WARMUP_REQUESTS)} requests uncounted, then ${fmt(MEASURED_REQUESTS)} counted (every thread of the process: V8's compiler and GC threads included). ` +
      'Counts of one build repeat within a few per cent (the min–max column; JIT and GC timing differ from run to run), whatever else the machine does, where the CPU time per request of the overhead suite moved by a third between machines of the same kind. ' +
      'Instructions are not time (a cache miss counts as one instruction): the targets are judged on CPU time above; this says whether a change between two runs is the code or the machine. ' +
      '`healthspan-insight-off` is the same start with `HEALTHSPAN_INSIGHT=false`: the difference is what insight (alerts and the health score) adds, ' +
      'which the insight suite’s CPU time, moving by more than its 5 % target between rounds, cannot resolve. ' +
      'Valgrind runs the server some 50 times slower, which overstates insight: its timer-driven work (the rules every 5 s, the event-loop monitor) is shared by fewer requests, ' +
      'and latencies grow past the default slow thresholds (`HEALTHSPAN_SLOW_QUERY_MS`, `HEALTHSPAN_SLOW_REQUEST_MS`), so spans take the tagging and exemplar path that they do not take natively (see the p99 of the overhead suite). ' +
      'An insight figure here is an upper bound. ' +
      'Runs only when asked: `BENCH_ONLY=instructions npm run bench` (needs valgrind).',
  );
  for (const [part, p] of Object.entries(parts)) {
    const rows = summarizeInstructions(p.data.runs);
    const d = p.result.machine.date.slice(0, 16).replace('T', ' ');
    const conns = p.data.runs[0]?.connections ?? ENDPOINTS[part.replace(SUFFIX, '')]?.connections ?? p.result.settings.connections;
    out.push(
      '',
      `### \`${part}\``,
      '',
      `${d} UTC · Node ${p.result.machine.node} · ${p.data.rounds ?? p.result.settings.rounds} round(s) · ${conns} connections · raw results: ${p.file}`,
      '',
    );
    out.push('| contender | instructions/request (min–max) | added | vs upstream’s added | valid runs |', '|---|--:|--:|--:|--:|');
    for (const r of rows) {
      const k = (v) => (v === undefined ? '' : `${fmt(v / 1000, 1)} k`);
      const span = r.range ? ` (${fmt(r.range[0] / 1000, 1)}–${fmt(r.range[1] / 1000, 1)})` : '';
      out.push(
        `| ${r.name} | ${k(r.value)}${span} | ${r.added === undefined ? '' : `+${k(r.added)}`} | ${r.ratio === undefined || r.name === 'upstream' ? '' : `${r.ratio.toFixed(2)}×`} | ${r.valid}/${r.runs} |`,
      );
    }
    const insight = insightShare(rows);
    if (insight) {
      out.push(
        '',
        `Insight: healthspan as it starts by default counts ${fmt(insight.added / 1000, 1)} k instructions per request more than with \`HEALTHSPAN_INSIGHT=false\` ` +
          `(+${fmt(insight.fraction * 100, 1)} %): the insight suite’s target, under +${fmt(TARGET_FRACTION * 100)} %, in instructions — **${insight.fraction < TARGET_FRACTION ? 'PASS' : 'SHORT'}**.`,
      );
    }
  }
  if (first)
    out.push(
      '',
      `Versions: ${Object.entries(first.data.versions ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    );
  return out.join('\n');
}

export const instructionsSuite = {
  id: 'instructions',
  title: 'Added CPU per request, in instructions',
  parts: PARTS,
  /** Not part of a plain `npm run bench`: only when BENCH_ONLY names the suite or a part. */
  onlyWhenAsked: true,

  /** Its own load, for the plan line of bench/run.mjs (the other figures there are the timed suites'). */
  describeLoad(opts) {
    return `${roundsOf(opts)} round(s) of ${WARMUP_REQUESTS} uncounted + ${MEASURED_REQUESTS} counted requests`;
  },

  estimateSeconds(opts, parts, ctx) {
    return roundsOf(opts) * parts.length * contenders(ctx).length * PER_RUN_S;
  },

  async run(opts, ctx, parts) {
    if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('the instructions suite needs valgrind (apt-get install valgrind)');
    if (parts.some((p) => p.startsWith('pg'))) await checkPostgres();
    const sink = await startHelper('bench/sink.mjs', { name: 'OTLP sink', cpu: ctx.pinning.client, pinning: ctx.pinning });
    const loadgen = await startHelper('bench/loadgen.mjs', { name: 'load generator', cpu: ctx.pinning.client, pinning: ctx.pinning });
    const dumpDir = mkdtempSync(path.join(ctx.app.base, 'callgrind-'));
    const runs = Object.fromEntries(parts.map((p) => [p, []]));
    const stderrShown = new Set();
    const rounds = roundsOf(opts);
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const part of parts) {
          const endpoint = part.slice(0, -SUFFIX.length);
          const list = contenders(ctx);
          const shift = (round - 1) % list.length;
          for (const contender of [...list.slice(shift), ...list.slice(0, shift)]) {
            const run = await measureOnce({ endpoint, contender, round, opts, ctx, sink, loadgen, dumpDir });
            run.connections = ENDPOINTS[endpoint].connections ?? opts.connections;
            runs[part].push(run);
            ctx.log(`[round ${round}/${rounds}] ${formatRun(run)}`);
            logStderrOnce(ctx, stderrShown, `${part}/${contender}`, run.stderr);
          }
        }
      }
      await settledCount(sink);
    } finally {
      await Promise.all([sink.close(), loadgen.close()]);
      rmSync(dumpDir, { recursive: true, force: true });
    }
    const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim();
    const versions = { ...ctx.app.versions, autocannon: readVersion(path.join(ctx.root, 'node_modules/autocannon/package.json')), valgrind };
    return { parts: Object.fromEntries(parts.map((p) => [p, { versions, rounds, runs: runs[p] }])) };
  },

  render: renderInstructions,
};
