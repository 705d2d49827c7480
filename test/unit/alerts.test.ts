import { describe, expect, it } from 'vitest';
import { AlertEngine, severityOf, type Alert, type Transition } from '../../src/insight/alerts.js';

function engine(options: { cooldownMs?: number; resolveAfterMs?: number; historyLimit?: number; maxTracked?: number } = {}) {
  let now = 0;
  const log: string[] = [];
  const e = new AlertEngine({
    cooldownMs: 10_000,
    resolveAfterMs: 5_000,
    ...options,
    now: () => now,
    onTransition: (a: Alert, t: Transition) => log.push(`${t} ${a.rule} ${a.key} ${a.severity}`),
  });
  return { e, log, tick: (ms: number) => (now += ms) };
}

describe('severityOf', () => {
  it.each([
    [0.5, undefined],
    [1, undefined],
    [1.01, 'low'],
    [1.5, 'low'],
    [1.51, 'medium'],
    [2, 'medium'],
    [2.01, 'high'],
    [3, 'high'],
    [3.01, 'critical'],
  ])('ratio %s → %s', (ratio, want) => {
    expect(severityOf(ratio)).toBe(want);
  });

  it('fires at the threshold itself when inclusive (counts such as N+1)', () => {
    expect(severityOf(1, true)).toBe('low');
  });
});

describe('AlertEngine', () => {
  it('fires once past the threshold, with the exemplar trace, and stays quiet while it fires', () => {
    const { e, log, tick } = engine();
    expect(e.evaluate('slow_request', 'GET /a', 900, 1000)).toBeUndefined();
    const a = e.evaluate('slow_request', 'GET /a', 1200, 1000, { exemplarTraceId: 't1' })!;
    expect(a).toMatchObject({ rule: 'slow_request', key: 'GET /a', severity: 'low', state: 'firing', observed: 1200, ratio: 1.2, exemplarTraceId: 't1' });
    tick(1000);
    expect(e.evaluate('slow_request', 'GET /a', 1300, 1000)).toBeUndefined();
    expect(log).toEqual(['fired slow_request GET /a low']);
    expect(e.active()).toHaveLength(1);
  });

  it('keeps the figure that fired or escalated it: observed, ratio and message describe one evaluation', () => {
    const { e, tick } = engine();
    const msg = (v: number) => ({ message: `slow route GET /a: p95 ${v} ms over 1000 ms` });
    e.evaluate('slow_request', 'GET /a', 1200, 1000, msg(1200));
    tick(1000);
    e.evaluate('slow_request', 'GET /a', 1400, 1000, msg(1400)); // still low: no transition
    tick(1000);
    e.evaluate('slow_request', 'GET /a', 300, 1000, msg(300)); // recovering, not resolved yet
    expect(e.active()[0]).toMatchObject({ severity: 'low', observed: 1200, ratio: 1.2, message: 'slow route GET /a: p95 1200 ms over 1000 ms', lastAt: 2000 });
    e.evaluate('slow_request', 'GET /a', 2500, 1000, msg(2500));
    expect(e.active()[0]).toMatchObject({ severity: 'high', observed: 2500, ratio: 2.5, message: 'slow route GET /a: p95 2500 ms over 1000 ms' });
    e.evaluate('slow_query', 'q', 120, 100);
    e.evaluate('slow_query', 'q', 350, 100); // escalates without a message of its own
    expect(e.active().find((a) => a.key === 'q')).toMatchObject({ observed: 350, message: 'slow_query q: 350 over 100' });
  });

  it('escalates at once to a higher severity, never down', () => {
    const { e, log } = engine();
    e.evaluate('slow_query', 'postgresql SELECT users', 120, 100);
    e.evaluate('slow_query', 'postgresql SELECT users', 350, 100);
    e.evaluate('slow_query', 'postgresql SELECT users', 160, 100);
    expect(log).toEqual(['fired slow_query postgresql SELECT users low', 'escalated slow_query postgresql SELECT users critical']);
    expect(e.active()[0].severity).toBe('critical');
  });

  it('resolves by itself after the signal stays under 0.9x the threshold long enough', () => {
    const { e, log, tick } = engine();
    e.evaluate('error_rate', 'GET /a', 0.1, 0.05);
    e.evaluate('error_rate', 'GET /a', 0.04, 0.05); // 0.8x: the clock starts
    tick(3000);
    e.evaluate('error_rate', 'GET /a', 0.046, 0.05); // 0.92x: back in the band, the clock resets
    tick(3000);
    e.evaluate('error_rate', 'GET /a', 0.01, 0.05);
    tick(4999);
    e.evaluate('error_rate', 'GET /a', 0.01, 0.05);
    expect(e.active()).toHaveLength(1);
    tick(1);
    e.evaluate('error_rate', 'GET /a', 0.01, 0.05);
    expect(e.active()).toEqual([]);
    expect(e.history()[0]).toMatchObject({ state: 'resolved', resolvedBy: 'signal', resolvedAt: 11_000 });
    expect(log).toEqual(['fired error_rate GET /a medium', 'resolved error_rate GET /a medium']);
  });

  it('keeps a cooldown after resolution: the same severity stays quiet, a higher one fires', () => {
    const { e, log, tick } = engine();
    const a = e.evaluate('memory', 'heap', 0.9, 0.85)!;
    expect(e.resolve(a.id)).toBe(true);
    expect(e.resolve(a.id)).toBe(false);
    tick(1000);
    expect(e.evaluate('memory', 'heap', 0.9, 0.85)).toBeUndefined();
    expect(e.suppressed).toBe(1);
    expect(e.evaluate('memory', 'heap', 3, 0.85)?.severity).toBe('critical');
    tick(20_000);
    e.resolve(e.active()[0].id);
    tick(10_001);
    expect(e.evaluate('memory', 'heap', 0.9, 0.85)?.severity).toBe('low');
    expect(log).toEqual([
      'fired memory heap low',
      'resolved memory heap low',
      'fired memory heap critical',
      'resolved memory heap critical',
      'fired memory heap low',
    ]);
    expect(e.history().map((x) => x.resolvedBy)).toEqual(['hand', 'hand']);
  });

  it('bounds history and the number of tracked keys', () => {
    const { e } = engine({ historyLimit: 3, maxTracked: 10, cooldownMs: 0 });
    for (let i = 0; i < 50; i++) {
      const a = e.evaluate('slow_request', `GET /r${i}`, 2000, 1000)!;
      e.resolve(a.id);
    }
    expect(e.history().map((a) => a.key)).toEqual(['GET /r49', 'GET /r48', 'GET /r47']);
    expect((e as unknown as { tracks: Map<string, unknown> }).tracks.size).toBeLessThanOrEqual(10);
  });

  it('never lets a listener that throws break evaluation', () => {
    const e = new AlertEngine({
      onTransition: () => {
        throw new Error('listener bug');
      },
    });
    expect(e.evaluate('event_loop', 'p99', 300, 100)?.severity).toBe('high');
  });

  it('ignores a threshold that is not positive and observations that are not numbers', () => {
    const { e } = engine();
    expect(e.evaluate('slow_request', 'x', 10, 0)).toBeUndefined();
    expect(e.evaluate('slow_request', 'x', Number.NaN, 1)).toBeUndefined();
    expect(e.active()).toEqual([]);
  });
});
