// The instructions suite's summary: medians per contender, added over bare, the fraction of
// upstream's added, and what insight adds (healthspan against healthspan-insight-off).
import { describe, expect, it } from 'vitest';
import { insightShare, summarizeInstructions, type InstructionsRun } from '../../bench/suites/instructions.mjs';

const run = (round: number, contender: string, perRequest: number, valid = true): InstructionsRun => ({ round, contender, valid, perRequest });

describe('instructions report', () => {
  // Per contender, its runs' instructions per request by round (null: an invalid run).
  const counts: Record<string, (number | null)[]> = {
    bare: [60_000, 62_000],
    healthspan: [112_000, 114_000],
    'healthspan-insight-off': [106_000, 108_000, null],
    upstream: [230_000, 232_000],
  };
  const runs = Object.entries(counts).flatMap(([contender, values]) =>
    values.map((v, i) => (v === null ? run(i + 1, contender, 1, false) : run(i + 1, contender, v))),
  );
  const rows = summarizeInstructions(runs);
  const row = (name: string) => rows.find((r) => r.name === name)!;

  it('takes medians of the valid runs, adds over bare and compares with upstream', () => {
    expect(row('bare').value).toBe(61_000);
    expect(row('healthspan').added).toBe(52_000);
    expect(row('healthspan').ratio).toBeCloseTo(52_000 / 170_000, 12);
    expect(row('healthspan-insight-off')).toMatchObject({ value: 107_000, valid: 2, runs: 3 });
  });

  it('says what insight adds, as a fraction of the count with insight off', () => {
    expect(insightShare(rows)).toEqual({ added: 6_000, fraction: 6_000 / 107_000 });
  });

  it('has nothing to say of insight without an insight-off run', () => {
    expect(insightShare(summarizeInstructions(runs.filter((r) => r.contender !== 'healthspan-insight-off')))).toBeUndefined();
  });
});
