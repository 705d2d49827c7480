import { describe, expect, it } from 'vitest';
import { NPlusOneDetector, type QueryObservation } from '../../src/insight/n-plus-one.js';

const q = (i: number, over: Partial<QueryObservation> = {}): QueryObservation => ({
  traceId: 't1',
  parentSpanId: 'p1',
  summary: 'SELECT orders',
  startMs: i * 20,
  endMs: i * 20 + 12,
  ...over,
});

describe('NPlusOneDetector', () => {
  it('reports 5 sequential queries of one summary under one parent totalling over 50 ms, once', () => {
    const d = new NPlusOneDetector();
    const seen = [0, 1, 2, 3, 4, 5, 6].map((i) => d.observe(q(i)));
    expect(seen.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(seen[4]).toEqual({ traceId: 't1', parentSpanId: 'p1', summary: 'SELECT orders', queries: 5, totalMs: 60 });
    expect(seen.slice(5)).toEqual([undefined, undefined]);
  });

  it('does not report fast repeats (total under 50 ms)', () => {
    const d = new NPlusOneDetector();
    const seen = [0, 1, 2, 3, 4, 5].map((i) => d.observe(q(i, { endMs: i * 20 + 5 })));
    expect(seen.every((s) => s === undefined)).toBe(true);
  });

  it('does not count queries that run in parallel', () => {
    const d = new NPlusOneDetector();
    const seen = [0, 1, 2, 3, 4, 5].map((i) => d.observe(q(i, { startMs: 0, endMs: 30 })));
    expect(seen.every((s) => s === undefined)).toBe(true);
  });

  it('keeps summaries, parents and traces apart', () => {
    const d = new NPlusOneDetector();
    const mixed = [
      q(0),
      q(1, { summary: 'SELECT users' }),
      q(2, { parentSpanId: 'p2' }),
      q(3, { traceId: 't2' }),
      q(4),
      q(5),
      q(6),
    ].map((x) => d.observe(x));
    expect(mixed.every((s) => s === undefined)).toBe(true);
    expect(d.observe(q(7))).toMatchObject({ queries: 5 });
  });

  it('bounds the groups it tracks, counting what it forgets, and forgets a parent that ended', () => {
    const d = new NPlusOneDetector({ maxGroups: 100 });
    for (let i = 0; i < 1000; i++) d.observe(q(0, { parentSpanId: `p${i}` }));
    expect(d.size).toBe(100);
    expect(d.evicted).toBe(900);
    d.endParent('t1', 'p999');
    expect(d.size).toBe(99);
  });
});
