// scripts/node.cjs (what every npm script runs through): one Ctrl-C reaches the command once.
// A terminal's Ctrl-C goes to the whole process group, and npm forwards a copy to its child as
// well; the command must still see a single SIGINT and shut down cleanly.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, until } from './child.ts';

async function wrapped() {
  // Its own process group, as a shell gives a job; pipes, not a terminal.
  const proc = spawn(process.execPath, ['scripts/node.cjs', process.execPath, fixture('sigint-count.mjs')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  const child = Number(await until('the command to start', () => /^ready (\d+)$/m.exec(out)?.[1]));
  return { proc, child, exited, out: () => out };
}

describe('scripts/node.cjs', () => {
  it.each([
    ['its process group (Ctrl-C)', (pid: number) => process.kill(-pid, 'SIGINT')],
    ['the wrapper alone (kill <pid>)', (pid: number) => process.kill(pid, 'SIGINT')],
    [
      'the group, then the wrapper again (npm forwarding its copy)',
      (pid: number) => {
        process.kill(-pid, 'SIGINT');
        setTimeout(() => process.kill(pid, 'SIGINT'), 50);
      },
    ],
  ])('a SIGINT to %s reaches the command exactly once, and it exits cleanly', async (_, send) => {
    const w = await wrapped();
    expect(w.child).not.toBe(w.proc.pid);
    send(w.proc.pid!);
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.out()).toBe(`ready ${w.child}\nsigints 1\n`);
  });
});
