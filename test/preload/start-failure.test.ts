import { describe, expect, it } from 'vitest';
import { fixture, runScript } from './child.ts';

describe('a fault inside start-up', () => {
  it.each([['--import'], ['--require']])('costs the telemetry, not the app (%s)', async (flag) => {
    const r = await runScript(['--require', fixture('break-async-local-storage.cjs'), flag, 'healthspan/register'], fixture('plain-work.cjs'), {
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_TRACES_EXPORTER: 'none',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('answer pong\n');
    expect(r.stderr).toBe('healthspan: error: healthspan could not start (AsyncLocalStorage is not available here); the app runs without telemetry\n');
  });
});
