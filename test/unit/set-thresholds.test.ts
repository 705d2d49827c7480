import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHealth, readConfigFromEnv, setThresholds, shutdown, start } from '../../src/index.js';

beforeAll(() => {
  start({
    traces: { exporter: 'none' },
    metrics: { exporters: [] },
    instrumentations: [],
    resourceDetectors: [],
    logLevel: 'none',
    insight: { healthWeights: { resources: 0 } },
  });
});
afterAll(() => shutdown());

describe('health options from start()', () => {
  it('passes the configured weights to the score: resources weighted 0 is left out', () => {
    // Only the runtime snapshot has data here, and it is weighted 0: nothing to score.
    expect(getHealth()).toMatchObject({ score: undefined, status: 'unknown', components: [] });
  });
});

describe('setThresholds', () => {
  it('applies valid changes at once and returns the thresholds in force', () => {
    expect(setThresholds({ requestMs: 300, errorRate: 0.01, routes: { 'GET /report': 5000 } })).toMatchObject({
      requestMs: 300,
      queryMs: 100,
      errorRate: 0.01,
      routes: { 'GET /report': 5000 },
    });
  });

  it.each([
    [{ requestMs: -1 }, 'setThresholds: requestMs must be milliseconds from 1 to 3600000 (got -1)'],
    [{ queryMs: 'fast' }, 'setThresholds: queryMs must be milliseconds from 1 to 3600000 (got "fast")'],
    [{ routes: { 'GET /x': 0 } }, 'setThresholds: routes["GET /x"] must be milliseconds from 1 to 3600000 (got 0)'],
    [{ errorRate: 5 }, 'setThresholds: errorRate must be a share from 0.0001 to 1 (got 5)'],
    [{ errorMinSamples: 0.5 }, 'setThresholds: errorMinSamples must be an integer from 1 to 1000000 (got 0.5)'],
    // Refused since the one rule for env, setThresholds() and PUT /thresholds (CHANGELOG, Changed):
    [{ requestMs: 0.5 }, 'setThresholds: requestMs must be milliseconds from 1 to 3600000 (got 0.5)'],
    [{ eventLoopP99Ms: 0.2 }, 'setThresholds: eventLoopP99Ms must be milliseconds from 1 to 3600000 (got 0.2)'],
    [{ errorRate: 0.00005 }, 'setThresholds: errorRate must be a share from 0.0001 to 1 (got 0.00005)'],
    [{ errorMinSamples: 2_000_000 }, 'setThresholds: errorMinSamples must be an integer from 1 to 1000000 (got 2000000)'],
    [
      { bogus: 1 },
      'setThresholds: unknown field "bogus"; the thresholds are requestMs, routes, queryMs, errorRate, errorMinSamples, heapRatio, eventLoopP99Ms, rssRatio',
    ],
    [{ routes: [1] }, 'setThresholds: routes must be an object of "METHOD /route": milliseconds'],
    [{ routes: null }, 'setThresholds: routes must be an object of "METHOD /route": milliseconds'],
    [{ requestMs: 500, queryMs: -1 }, 'setThresholds: queryMs must be milliseconds from 1 to 3600000 (got -1)'],
  ])('refuses %j, naming the field, the value and the range', (changes, message) => {
    expect(() => setThresholds(changes as never)).toThrow(message);
    // Nothing of a refused change is applied.
    expect(setThresholds({})).toMatchObject({ requestMs: 300 });
  });

  it('accepts the bounds of each range', () => {
    expect(setThresholds({ requestMs: 1, queryMs: 3_600_000, errorRate: 0.0001, heapRatio: 1, errorMinSamples: 1_000_000 })).toMatchObject({
      requestMs: 1,
      queryMs: 3_600_000,
      errorRate: 0.0001,
      heapRatio: 1,
      errorMinSamples: 1_000_000,
    });
    expect(setThresholds({ requestMs: 300, queryMs: 100, errorRate: 0.01, heapRatio: 0.85, errorMinSamples: 20 })).toMatchObject({ requestMs: 300 });
  });

  it('ignores a field given as undefined instead of blanking it', () => {
    expect(setThresholds({ requestMs: undefined, queryMs: 120 })).toMatchObject({ requestMs: 300, queryMs: 120 });
    setThresholds({ queryMs: 100 });
  });
});

// The same value gets the same verdict as an env var, from setThresholds() and (through the same
// check) from PUT /thresholds: one rule, named the same way.
describe('one threshold rule for env and setThresholds()', () => {
  const cases = [
    ...[0.5, 1, 250.5, 3_600_000, 3_600_001].map((v) => ['HEALTHSPAN_SLOW_REQUEST_MS', 'requestMs', v] as const),
    ...[0, 1, 3_600_000, 3_600_000.5].map((v) => ['HEALTHSPAN_SLOW_QUERY_MS', 'queryMs', v] as const),
    ...[0, 0.00005, 0.0001, 0.5, 1, 1.01].map((v) => ['HEALTHSPAN_ERROR_RATE', 'errorRate', v] as const),
  ];
  it.each(cases.map(([env, field, v]) => [`${env}=${v}`, env, field, v] as const))('%s', (_title, env, field, v) => {
    const problems = readConfigFromEnv({ [env]: String(v) }).problems;
    let thrown: string | undefined;
    try {
      setThresholds({ [field]: v });
    } catch (err) {
      thrown = (err as Error).message;
    }
    expect(thrown === undefined).toBe(problems.length === 0);
    if (thrown) expect(thrown).toBe(`setThresholds: ${field} must be ${problems[0].expected} (got ${v})`);
  });
});
