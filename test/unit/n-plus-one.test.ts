import { describe, expect, it } from 'vitest';
import { NPlusOneDetector, type QueryObservation } from '../../src/insight/n-plus-one.js';

const q = (i: number, over: Partial<QueryObservation> = {}): QueryObservation => ({
  traceId: 't1',
  parentSpanId: 'p1',
  key: 'postgresql SELECT * FROM orders WHERE id = $1',
  summary: 'SELECT orders',
  startMs: i * 20,
  endMs: i * 20 + 12,
  ...over,
});

describe('NPlusOneDetector', () => {
  it('reports a loop once its trace is over, with its whole length and time', () => {
    const d = new NPlusOneDetector();
    for (let i = 0; i < 12; i++) d.observe(q(i));
    expect(d.endTrace('t1')).toEqual([
      { traceId: 't1', parentSpanId: 'p1', key: 'postgresql SELECT * FROM orders WHERE id = $1', summary: 'SELECT orders', queries: 12, totalMs: 144 },
    ]);
    expect(d.endTrace('t1')).toBeUndefined(); // forgotten
    expect(d.size).toBe(0);
  });

  it('reports a fast loop too (12 × 0.5 ms): how fast is for the severity to say, not for detection', () => {
    const d = new NPlusOneDetector();
    for (let i = 0; i < 12; i++) d.observe(q(i, { startMs: i, endMs: i + 0.5 }));
    expect(d.endTrace('t1')).toMatchObject([{ queries: 12, totalMs: 6 }]);
  });

  it('does not report 4 repeats, nor queries that run in parallel', () => {
    const d = new NPlusOneDetector();
    for (let i = 0; i < 4; i++) d.observe(q(i));
    for (let i = 0; i < 6; i++) d.observe(q(0, { traceId: 't2', startMs: 0, endMs: 30 }));
    expect(d.endTrace('t1')).toBeUndefined();
    expect(d.endTrace('t2')).toBeUndefined();
  });

  it('keeps statements, parents and traces apart: three different queries are not an N+1', () => {
    const d = new NPlusOneDetector();
    for (let i = 0; i < 6; i++) d.observe(q(i, { key: `postgresql SELECT * FROM t${i % 3}` }));
    for (let i = 0; i < 4; i++) d.observe(q(10 + i, { parentSpanId: 'p2' }));
    for (let i = 0; i < 4; i++) d.observe(q(20 + i, { traceId: 't2' }));
    expect(d.endTrace('t1')).toBeUndefined();
    expect(d.endTrace('t2')).toBeUndefined();
  });

  it('counts the longest sequential run when a loop is interrupted by a parallel batch', () => {
    const d = new NPlusOneDetector();
    for (let i = 0; i < 7; i++) d.observe(q(i));
    d.observe(q(7, { startMs: 100, endMs: 200 })); // overlaps the last one: a new run
    for (let i = 0; i < 2; i++) d.observe(q(11 + i));
    expect(d.endTrace('t1')).toMatchObject([{ queries: 7 }]);
  });

  it('bounds the groups it tracks, counting what it forgets', () => {
    const d = new NPlusOneDetector({ maxGroups: 100 });
    for (let i = 0; i < 1000; i++) d.observe(q(0, { traceId: `t${i}` }));
    expect(d.size).toBe(100);
    expect(d.evicted).toBe(900);
    d.endTrace('t999');
    expect(d.size).toBe(99);
  });
});
