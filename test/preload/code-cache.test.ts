import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, runScript } from './child.ts';

// The preload compiles dist/index.cjs, and the files of dist/vendor/ it loads, from a V8 code
// cache of its own (src/register/load-main.ts).
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
  it('is written by the first start (at exit for a short process) and used as it is by the next, for each file loaded', async () => {
    // Prometheus metrics (not served): the start loads the metrics chunk of dist/vendor/.
    const metrics = { OTEL_METRICS_EXPORTER: 'prometheus', HEALTHSPAN_PROMETHEUS_SERVE: 'false' };
    await runLazyApp(metrics);
    // The main bundle, the metrics chunk, and the pg instrumentation that the app's require('pg') loaded.
    const names = files().sort();
    expect(names.map((f) => f.replace(/^v[\d.]+-[a-z0-9]+-(.+)-[0-9a-f]{8}\.v8cache$/, '$1'))).toEqual(['index', 'instrumentation-pg', 'metrics']);
    expect(statSync(dir()).mode & 0o777).toBe(0o700);
    const first = names.map((f) => statSync(path.join(dir(), f)));
    for (const st of first) expect(st.mode & 0o777).toBe(0o600);
    await runLazyApp(metrics);
    // Accepted by V8: not written again.
    expect(files().sort()).toEqual(names);
    names.forEach((f, i) => {
      const st = statSync(path.join(dir(), f));
      expect(st.mtimeMs).toBe(first[i]!.mtimeMs);
      expect(st.ino).toBe(first[i]!.ino);
    });
  });

  it('is replaced when V8 rejects it, and the app runs as usual', async () => {
    await runLazyApp();
    const file = path.join(dir(), files().find((f) => f.includes('-index-'))!);
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
