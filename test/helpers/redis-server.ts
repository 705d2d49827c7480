// A private redis-server for fault tests: started on a free loopback port in a temp dir, and
// stopped, frozen (SIGSTOP), thawed and restarted on demand.
// The shared Redis on 6379 must never be stopped or paused; tests that break Redis use this.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../scripts/dev/ports.mjs';
import { exited, track } from '../../scripts/dev/supervisor.mjs';

export interface RedisServerOptions {
  /** @default 'redis-server' (from PATH) */
  bin?: string;
  /** How long to wait for the first PONG. @default 10000 */
  startTimeoutMs?: number;
  /** Extra arguments appended to the command line, e.g. ['--maxmemory', '10mb']. @default [] */
  args?: string[];
}

export interface RedisServer {
  readonly url: string; // redis://127.0.0.1:<port>
  readonly port: number;
  readonly dir: string; // the server's working directory (removed by close())
  /** Process id of the current server, undefined while stopped. */
  readonly pid: number | undefined;
  readonly state: 'running' | 'paused' | 'stopped' | 'closed';
  /** SIGTERM and wait for the process to exit; clients see their connections close. */
  stop(): Promise<void>;
  /** SIGSTOP: connections stay open and accept bytes, but nothing answers. */
  pause(): void;
  /** SIGCONT: answers everything queued while paused. */
  resume(): void;
  /** Starts a fresh server on the same port (stops the current one first) and waits for PONG. */
  restart(): Promise<void>;
  /** Kills the server for good and removes its directory; safe to call twice. */
  close(): Promise<void>;
  /** Last lines the server wrote, for failure messages. */
  log(): string;
}

const LOG_LINES = 200;

/** One inline PING over a raw socket: no client library, so a helper bug cannot hide behind retries. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = options.bin ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const extra = options.args ?? [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'healthspan-redis-'));
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let state: RedisServer['state'] = 'stopped';
  let port = 0;

  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > LOG_LINES) lines.shift();
    }
  };

  /** Spawns on `p` and resolves once it answers PING; rejects if it exits first or never answers. */
  async function launch(p: number): Promise<void> {
    const proc = spawn(
      bin,
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        dir,
        '--logfile',
        '',
        '--protected-mode',
        'no',
        ...extra,
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', remember);
    proc.stderr?.on('data', remember);
    // A forgotten server must not keep the test process alive; the exit hook kills it.
    proc.unref();
    (proc.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    (proc.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    // Killed synchronously when the test process exits, so nothing leaks even when a test
    // forgets close() or the worker is torn down.
    track(proc, 'SIGKILL');
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });
    child = proc;
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`cannot start ${bin}: ${spawnError.message}`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${bin} exited (${proc.exitCode ?? proc.signalCode}) before answering PING:\n${lines.slice(-10).join('\n')}`);
      }
      if (await ping(p, 500)) {
        state = 'running';
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    await exited(proc);
    throw new Error(`${bin} on port ${p} did not answer PING within ${startTimeoutMs} ms:\n${lines.slice(-10).join('\n')}`);
  }

  async function halt(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc) return;
    // A stopped process keeps SIGTERM pending until it runs again.
    if (state === 'paused') proc.kill('SIGCONT');
    proc.ref(); // keep the loop alive until the exit is seen
    proc.kill(signal);
    await exited(proc);
    if (state !== 'closed') state = 'stopped';
  }

  // The free port can be stolen between probe and bind: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      break;
    } catch (err) {
      await halt('SIGKILL');
      if (attempt >= 5) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    get pid() {
      return child?.pid;
    },
    get state() {
      return state;
    },
    async stop() {
      if (state === 'closed') throw new Error('redis-server is closed');
      await halt('SIGTERM');
    },
    pause() {
      if (state !== 'running' || !child) throw new Error(`cannot pause a ${state} redis-server`);
      child.kill('SIGSTOP');
      state = 'paused';
    },
    resume() {
      if (state !== 'paused' || !child) throw new Error(`cannot resume a ${state} redis-server`);
      child.kill('SIGCONT');
      state = 'running';
    },
    async restart() {
      if (state === 'closed') throw new Error('redis-server is closed');
      await halt('SIGTERM');
      // The old socket may linger briefly; redis sets SO_REUSEADDR, so a short retry covers it.
      let lastError: unknown;
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await launch(port);
          return;
        } catch (err) {
          lastError = err;
          await halt('SIGKILL');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw lastError;
    },
    async close() {
      if (state === 'closed') return;
      await halt('SIGKILL');
      state = 'closed';
      fs.rmSync(dir, { recursive: true, force: true });
    },
    log() {
      return lines.join('\n');
    },
  };
  return server;
}
