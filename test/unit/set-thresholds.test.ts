import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHealth, setThresholds, shutdown, start } from '../../src/index.js';

beforeAll(() => {
  start({ traces: { exporter: 'none' }, metrics: { exporters: [] }, instrumentations: [], resourceDetectors: [], logLevel: 'none', insight: { healthWeights: { resources: 0 } } });
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
    [{ requestMs: -1 }, 'setThresholds: requestMs must be a number of milliseconds from 0 to 3600000 (got -1)'],
    [{ queryMs: 'fast' }, 'setThresholds: queryMs must be a number of milliseconds from 0 to 3600000 (got "fast")'],
    [{ routes: { 'GET /x': 0 } }, 'setThresholds: routes["GET /x"] must be a number of milliseconds from 0 to 3600000 (got 0)'],
    [{ errorRate: 5 }, 'setThresholds: errorRate must be a share from 0 to 1 (got 5)'],
    [{ errorMinSamples: 0.5 }, 'setThresholds: errorMinSamples must be a positive integer (got 0.5)'],
  ])('refuses %j, naming the field', (changes, message) => {
    expect(() => setThresholds(changes as never)).toThrow(message);
    expect(setThresholds({})).toMatchObject({ requestMs: 300 });
  });
});
