// Runs test/scenarios/app.mjs under `node --import healthspan/register` (healthspan's default
// thresholds), drives real HTTP load at it, injects faults through its stdin and watches what
// healthspan concludes through the admin API (`/_healthspan/*`, neither traced nor counted).
// Every scenario records what it saw — alerts with their time to detect, false alerts, the
// score before, during and after — so the suite can print one table (and write it to
// $TMPDIR/healthspan-scenarios-<file>.json) besides asserting on it.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ROOT } from '../preload/child.ts';

export interface AlertView {
  id: string;
  rule: string;
  key: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  state: 'firing' | 'resolved';
  observed: number;
  ratio: number;
  message: string;
  firstAt: number;
  resolvedAt?: number;
  resolvedBy?: string;
}

export interface Analytics {
  health: { score?: number; status: string; components: { name: string; score: number; detail: string }[]; cappedBy?: { severity: string; cap: number } };
  recommendations: string[];
  routes: { route: string; count: number; p95Ms: number; split?: { db: number; http: number; cache: number; own: number } }[];
  queries: { query: string; summary: string; count: number; p95Ms: number }[];
  alerts: AlertView[];
}

export interface ScenarioApp {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  /** Merges `faults` into the app's fault state (see app.mjs) and waits for it to take them. */
  fault(faults: Record<string, unknown>): Promise<void>;
  analytics(): Promise<Analytics>;
  resolved(): Promise<AlertView[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running = new Set<ChildProcess>();

/**
 * This (the test) process's own event-loop stalls, second by second: when the machine is so
 * busy that it does not schedule processes for 200 ms (the whole suite on 2 cores, a browser
 * test beside), the app sees the same stalls, and an `event_loop` alert is the machine's, not
 * a false one. Kept for the last minute.
 */
const stalls: { at: number; maxMs: number }[] = [];
const own = monitorEventLoopDelay({ resolution: 20 });
own.enable();
setInterval(() => {
  stalls.push({ at: Date.now(), maxMs: own.max / 1e6 });
  own.reset();
  while (stalls.length > 60) stalls.shift();
}, 1000).unref();

/** The longest stall of this process over the last `ms`. */
function ownStallMs(ms: number): number {
  const from = Date.now() - ms;
  return Math.max(0, ...stalls.filter((s) => s.at >= from).map((s) => s.maxMs));
}
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Starts the app. Thresholds stay at their defaults; `env` may set what a scenario is about
 * (the warm-up, a memory limit) and `nodeFlags` V8 flags (a small old space).
 */
export async function startScenarioApp({ env = {}, nodeFlags = [] }: { env?: Record<string, string>; nodeFlags?: string[] } = {}): Promise<ScenarioApp> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('HEALTHSPAN_') && k !== 'NODE_OPTIONS') base[k] = v;
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'healthspan/register', join(ROOT, 'test/scenarios/app.mjs')], {
    cwd: ROOT,
    env: {
      ...base,
      OTEL_SERVICE_NAME: 'scenario-shop',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      // Rules every second instead of every 5 s, so a scenario needs seconds, not minutes; the
      // thresholds, windows, minimum samples and resolving stay the defaults.
      HEALTHSPAN_INSIGHT_INTERVAL_MS: '1000',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 30_000;
  while (!/listening (\d+)/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the scenario app did not start\nstdout: ${out}\nstderr: ${err}`);
    await sleep(50);
  }
  const url = `http://127.0.0.1:${/listening (\d+)/.exec(out)![1]}`;
  let faultSeq = 0;
  return {
    url,
    proc,
    stderr: () => err,
    exited,
    async fault(faults) {
      const want = ++faultSeq;
      proc.stdin!.write(`${JSON.stringify(faults)}\n`);
      while ((out.match(/^faults /gm) ?? []).length < want) await sleep(20);
    },
    analytics: async () => JSON.parse(await fetchText(`${url}/_healthspan/analytics`)),
    resolved: async () => JSON.parse(await fetchText(`${url}/_healthspan/alerts?state=resolved`)).alerts,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 10_000 }, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (body += d))
          .on('end', () => resolve(body));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`no answer from ${url}`));
      })
      .on('error', reject);
  });
}

export interface Load {
  /** Answers by status code. */
  statuses: Map<number, number>;
  failed: number;
  stop(): Promise<void>;
}

/**
 * Real load: `concurrency` keep-alive connections, each sending the next path of `paths()`
 * as soon as the last answer came (after `paceMs`), until stopped.
 */
