// Starts one server under test and measures its startup: ms from spawn to the first
// successful HTTP answer (polled), the figure a user feels on every deploy and restart.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, stopChild } from '../../scripts/dev/supervisor.mjs';
import { spawnTracked } from './procs.mjs';

const POLL_INTERVAL_MS = 5;

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('error', (err) => resolve({ error: err.message }));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

function tail(text, max = 4000) {
  return text.length > max ? text.slice(-max) : text;
}

/**
 * @param {{ argv: string[], env: object, cpu: string, pinning: object, name: string,
 *           cwd?: string, timeoutMs?: number }} options  `cwd`: the user app folder, where
 *           `healthspan/register` resolves to the installed tarball
 */
export async function startServer({ argv, env, cpu, pinning, name, cwd, timeoutMs = 20_000 }) {
  const t0 = performance.now();
  const child = spawnTracked(argv, { cpu, pinning, env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout = tail(stdout + c)));
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr = tail(stderr + c)));
  child.stdin.on('error', () => {});

  const describe = () => (stderr.trim() ? `\n--- ${name} stderr ---\n${stderr.trim()}` : '');
  const fail = async (message) => {
    await stopChild(child, 'SIGTERM', 2000);
    throw new Error(`${name}: ${message}${describe()}`);
  };

  let port;
  let spawnError;
  child.once('error', (err) => (spawnError = err));
  let died = false;
  exited(child).then(() => (died = true));

  while (port === undefined) {
    if (spawnError) await fail(`could not spawn: ${spawnError.message}`);
    if (died) await fail(`exited before listening (code ${child.exitCode}, signal ${child.signalCode})`);
    if (performance.now() - t0 > timeoutMs) await fail(`did not print its port within ${timeoutMs} ms`);
    const m = /listening on (\d+)/.exec(stdout);
    if (m) port = Number(m[1]);
    else await sleep(1);
  }

  const url = `http://127.0.0.1:${port}/`;
  let pollRequests = 0;
  let last;
  for (;;) {
    if (died) await fail(`exited during startup (code ${child.exitCode}, signal ${child.signalCode})`);
    last = await get(url);
    if (!last.error) pollRequests++;
    if (last.status === 200) break;
    if (performance.now() - t0 > timeoutMs) {
      const answer = last.error ?? `HTTP ${last.status}: ${last.body.slice(0, 300)}`;
      await fail(`no successful answer within ${timeoutMs} ms; last answer: ${answer}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  const startupMs = performance.now() - t0;

  return {
    pid: child.pid,
    port,
    url,
    startupMs,
    firstBody: last.body,
    pollRequests,
    stderr: () => stderr,
    stdout: () => stdout,
    /** Stops the server; resolves { clean } (false when it needed SIGKILL). */
    stop: async (graceMs = 10_000) => ({ clean: !(await stopChild(child, 'SIGTERM', graceMs)).killed }),
  };
}

/** Logs the tail of a server's stderr the first time `key` has any. */
export function logStderrOnce(ctx, shown, key, stderr) {
  if (!stderr || shown.has(key)) return;
  shown.add(key);
  ctx.log(`  ${key} wrote to stderr (shown once):\n    ${stderr.split('\n').slice(-15).join('\n    ')}`);
}
