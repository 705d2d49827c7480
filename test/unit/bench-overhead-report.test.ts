// The overhead report's verdicts: the medians decide; "by round" says how many rounds, each
// taken on its own, are within the target (bench/suites/overhead-report.mjs).
import { describe, expect, it } from 'vitest';
import { byRound, summarizeOverhead, TARGETS, type OverheadRun } from '../../bench/suites/overhead-report.mjs';
import { validRunsByRound } from '../../bench/lib/stats.mjs';

const run = (round: number, contender: string, cpuUsPerReq: number, valid = true): OverheadRun => ({
  round,
  contender,
  valid,
  cpuUsPerReq,
  rssMb: 100,
  p99Ms: 5,
  reqPerSec: 1000,
  serverCpuBusy: 0.9,
  startupMs: 50,
  modules: 3,
  spansPerReq: 1,
});
const cpuPg = TARGETS.find((t) => t.id === 'cpu-pg')!;

describe('overhead report, by round', () => {
  // Round 1: 20/50 = 0.4; round 2: 40/50 = 0.8; round 3: 10/40 = 0.25; round 4 has no valid upstream run.
  const runs = [
    run(1, 'bare', 50),
    run(1, 'healthspan', 70),
    run(1, 'upstream', 100),
    run(2, 'bare', 60),
    run(2, 'healthspan', 100),
    run(2, 'upstream', 110),
    run(3, 'bare', 40),
    run(3, 'healthspan', 50),
    run(3, 'upstream', 80),
    run(4, 'bare', 40),
    run(4, 'healthspan', 45),
    run(4, 'upstream', 1, false),
  ];

  it('counts the rounds within the target and their range, leaving out rounds without all three valid runs', () => {
    const r = byRound(runs, cpuPg)!;
    expect(r.rounds).toBe(3);
    expect(r.within).toBe(2);
    expect(r.range[0]).toBeCloseTo(0.25, 10);
    expect(r.range[1]).toBeCloseTo(0.8, 10);
  });

  it('leaves the verdict to the medians and carries the by-round figures beside it', () => {
    // Medians: bare 45, healthspan 60 (4 runs: 45, 50, 70, 100), upstream 100 (3 valid: 80, 100, 110).
    const { targets } = summarizeOverhead(runs, 'pg');
    expect(targets['cpu-pg']?.status).toBe('PASS');
    expect(targets['cpu-pg']?.fraction).toBeCloseTo(15 / 55, 10);
    expect(targets['cpu-pg']?.byRound).toEqual({ rounds: 3, within: 2, range: [0.25, 0.8] });
  });

  it('has no by-round figure for a target that is a bound on our own figure', () => {
    const { targets } = summarizeOverhead(runs, 'hello');
    expect(targets.startup?.byRound).toBeUndefined();
    expect(targets.startup?.status).toBe('PASS');
  });
});

describe('validRunsByRound', () => {
  it('keeps the first valid run of each contender in each round and leaves out invalid ones', () => {
    const rounds = validRunsByRound([run(1, 'bare', 50, false), run(1, 'bare', 51), run(1, 'bare', 52), run(2, 'on', 9), run(3, 'off', 1, false)]);
    expect([...rounds.keys()]).toEqual([1, 2]);
    expect(rounds.get(1)?.bare?.cpuUsPerReq).toBe(51);
    expect(rounds.get(2)?.on?.cpuUsPerReq).toBe(9);
  });
});
