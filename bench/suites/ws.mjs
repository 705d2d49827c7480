// The ws suite: what healthspan costs a WebSocket echo server (`ws`), in messages/s and
// server CPU per echoed message, with message spans off (metrics and handshake spans only)
// and on (a CONSUMER + a PRODUCER span per echo), next to no telemetry at all.
// The load generator is this same file run as a helper process (BENCH_WS_CLIENT=1), pinned
// to CPU 1 next to the OTLP sink; the server runs pinned to CPU 0.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startHelper } from '../lib/helper-process.mjs';
import { clockTicks, cpuTicks, rssMb } from '../lib/procs.mjs';
import { logStderrOnce, startServer } from '../lib/server.mjs';
import { contenderRuns, fmt, median, range } from '../lib/stats.mjs';
import { distFingerprint, readVersion } from '../lib/build.mjs';
import { serverEnv, settledCount } from './overhead.mjs';

const SELF = fileURLToPath(import.meta.url);
// Relative to the user app folder, where bench/apps is copied (scripts/dev/user-app.mjs).
const APP = 'ws-echo.mjs';
export const CONTENDERS = ['bare', 'healthspan', 'healthspan+spans'];

/** The load: connections × messages kept in flight on each, of a text payload this long. */
const LOAD = { connections: 8, inFlight: 16, payloadBytes: 64, route: '/echo' };
/** Message spans per connection for `healthspan+spans`: high enough that none is capped. */
const SPAN_LIMIT = 1_000_000;
/** Each echo is one received and one sent message, each a span with message spans on. */
const SPANS_PER_ECHO = 2;
/** The sink must have received at least this fraction of the expected message spans. */
const MIN_SPAN_FRACTION = 0.9;
/** Startup, draining, shutdown, flush and settling around each run, for the time estimate. */
const PER_RUN_OVERHEAD_S = 1;
/** How long the client waits for the echoes still in flight when a run stops. */
const DRAIN_TIMEOUT_MS = 5000;

// ---- client (helper process) ------------------------------------------------------------

async function clientMain() {
  const { WebSocket } = await import('ws');
  let run;

  function cpuUs() {
    const u = process.cpuUsage();
    return u.user + u.system;
  }

  function snapshot() {
    return {
      echoes: run?.echoes ?? 0,
      sent: run?.sent ?? 0,
      atMs: performance.now(),
      cpuUs: cpuUs(),
    };
  }

  function discard() {
    if (!run) return;
    run.stopping = true;
    for (const ws of run.sockets) ws.terminate();
    run = undefined;
  }

  async function start({ url, connections, inFlight, payloadBytes }) {
    discard();
    const payload = Buffer.alloc(payloadBytes, 'healthspan-ws-bench ');
    const r = {
      sockets: [],
      echoes: 0,
      sent: 0,
      outstanding: 0,
      errors: 0,
      mismatches: 0,
      unexpectedCloses: 0,
      lastError: undefined,
      stopping: false,
      drained: undefined,
    };
    run = r;
    const opened = [];
    for (let i = 0; i < connections; i++) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      r.sockets.push(ws);
      opened.push(
        new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        }),
      );
      const send = () => {
        r.sent++;
        r.outstanding++;
        ws.send(payload, { binary: false });
      };
      ws.on('message', (data, isBinary) => {
        r.outstanding--;
        if (isBinary || !payload.equals(data)) r.mismatches++;
        else r.echoes++;
        if (!r.stopping) send();
        else if (r.outstanding === 0) r.drained?.();
      });
      ws.on('error', (err) => {
        r.errors++;
        r.lastError = err.message;
      });
      ws.on('close', () => {
        if (!r.stopping) r.unexpectedCloses++;
      });
      ws.on('open', () => {
        for (let k = 0; k < inFlight; k++) send();
      });
    }
    let timer;
    try {
      await Promise.race([
        Promise.all(opened),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`not all ${connections} connections opened within 10 s`)), 10_000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return snapshot();
  }

  async function stop() {
    const r = run;
    if (!r) return { error: 'no run under way' };
    r.stopping = true;
    if (r.outstanding > 0) {
      await Promise.race([new Promise((resolve) => (r.drained = resolve)), sleep(DRAIN_TIMEOUT_MS)]);
    }
    const end = {
      ...snapshot(),
      outstanding: r.outstanding,
      errors: r.errors,
      mismatches: r.mismatches,
      unexpectedCloses: r.unexpectedCloses,
      lastError: r.lastError,
    };
    await Promise.race([
      Promise.all(
        r.sockets.map((ws) =>
          ws.readyState === WebSocket.CLOSED
            ? undefined
            : new Promise((resolve) => {
                ws.once('close', resolve);
                ws.close(1000);
              }),
        ),
      ),
      sleep(3000),
    ]);
    discard();
    return end;
  }

  process.on('disconnect', () => process.exit(0));
  process.on('message', async (msg) => {
    if (msg?.id == null) return;
    try {
      let reply;
      if (msg.type === 'start') reply = await start(msg);
      else if (msg.type === 'mark') reply = snapshot();
      else if (msg.type === 'stop') reply = await stop();
      else reply = { error: `unknown request ${msg.type}` };
      process.send({ ...reply, id: msg.id });
    } catch (err) {
      discard();
      process.send({ id: msg.id, error: err?.message ?? String(err) });
    }
  });
  process.send({ type: 'ready' });
}

