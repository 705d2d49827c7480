// What the figures were measured on; recorded with every result file.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function describeMachine(pinning) {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    node: process.version,
    cpuModel: cpuModel.trim(),
    // os.cpus(), not availableParallelism(): the orchestrator may already be pinned to one CPU.
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    pinning,
    date: new Date().toISOString(),
  };
}
