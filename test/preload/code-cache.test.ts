import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, runScript } from './child.ts';

// The preload compiles dist/index.cjs from a V8 code cache of its own (src/register/load-main.ts).
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'healthspan-cc-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const dir = () => path.join(tmp, `healthspan-code-cache-${process.getuid!()}`);
const files = () => {
  try {
    return readdirSync(dir()).filter((f) => f.endsWith('.v8cache'));
  } catch {
    return [];
  }
};
const env = (extra: Record<string, string> = {}) => ({
  TMPDIR: tmp,
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
  ...extra,
});

async function runLazyApp(extra: Record<string, string> = {}) {
  const r = await runScript(['--import', 'healthspan/register'], fixture('lazy.cjs'), env(extra));
  expect(r.code, r.stderr).toBe(0);
  // The app's require('healthspan') is the preload's instance: the instrumentations it created are there.
  expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).afterPg).toContain('pg');
  return r;
}

describe('the code cache of the bundle', () => {
  it('is written by the first start (at exit for a short process) and used as it is by the next', async () => {
    await runLazyApp();
    expect(files()).toHaveLength(1);
    const file = path.join(dir(), files()[0]);
    expect(statSync(dir()).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const first = statSync(file);
    await runLazyApp();
    // Accepted by V8: not written again.
    expect(statSync(file).mtimeMs).toBe(first.mtimeMs);
    expect(statSync(file).ino).toBe(first.ino);
  });

  it('is replaced when V8 rejects it, and the app runs as usual', async () => {
    await runLazyApp();
    const file = path.join(dir(), files()[0]);
    writeFileSync(file, Buffer.alloc(4096, 7));
    await runLazyApp();
    expect(readFileSync(file).equals(Buffer.alloc(4096, 7))).toBe(false);
  });

  it('is not read nor written in a folder others can write to', async () => {
    mkdirSync(dir(), { recursive: true });
    chmodSync(dir(), 0o777);
    await runLazyApp();
    expect(files()).toEqual([]);
  });

  it('is off with NODE_DISABLE_COMPILE_CACHE', async () => {
    await runLazyApp({ NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(files()).toEqual([]);
  });
});
