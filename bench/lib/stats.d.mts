// Types of the parts of stats.mjs that tests use.

export function validRunsByRound<R extends { round: number; contender: string; valid: boolean }>(runs: R[]): Map<number, Record<string, R | undefined>>;
