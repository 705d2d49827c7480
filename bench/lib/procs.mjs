// The benchmarks' side of child processes: CPU pinning and /proc readers. Spawning, tracking
// and stopping them (no child outlives the orchestrator) is scripts/dev/supervisor.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { killAll, liveCount, spawnChild, superviseSignals } from '../../scripts/dev/supervisor.mjs';

/** The benchmark's policy for Ctrl-C, SIGTERM, SIGHUP: no figure is worth waiting for, kill every child. */
export function installCleanup() {
  superviseSignals({
    name: 'bench',
    onSignal(signal, code) {
      process.stderr.write(`\nbench: ${signal}, stopping ${liveCount()} child process(es)\n`);
      killAll('SIGKILL');
      process.exit(code);
    },
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

/** Spawns `argv` on the given CPU list (or unpinned), tracked by the supervisor. */
export function spawnTracked(argv, { cpu, pinning, ...options }) {
  return spawnChild(pinning.pinned && cpu != null ? ['taskset', '-c', cpu, ...argv] : argv, options);
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
