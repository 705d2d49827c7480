// Child-process bookkeeping for the benchmarks: CPU pinning, /proc readers, and the
// guarantee that no child outlives the orchestrator (exit, error, Ctrl-C, SIGTERM).
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const live = new Set();
let cleanupInstalled = false;

function killAll(signal = 'SIGKILL') {
  for (const child of live) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Installs the handlers that kill every tracked child however the orchestrator ends. */
export function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => killAll());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping ${live.size} child process(es)\n`);
      killAll();
      process.exit(128 + (os.constants.signals[sig] ?? 0));
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
}

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides the CPU placement once: server on CPU 0, load generator + sink (+ this
 * orchestrator) on CPU 1. Falls back to unpinned when taskset or a second CPU is missing.
 */
export function detectPinning() {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  if (!has('taskset')) return { pinned: false, reason: 'taskset not found', cpus };
  if (cpus < 2) return { pinned: false, reason: `only ${cpus} CPU available`, cpus };
  try {
    // The orchestrator itself only waits on IPC, but keep it off the server's CPU.
    execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return { pinned: false, reason: 'taskset failed on this machine', cpus };
  }
  return { pinned: true, server: '0', client: '1', cpus };
}

/** Spawns `argv` on the given CPU list (or unpinned) and tracks it for cleanup. */
export function spawnTracked(argv, { cpu, pinning, ...options }) {
  const [cmd, ...args] = pinning.pinned && cpu != null ? ['taskset', '-c', cpu, ...argv] : argv;
  const child = spawn(cmd, args, options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Resolves with { code, signal } when the child has exited (immediately if it already has). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves { clean } — false when it had to be killed. */
export async function stop(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return { clean: true };
  child.kill('SIGTERM');
  let timer;
  const killed = new Promise((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, graceMs);
  });
  const clean = await Promise.race([exited(child).then(() => true), killed]);
  clearTimeout(timer);
  await exited(child);
  return { clean };
}

let clkTck;
/** Clock ticks per second for /proc/<pid>/stat times. */
export function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of the whole process (all threads), in clock ticks. */
export function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields resume after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
}

/** Resident set size in MB (VmRSS of /proc/<pid>/status). */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return kb / 1024;
}