if (process.argv[1] === SELF && process.env.BENCH_WS_CLIENT === '1') {
  clientMain().catch((err) => {
    process.send?.({ type: 'error', message: err?.message ?? String(err) });
    process.exit(1);
  });
}

// ---- orchestrator -----------------------------------------------------------------------

function contenderArgv(contender) {
  return contender === 'bare' ? [process.execPath, APP] : [process.execPath, '--import', 'healthspan/register', APP];
}

/** The shared server environment (overhead.mjs) plus this suite's message-span switch. */
function wsServerEnv(contender, sinkPort) {
  const env = serverEnv(contender === 'bare' ? undefined : sinkPort, {
    HEALTHSPAN_WS_MESSAGE_SPANS: contender === 'healthspan+spans' ? 'true' : 'false',
    ...(contender === 'healthspan+spans' ? { HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT: String(SPAN_LIMIT) } : {}),
  });
  // The load client's own switch must not reach the server.
  delete env.BENCH_WS_CLIENT;
  return env;
}

async function ask(client, message, what) {
  const reply = await client.request(message);
  if (reply.error) throw new Error(`ws client failed ${what}: ${reply.error}`);
  return reply;
}

async function measureOnce({ contender, round, opts, ctx, sink, client }) {
  const run = { round, contender, valid: false };
  const instrumented = contender !== 'bare';
  if (instrumented) run.build = distFingerprint(ctx.root);
  const before = await sink.request({ type: 'count' });
  let server;
  try {
    server = await startServer({
      argv: contenderArgv(contender),
      cwd: ctx.app.dir,
      env: wsServerEnv(contender, sink.ready.port),
      cpu: ctx.pinning.server,
      pinning: ctx.pinning,
      name: `ws/${contender}`,
    });
  } catch (err) {
    run.invalid = `server did not start: ${err.message}`;
    return run;
  }
  run.startupMs = server.startupMs;
  run.pollRequests = server.pollRequests;
  let started = false;
  let stderr = '';
  try {
    await ask(client, { type: 'start', url: `ws://127.0.0.1:${server.port}${LOAD.route}`, ...LOAD }, 'to connect');
    started = true;
    await sleep(opts.warmupS * 1000);
    const m0 = await ask(client, { type: 'mark' }, 'at the end of the warm-up');
    const ticks0 = cpuTicks(server.pid);
    await sleep(opts.durationS * 1000);
    const m1 = await ask(client, { type: 'mark' }, 'at the end of the measured window');
    const ticks1 = cpuTicks(server.pid);
    run.rssMb = rssMb(server.pid);
    started = false;
    const end = await ask(client, { type: 'stop' }, 'to stop');

    const durationS = (m1.atMs - m0.atMs) / 1000;
    const echoes = m1.echoes - m0.echoes;
    const cpuS = (ticks1 - ticks0) / clockTicks();
    Object.assign(run, {
      echoes,
      durationS,
      msgPerSec: echoes / durationS,
      cpuUsPerMsg: echoes > 0 ? (cpuS * 1e6) / echoes : undefined,
      serverCpuBusy: cpuS / durationS,
      clientCpuBusy: (m1.cpuUs - m0.cpuUs) / 1e6 / durationS,
      totalEchoes: end.echoes,
      errors: end.errors + end.mismatches + end.unexpectedCloses,
      lost: end.outstanding,
    });
    if (end.lastError) run.lastError = end.lastError;
  } catch (err) {
    run.invalid = err.message;
    if (started) await client.request({ type: 'stop' }).catch(() => {});
  } finally {
    const { clean } = await server.stop(10_000);
    if (!clean) run.note = 'did not exit within 10 s of SIGTERM (killed)';
    stderr = server.stderr();
    if (stderr.trim()) run.stderr = stderr.trim().slice(-1500);
  }
  if (run.invalid) return run;

  // The startup block lists the active instrumentations: a dist/ built before ws existed
  // would measure plain http and pass for "healthspan".
  const listed = /instrumentations:\s*([^\n]*)/.exec(stderr);
  if (instrumented && listed && !listed[1].split(/[,\s]+/).includes('ws')) {
    run.invalid = `ws is not among the instrumentations (${listed[1].trim()}): rebuild dist/ (npx tsup)`;
    return run;
  }

  let sinkErrors = 0;
  if (instrumented) {
    const after = await settledCount(sink);
    run.spans = after.spanCount - before.spanCount;
    run.spansPerEcho = run.totalEchoes > 0 ? run.spans / run.totalEchoes : undefined;
    // Besides message spans: one SERVER span per handshake and per startup poll (GET /).
    run.expectedSpans = LOAD.connections + run.pollRequests + (contender === 'healthspan+spans' ? SPANS_PER_ECHO * run.totalEchoes : 0);
    run.missingSpans = Math.max(0, run.expectedSpans - run.spans);
    if (/span queue full/.test(stderr)) run.queueFull = true;
    sinkErrors = after.errors - before.errors;
    if (sinkErrors > 0) run.sinkLastError = after.lastError;
  }
  if (run.errors > 0) run.invalid = `${run.errors} connection errors / wrong echoes / dropped connections${run.lastError ? `, last: ${run.lastError}` : ''}`;
  else if (run.lost > 0) run.invalid = `${run.lost} message(s) never echoed back within ${DRAIN_TIMEOUT_MS / 1000} s`;
  else if (sinkErrors > 0) run.invalid = `sink rejected ${sinkErrors} export request(s), last: ${run.sinkLastError}`;
  else if (contender === 'healthspan' && run.spans < LOAD.connections) {
    run.invalid = `sink received ${run.spans} spans, fewer than the ${LOAD.connections} handshakes: is ws instrumented?`;
  } else if (contender === 'healthspan+spans' && !(run.spansPerEcho >= SPANS_PER_ECHO * MIN_SPAN_FRACTION)) {
    run.invalid = `sink received ${run.spans} spans for ${run.totalEchoes} echoes ` + `(< ${MIN_SPAN_FRACTION} × ${SPANS_PER_ECHO} message spans per echo)`;
  }
  run.valid = !run.invalid;
  return run;
}

