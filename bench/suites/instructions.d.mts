// Types of the parts of instructions.mjs that tests use.

export interface InstructionsRun {
  round: number;
  contender: string;
  valid: boolean;
  perRequest?: number;
  [key: string]: unknown;
}

export interface InstructionsRow {
  name: string;
  value: number | undefined;
  range: [number, number] | undefined;
  added: number | undefined;
  ratio: number | undefined;
  valid: number;
  runs: number;
}

export const WARMUP_REQUESTS: number;
export const MEASURED_REQUESTS: number;

export function summarizeInstructions(runs: InstructionsRun[]): InstructionsRow[];

export function insightShare(rows: InstructionsRow[]): { added: number; fraction: number } | undefined;
