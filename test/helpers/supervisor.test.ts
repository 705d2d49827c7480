// scripts/dev/supervisor.mjs, as the demo and the benchmarks use it: a script that supervises a
// child (test/fixtures/sigint-count.mjs, which counts the SIGINTs it gets) is run in a process
// group of its own, as a shell runs a job, and sent what a terminal and npm send.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, until } from '../preload/child.ts';

const SUPERVISOR = pathToFileURL(`${ROOT}scripts/dev/supervisor.mjs`).href;

/** Runs a script that spawns the counting child (stop signal SIGINT) and then does `then`. */
async function supervised(then: string) {
  const script = `
    import { onCleanup, spawnChild, stopChild, superviseSignals } from ${JSON.stringify(SUPERVISOR)};
    superviseSignals({ name: 'driver' });
    const child = spawnChild([process.execPath, ${JSON.stringify(fixture('sigint-count.mjs'))}], { stdio: ['ignore', 'inherit', 'inherit'], stopSignal: 'SIGINT' });
    onCleanup(() => stopChild(child));
    setInterval(() => {}, 1000);
    ${then}
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  // The child writes to the same pipe: it is closed once both are gone.
  const closed = new Promise<void>((r) => proc.stdout!.once('close', () => r()));
  const child = Number(await until('the child to start', () => /^ready (\d+)$/m.exec(out)?.[1]));
  return { pid: proc.pid!, child, exited, closed, out: () => out, err: () => err };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the supervisor (scripts/dev/supervisor.mjs)', () => {
  it.each([
    ['its process group (Ctrl-C)', (pid: number) => process.kill(-pid, 'SIGINT')],
    [
      'the group, then the script again (npm forwarding its copy)',
      (pid: number) => {
        process.kill(-pid, 'SIGINT');
        setTimeout(() => process.kill(pid, 'SIGINT'), 50);
      },
    ],
  ])('a SIGINT to %s stops the child with one SIGINT, waits for it, and exits 130', async (_, send) => {
    const s = await supervised('');
    send(s.pid);
    expect(await s.exited).toEqual({ code: 130, signal: null });
    await s.closed;
    expect(s.out()).toBe(`ready ${s.child}\nsigints 1\n`);
    expect(s.err()).toBe('\ndriver: SIGINT: stopping (press Ctrl-C again to kill everything now)\n');
    expect(alive(s.child)).toBe(false);
  });

  it('a second SIGINT, more than a second later, kills the child at once', async () => {
    const s = await supervised('');
    process.kill(-s.pid, 'SIGINT');
    await until('the shutdown to start', () => s.err().includes('stopping'));
    await new Promise((r) => setTimeout(r, 1100));
    process.kill(-s.pid, 'SIGINT');
    expect(await s.exited).toEqual({ code: 130, signal: null });
    await s.closed;
    // Killed before its 1.5 s wait for copies was over: it never printed its count.
    expect(s.out()).toBe(`ready ${s.child}\n`);
    expect(s.err()).toMatch(/\ndriver: SIGINT again: killing everything now\n$/);
    await until('the child to be gone', () => !alive(s.child));
  });

  it('an exit without shutdown() still sends the child its stop signal, once', async () => {
    const s = await supervised(`process.on('SIGUSR2', () => process.exit(3));`);
    process.kill(s.pid, 'SIGUSR2');
    expect(await s.exited).toEqual({ code: 3, signal: null });
    await s.closed;
    expect(s.out()).toBe(`ready ${s.child}\nsigints 1\n`);
    expect(s.err()).toBe('');
  });
});