function formatRun(r) {
  const head = r.contender.padEnd(16);
  if (r.invalid && r.msgPerSec === undefined) return `${head} INVALID: ${r.invalid}`;
  const f = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  const parts = [
    `${f(r.msgPerSec).padStart(6)} msg/s`,
    `cpu ${f(r.cpuUsPerMsg, 1)} µs/msg (busy ${f(r.serverCpuBusy * 100)}%, client ${f(r.clientCpuBusy * 100)}%)`,
    `startup ${f(r.startupMs)} ms`,
    `rss ${f(r.rssMb, 1)} MB`,
  ];
  if (r.spans !== undefined) parts.push(`spans ${r.spans} (${f(r.spansPerEcho, 2)}/echo, ${r.missingSpans} missing)`);
  if (r.build) parts.push(`build ${r.build}`);
  return `${head} ${parts.join('  ')}${r.invalid ? `  INVALID: ${r.invalid}` : ''}${r.note ? `  NOTE: ${r.note}` : ''}`;
}

// ---- report -----------------------------------------------------------------------------

export function summarizeWs(runs) {
  const contenders = {};
  for (const name of CONTENDERS) {
    const { ok, pick, counts } = contenderRuns(runs, name);
    contenders[name] = {
      ...counts,
      msgPerSec: median(pick('msgPerSec')),
      cpuUsPerMsg: median(pick('cpuUsPerMsg')),
      cpuUsPerMsgRange: range(pick('cpuUsPerMsg')),
      serverCpuBusy: median(pick('serverCpuBusy')),
      clientCpuBusy: median(pick('clientCpuBusy')),
      startupMs: median(pick('startupMs')),
      rssMb: median(pick('rssMb')),
      spansPerEcho: median(pick('spansPerEcho')),
      missingSpans: median(pick('missingSpans')),
      missingFraction: median(ok.map((r) => (r.expectedSpans > 0 ? r.missingSpans / r.expectedSpans : undefined))),
      queueFullRuns: ok.filter((r) => r.queueFull).length,
      builds: [...new Set(ok.map((r) => r.build).filter(Boolean))],
    };
  }
  const bare = contenders.bare;
  for (const name of CONTENDERS.slice(1)) {
    const c = contenders[name];
    c.msgPerSecRatio = c.msgPerSec / bare.msgPerSec;
    c.addedCpuUs = c.cpuUsPerMsg - bare.cpuUsPerMsg;
    c.cpuRatio = c.cpuUsPerMsg / bare.cpuUsPerMsg;
    c.addedRssMb = c.rssMb - bare.rssMb;
  }
  return { contenders };
}

