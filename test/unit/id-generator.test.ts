import { describe, expect, it } from 'vitest';
import { PooledIdGenerator } from '../../src/sdk/id-generator.js';

describe('PooledIdGenerator', () => {
  it('makes 32- and 16-digit lowercase hex ids, all distinct, across many pool refills', () => {
    const g = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      traces.add(g.generateTraceId());
      spans.add(g.generateSpanId());
    }
    expect(traces.size).toBe(20_000);
    expect(spans.size).toBe(20_000);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('never returns an all-zero (invalid) id', () => {
    const g = new PooledIdGenerator();
    // An all-zero stretch of the pool, as a random fill could (astronomically rarely) give.
    const internals = g as unknown as { pool: Buffer; offset: number };
    g.generateSpanId();
    internals.pool.fill(0);
    internals.offset = 0;
    expect(g.generateTraceId()).toBe(`${'0'.repeat(31)}1`);
    expect(g.generateSpanId()).toBe(`${'0'.repeat(15)}1`);
  });
});
