// Types of the parts of overhead-report.mjs that tests use.

export interface OverheadRun {
  round: number;
  contender: string;
  valid: boolean;
  cpuUsPerReq?: number;
  rssMb?: number;
  p99Ms?: number;
  [key: string]: unknown;
}

export interface OverheadTarget {
  id: string;
  label: string;
  metric: string;
  maxFraction?: number;
  absoluteMax?: number;
  endpoints?: string[];
}

export const TARGETS: OverheadTarget[];

export function byRound(runs: OverheadRun[], target: OverheadTarget): { rounds: number; within: number; range: [number, number] } | undefined;

export function summarizeOverhead(
  runs: OverheadRun[],
  endpoint?: string,
): {
  contenders: Record<string, Record<string, unknown>>;
  targets: Record<string, { status: string; text: string; fraction?: number; byRound?: ReturnType<typeof byRound> }>;
};