const signed = (v, d) => (Number.isFinite(v) ? (v > 0 ? '+' : '') + fmt(v, d) : '–');

function contenderTable(summary) {
  const rows = [
    '| contender | messages/s | vs bare | server CPU µs/message (min–max) | vs bare | added CPU µs/message | server busy | client busy | startup ms | RSS MB | added RSS MB | spans/message | spans missing | valid runs |',
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
    const spread = c.cpuUsPerMsgRange ? ` (${fmt(c.cpuUsPerMsgRange[0], 2)}–${fmt(c.cpuUsPerMsgRange[1], 2)})` : '';
    rows.push(
      `| ${name} | ${fmt(c.msgPerSec)} | ${isBare ? '1.00' : fmt(c.msgPerSecRatio, 2)} | ${fmt(c.cpuUsPerMsg, 2)}${spread} | ` +
        `${isBare ? '1.00' : fmt(c.cpuRatio, 2)} | ${isBare ? '' : signed(c.addedCpuUs, 2)} | ` +
        `${fmt(c.serverCpuBusy * 100)}% | ${fmt(c.clientCpuBusy * 100)}% | ${fmt(c.startupMs)} | ${fmt(c.rssMb, 1)} | ` +
        `${isBare ? '' : signed(c.addedRssMb, 1)} | ${isBare ? '' : fmt(c.spansPerEcho / SPANS_PER_ECHO, 2)} | ` +
        `${isBare ? '' : `${fmt(c.missingSpans)} (${fmt(c.missingFraction * 100, 2)}%)`} | ${c.valid}/${c.runs} |`,
    );
  }
  for (const name of CONTENDERS.slice(1)) {
    const c = summary.contenders[name];
    if (c.queueFullRuns > 0) {
      rows.push(
        '',
        `Note: ${name} warned "span queue full" in ${c.queueFullRuns}/${c.valid} valid run(s): at this rate the default ` +
          'queue (`OTEL_BSP_MAX_QUEUE_SIZE=2048`, one export at a time) overflows now and then and the spans that did not fit ' +
          'were dropped (counted in `healthspan.exporter.dropped`); "spans missing" is expected minus received.',
      );
    }
  }
  const builds = [...new Set(CONTENDERS.flatMap((n) => summary.contenders[n].builds))];
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

function renderWs(parts) {
  const p = parts.ws;
  if (!p) return '_Not run yet._';
  const { data, file, result } = p;
  const s = result.settings;
  const load = data.load ?? LOAD;
  const pinned = s?.pinning?.pinned;
  const summary = summarizeWs(data.runs);
  return [
    `\`bench/apps/ws-echo.mjs\` is a \`ws\` ${data.versions?.ws ?? ''} WebSocketServer on a \`node:http\` server that ` +
      'sends every message straight back. Three contenders: `bare` (`node ws-echo.mjs`), `healthspan` ' +
      '(`node --import healthspan/register ws-echo.mjs`, message spans off: per-connection and per-message metrics, ' +
      'a SERVER span per upgrade handshake) and `healthspan+spans` (the same with `HEALTHSPAN_WS_MESSAGE_SPANS=true` and ' +
      `\`HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT=${SPAN_LIMIT}\`, so that every received message gets a CONSUMER span and every ` +
      'echo a PRODUCER span). Both instrumented contenders sample everything and export traces over OTLP http/protobuf to a ' +
      'sink in its own process (`OTEL_METRICS_EXPORTER=none`: the metrics are recorded but not exported); for ' +
      `\`healthspan+spans\` the sink must have received at least ${MIN_SPAN_FRACTION} spans per message ` +
      `(${SPANS_PER_ECHO} per echo: receive + send), for \`healthspan\` at least one span per handshake, or the run is INVALID and left out. "Spans missing" is what the sink should have received (a SERVER span per handshake and per startup poll, plus 2 per echo with message spans on) minus what it did.`,
    '',
    `Method: a client process (this suite's own file, \`ws\` client) opens ${load.connections} connections to ` +
      `\`ws://127.0.0.1:<port>${load.route}\` and keeps ${load.inFlight} text messages of ${load.payloadBytes} bytes in ` +
      'flight on each: every echo received is checked and answered by the next message. A **message** below is one ' +
      'echo (the server receives it and sends it back). After a discarded warm-up the client counts echoes over the ' +
      'measured window. Rounds are interleaved (a fresh server per contender each round, in an order that rotates ' +
      `each round); ${pinned ? 'the server runs pinned to CPU 0 and the client, the OTLP sink and the orchestrator to CPU 1 (`taskset -c`)' : '**processes ran unpinned**, so server and client competed for the same CPUs'}. ` +
      'Every figure is the median over rounds. **Server CPU per message** (utime+stime of the server from ' +
      '`/proc/<pid>/stat` over the measured window, divided by the echoes completed in it) is the fairest figure: ' +
      'messages/s depends on whether the server or the client (which also masks every frame it sends, and shares its ' +
      'CPU with the sink) saturates its core first. "Server busy" and "client busy" are CPU time over wall time; ' +
      'well below 100% for the server means the client side was the bottleneck and the messages/s ratio understates the cost.',
    '',
    `${result.machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · ` +
      `${s.rounds} round(s) × ${s.durationS} s measured (${s.warmupS} s warm-up) · ${load.connections} connections × ` +
      `${load.inFlight} in flight × ${load.payloadBytes} B · healthspan ${data.versions?.healthspan ?? '?'}, ws ${data.versions?.ws ?? '?'} · ` +
      `raw results: ${file}`,
    '',
    contenderTable(summary),
  ].join('\n');
}

export const wsSuite = {
  id: 'ws',
  title: 'WebSocket (ws) echo throughput',
  parts: ['ws'],

  estimateSeconds(opts) {
    return opts.rounds * CONTENDERS.length * (opts.warmupS + opts.durationS + PER_RUN_OVERHEAD_S);
  },

  async run(opts, ctx) {
    ctx.log(`ws: ${LOAD.connections} connections × ${LOAD.inFlight} messages in flight × ${LOAD.payloadBytes} B; ` + `contenders ${CONTENDERS.join(', ')}`);
    const sink = await startHelper('bench/sink.mjs', { name: 'OTLP sink', cpu: ctx.pinning.client, pinning: ctx.pinning });
    const client = await startHelper(SELF, {
      name: 'ws client',
      cpu: ctx.pinning.client,
      pinning: ctx.pinning,
      env: { BENCH_WS_CLIENT: '1' },
    });
    const runs = [];
    const stderrShown = new Set();
    try {
      for (let round = 1; round <= opts.rounds; round++) {
        // Rotate the order every round so no contender always runs first (or after another).
        const shift = (round - 1) % CONTENDERS.length;
        const order = [...CONTENDERS.slice(shift), ...CONTENDERS.slice(0, shift)];
        for (const contender of order) {
          const run = await measureOnce({ contender, round, opts, ctx, sink, client });
          runs.push(run);
          ctx.log(`[round ${round}/${opts.rounds}] ${formatRun(run)}`);
          logStderrOnce(ctx, stderrShown, `ws/${contender}`, run.stderr);
        }
      }
    } finally {
      await Promise.all([sink.close(), client.close()]);
    }
    const versions = {
      healthspan: readVersion(path.join(ctx.root, 'package.json')),
      ws: readVersion(path.join(ctx.root, 'node_modules/ws/package.json')),
    };
    return { parts: { ws: { versions, load: LOAD, spanLimit: SPAN_LIMIT, runs } } };
  },

  summarize: summarizeWs,
  render: renderWs,
};
