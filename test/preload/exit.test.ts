// A process that ends on its own (a CLI, a cron job, a test run) exits on time whatever the
// collector does (issue 12). These are the only wall-clock assertions of the suite, because
// the issue asks for exit-time bounds: each is measured from the `done <ms>` line the child
// prints when its work is over to the child's 'exit' event here, on the same clock, and
// leaves room for a loaded machine (what runs in between — beforeExit, one export
// attempt, process teardown, the pipe to us — takes tens of milliseconds when idle).
import net from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { fixture, freePort, get, ROOT, runScript, startApp, until } from './child.ts';
import { CLIENT, SERVER } from './traces.ts';

const closers: (() => Promise<unknown>)[] = [];
afterAll(() => Promise.all(closers.map((c) => c())));

interface Timed {
  code: number | null;
  stderr: string;
  /** From the child's `done` line to its exit event, in ms. */
  afterWork: number;
}

/** Runs work-then-exit.mjs preloaded with a clean env plus `env`. */
function runTimed(env: Record<string, string>): Promise<Timed> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('HEALTHSPAN_')) base[k] = v;
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'healthspan/register', fixture('work-then-exit.mjs')], {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => {
      const exitedAt = Date.now();
      const done = /done (\d+)/.exec(stdout);
      resolve({ code, stderr, afterWork: done ? exitedAt - Number(done[1]) : Number.NaN });
    });
  });
}

/** A collector that accepts connections, reads what it is sent and never answers. */
async function slowCollector(): Promise<{ url: string; received: () => string }> {
  const sockets: net.Socket[] = [];
  let received = '';
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => (received += d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, received: () => received };
}

describe('a process that ends on its own', () => {
  it('exits within 1 s of its last work when no collector listens (default configuration)', async () => {
    // The default configuration, except that the endpoint's port is one known to be closed:
    // something on this machine could be listening on 4318. `localhost` stays, so the name
    // lookup of the default endpoint is part of what is measured.
    const closed = await freePort();
    const r = await runTimed({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://localhost:${closed}`, HEALTHSPAN_PROMETHEUS_PORT: String(await freePort()) });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /trace export to http:\/\/localhost:\d+\/v1\/traces failed \(connect ECONNREFUSED [^)]+\); 2 spans dropped, 2 in total \(healthspan\.exporter\.dropped\)/,
    );
    // Was ~8 s: the exporter retried five times, its timers keeping the process alive.
    expect(r.afterWork).toBeLessThan(1000);
  });

  it('exits within HEALTHSPAN_EXIT_FLUSH_TIMEOUT (default 1000 ms) when the collector accepts and never answers', async () => {
    const slow = await slowCollector();
    const r = await runTimed({ OTEL_EXPORTER_OTLP_ENDPOINT: slow.url, OTEL_METRICS_EXPORTER: 'none' });
    expect(r.code).toBe(0);
    expect(slow.received()).toMatch(/^POST \/v1\/traces HTTP\/1\.1/);
    expect(r.stderr).toContain(
      'warning: the process exited before 2 spans could be exported (the flush at exit waits at most 1000 ms, HEALTHSPAN_EXIT_FLUSH_TIMEOUT); counted in healthspan.exporter.dropped',
    );
    // It waited for the collector for the whole bound (the timer starts after `done`, so this
    // lower bound cannot flake), and not for the 10 s export timeout: 1.5 s of margin above.
    expect(r.afterWork).toBeGreaterThanOrEqual(1000);
    expect(r.afterWork).toBeLessThan(2500);
  });

  it('names the bound it was given in the report of what it dropped', async () => {
    const slow = await slowCollector();
    const r = await runTimed({
      OTEL_EXPORTER_OTLP_ENDPOINT: slow.url,
      OTEL_METRICS_EXPORTER: 'none',
      HEALTHSPAN_EXIT_FLUSH_TIMEOUT: '200',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'warning: the process exited before 2 spans could be exported (the flush at exit waits at most 200 ms, HEALTHSPAN_EXIT_FLUSH_TIMEOUT)',
    );
  });

  it('still exports everything at exit when the collector answers', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    const r = await runTimed({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '60000' });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning');
    expect(receiver.spans.map((s) => `${s.name} ${s.kind}`).sort()).toEqual([`GET ${CLIENT}`, `GET /work ${SERVER}`].sort());
  });

  it('waits for a top-level `await shutdown()` to finish its export instead of exiting with code 13', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    const r = await runScript(['--import', 'healthspan/register'], fixture('await-shutdown.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('shut down\n');
    expect(receiver.spans.map((s) => `${s.name} ${s.kind}`).sort()).toEqual([`GET ${CLIENT}`, `GET /before-shutdown ${SERVER}`].sort());
  });
});

describe('the OTLP exporter', () => {
  it('still retries a failed export while the process runs (its retry timers are only unref’d)', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    // A dropped connection: retried after the exporters' backoff (about 1 s), not at once.
    receiver.setFailure('reset');
    const app = await startApp(['--import', 'healthspan/register'], fixture('app.mjs'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      expect((await get(`${app.url}/hello`)).status).toBe(200);
      await until('a first, refused export', () => receiver.requests.some((r) => r.path === '/v1/traces'));
      receiver.setFailure('none');
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'GET /hello'));
      expect(spans.filter((s) => s.name === 'GET /hello')).toHaveLength(1);
      expect(app.stderr()).not.toContain('trace export');
    } finally {
      await app.stop();
    }
  });
});
