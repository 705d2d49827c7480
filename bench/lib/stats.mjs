// Small, dependency-free statistics for benchmark rounds.

/** Median of the finite numbers in `values`; undefined when there are none. */
export function median(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** [min, max] of the finite numbers in `values`; undefined when there are none. */
export function range(values) {
  const xs = values.filter((v) => Number.isFinite(v));
  return xs.length ? [Math.min(...xs), Math.max(...xs)] : undefined;
}

/** Formats a number with `digits` decimals, or '–' when missing. */
export function fmt(value, digits = 0) {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** One contender's runs: the valid ones, a picker over them, and the counts every report shows. */
export function contenderRuns(runs, name) {
  const all = runs.filter((r) => r.contender === name);
  const ok = all.filter((r) => r.valid);
  return {
    ok,
    pick: (key) => ok.map((r) => r[key]),
    counts: { runs: all.length, valid: ok.length, invalidReasons: [...new Set(all.filter((r) => !r.valid).map((r) => r.invalid))] },
  };
}

/** The valid runs of each round, by contender (the first valid one where a contender ran twice): `Map<round, { [contender]: run }>`. */
export function validRunsByRound(runs) {
  const rounds = new Map();
  for (const r of runs) {
    if (!r.valid) continue;
    let round = rounds.get(r.round);
    if (!round) rounds.set(r.round, (round = {}));
    round[r.contender] ??= r;
  }
  return rounds;
}