export function load(base: string, { concurrency, paths, paceMs = 0 }: { concurrency: number; paths: () => string; paceMs?: number }): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<number, number>();
  let failed = 0;
  let stopped = false;
  const one = (path: string) =>
    new Promise<void>((resolve) => {
      http
        .get(`${base}${path}`, { agent, timeout: 30_000 }, (res) => {
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          res
            .resume()
            .on('end', resolve)
            .on('error', () => resolve());
        })
        .on('timeout', function (this: http.ClientRequest) {
          this.destroy();
        })
        .on('error', () => {
          failed++;
          resolve();
        });
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (!stopped) {
      await one(paths());
      if (paceMs > 0) await sleep(paceMs);
    }
  });
  return {
    statuses,
    get failed() {
      return failed;
    },
    async stop() {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

/** The shop's everyday traffic: lookups (mostly cache hits), searches, orders, a dashboard, payments. */
export function everyday(): () => string {
  let n = 0;
  return () => {
    n++;
    const r = n % 20;
    if (r < 9) return `/products/${(n % 50) + 1}`;
    if (r < 12) return '/search?q=lamp';
    if (r < 15) return `/orders/${(n % 200) + 1}`;
    if (r < 16) return '/dashboard';
    return '/pay';
  };
}

export interface Observation {
  scenario: string;
  /** The alerts the scenario is about, as `rule key` → the severity band it must reach. */
  expected: Record<string, string[]>;
  detected: Record<string, { severity: string; afterMs: number; message: string }>;
  falseAlerts: string[];
  scoreBefore?: number;
  /** The lowest score seen while the fault was on. */
  scoreDuring?: number;
  scoreAfter?: number;
  notes: string[];
}

/**
 * Polls the app every 500 ms from `since` until every expected alert is firing with a severity
 * in its band (or `timeoutMs` passed), recording when each was first seen, every other alert
 * as a false one, and the lowest score.
 */
export async function watch(app: ScenarioApp, o: Observation, since: number, timeoutMs: number, extraMs = 0): Promise<Analytics> {
  const deadline = Date.now() + timeoutMs;
  let last: Analytics | undefined;
  let doneAt: number | undefined;
  for (;;) {
    if (app.proc.exitCode !== null || app.proc.signalCode !== null) {
      o.notes.push(`the app exited (${app.proc.exitCode ?? app.proc.signalCode})`);
      break;
    }
    try {
      last = await app.analytics();
    } catch (err) {
      o.notes.push(`analytics: ${(err as Error).message}`);
      await sleep(500);
      continue;
    }
    record(o, last, since);
    // Nothing expected: watch the whole time for anything that should not fire.
    const complete =
      Object.keys(o.expected).length > 0 &&
      Object.entries(o.expected).every(([k, bands]) => {
        const a = last!.alerts.find((x) => `${x.rule} ${x.key}` === k);
        return a && bands.includes(a.severity);
      });
    if (complete && doneAt === undefined) doneAt = Date.now();
    if ((doneAt !== undefined && Date.now() >= doneAt + extraMs) || Date.now() > deadline) break;
    await sleep(500);
  }
  return last!;
}

/** Adds what one analytics answer shows to the observation. */
export function record(o: Observation, a: Analytics, since: number): void {
  for (const alert of a.alerts) {
    const k = `${alert.rule} ${alert.key}`;
    if (o.expected[k]) {
      const seen = o.detected[k];
      if (!seen) o.detected[k] = { severity: alert.severity, afterMs: Date.now() - since, message: alert.message };
      else if (seen.severity !== alert.severity) Object.assign(seen, { severity: alert.severity, message: alert.message });
    } else if (alert.rule === 'event_loop' && ownStallMs(15_000) >= 150) {
      const note = `event_loop [${alert.severity}] while the machine stalled this test process too (${Math.round(ownStallMs(15_000))} ms)`;
      if (!o.notes.some((n) => n.startsWith(`event_loop [${alert.severity}]`))) o.notes.push(note);
    } else if (!o.falseAlerts.includes(`${k} [${alert.severity}]`)) o.falseAlerts.push(`${k} [${alert.severity}]`);
  }
  const score = a.health.score;
  if (score !== undefined && (o.scoreDuring === undefined || score < o.scoreDuring)) o.scoreDuring = score;
}

export function observation(scenario: string, expected: Record<string, string[]> = {}): Observation {
  return { scenario, expected, detected: {}, falseAlerts: [], notes: [] };
}

/** One line per scenario and a JSON file, for the closing note of a run. */
export function report(file: string, all: Observation[]): void {
  const lines = all.map((o) => {
    const want = Object.keys(o.expected);
    const found = want.filter((k) => o.detected[k] && o.expected[k].includes(o.detected[k].severity));
    const detect = want
      .map((k) => (o.detected[k] ? `${k}: ${o.detected[k].severity} after ${(o.detected[k].afterMs / 1000).toFixed(1)} s` : `${k}: missed`))
      .join('; ');
    return `${o.scenario}: recall ${found.length}/${want.length}, false alerts ${o.falseAlerts.length}${o.falseAlerts.length ? ` (${o.falseAlerts.join(', ')})` : ''}, score before ${o.scoreBefore ?? '–'} / during ${o.scoreDuring ?? '–'} / after ${o.scoreAfter ?? '–'}${detect ? `; ${detect}` : ''}${o.notes.length ? `; ${o.notes.join('; ')}` : ''}`;
  });
  console.log(`scenarios (${file}):\n  ${lines.join('\n  ')}`);
  writeFileSync(join(tmpdir(), `healthspan-scenarios-${file}.json`), JSON.stringify(all, null, 2));
}
