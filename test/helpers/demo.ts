// Runs `scripts/demo.mjs` (what `npm run demo` runs) as a child, for the tests that check what a
// user of the demo meets: its output, its page, its metrics under a real Prometheus.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stopChild } from '../../scripts/dev/supervisor.mjs';
import { ROOT } from '../preload/child.ts';

export const DEMO_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** This process's environment without telemetry settings or ports, plus `extra`. */
export function demoEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OTEL_|HEALTHSPAN_)/.test(k) || ['PORT', 'DEMO_PORT', 'REDIS_URL', 'DATABASE_URL', 'NODE_OPTIONS'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

// Signals a child and waits for it to exit, killing it after a timeout (for the tests here too).
export { stopChild };

export interface ServedDemo {
  /** `http://127.0.0.1:<port>` of the demo app. */
  base: string;
  /** Everything the demo printed so far (stdout and stderr). */
  output(): string;
  /** Ctrl-C, as a person would; the app is killed by its pid file if the demo was killed instead. */
  stop(): Promise<void>;
}

/**
 * Starts `scripts/demo.mjs --serve` with `env` (on top of {@link demoEnv}) and resolves once it
 * prints `demo: serving http://…`, which comes after its own checks passed.
 */
export async function serveDemo(env: Record<string, string>, timeoutMs = 60_000): Promise<ServedDemo> {
  const demo = spawn(process.execPath, ['scripts/demo.mjs', '--serve'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: demoEnv(env) });
  let out = '';
  demo.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  demo.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const stop = async () => {
    const pid = demo.pid;
    await stopChild(demo, 'SIGINT', 15_000);
    const pidFile = join(ROOT, '.demo-data', `app-${pid}.pid`);
    if (existsSync(pidFile)) {
      const app = Number(readFileSync(pidFile, 'utf8'));
      try {
        if (app > 0) process.kill(app, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(pidFile, { force: true });
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (!/^demo: serving http:\/\//m.test(out)) {
    if (demo.exitCode !== null || demo.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the demo ${demo.exitCode !== null ? `exited (code ${demo.exitCode})` : 'did not serve in time'} before serving:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base: /^demo: serving (http:\/\/\S+)/m.exec(out)![1], output: () => out, stop };
}
