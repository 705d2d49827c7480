import type { ConfigProblem } from './types.js';
import { HEALTH_COMPONENTS } from './values.js';

/** What a parser may need besides the value. */
export interface ParseContext {
  /** The value is a `start()` option (typed), not an env string. */
  option: boolean;
  /** Reports one entry of a list as left out; the rest of the list is kept. */
  leftOut(entry: string, expected: string): void;
}

/**
 * The kind of a setting: its parser and the two texts made from the same rule, so that the
 * warning, the docs and the check cannot drift apart.
 */
export interface Kind<T> {
  /** The value, or undefined when it is invalid. Takes an env string or a typed option. */
  parse(v: unknown, ctx: ParseContext): T | undefined;
  /** In a warning, after "expected": what a valid value looks like. */
  expected: string;
  /** The same for a `start()` option, when it is written differently from the env string. */
  expectedOption?: string;
  /** The Type cell of docs/configuration.md. */
  docType: string;
  /** Numeric kinds: the inclusive bounds the parser enforces. */
  range?: { min: number; max: number; integer: boolean };
}

/** Where a value came from: `options.<path>` or an env var, and the value as written. */
export interface ValueSource {
  source: string;
  value: unknown;
  /** A `start()` option (typed), not an env string. */
  option: boolean;
}

/**
 * Reads settings from `start()` options and env vars, validates each with the same rule in
 * both cases, and records a problem (naming the source, the bad value and the value used
 * instead) rather than throwing.
 */
export class SettingReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  /** The trimmed env value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const v = this.env[name];
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' ? undefined : t;
  }

  problem(source: string, value: unknown, expected: string, used: unknown): void {
    // Shared variables (OTEL_EXPORTER_OTLP_*) are read once per signal: report them once.
    // A secret is never echoed, not even a malformed one: tokens, and exporter headers, whose
    // values are typically credentials (`authorization=Bearer …`, `api-key=…`).
    const shown = SECRET_SOURCE.test(source) ? `<${secretLength(value)} characters, not shown>` : quote(value);
    if (this.problems.some((p) => p.source === source && p.value === shown)) return;
    this.problems.push({ source, value: shown, expected, used: used === undefined ? 'none (the default)' : show(used) });
  }

  /** One entry of a list (`source`) is bad and is left out; the rest of the list is kept. */
  leftOut(source: string, value: string, expected: string): void {
    const shown = quote(value);
    if (this.problems.some((p) => p.source === source && p.value === shown)) return;
    this.problems.push({ source, value: shown, expected, used: '', leftOut: true });
  }

  /**
   * The first valid value among `sources` (the option, then the env vars in order), with
   * where it came from. A bad one is reported with the value used instead: the next source's
   * when one stands in (a bad option, a good env var), else `fallback`. An env var that is set
   * ends the search even when bad: a lower-priority variable never stands in.
   */
  pick<T>(kind: Kind<T>, sources: ValueSource[], fallback: T): { value: T; from?: ValueSource } {
    const bad: ValueSource[] = [];
    let picked: { value: T; from?: ValueSource } = { value: fallback };
    for (const s of sources) {
      const parsed = this.read(kind, s);
      if (parsed !== undefined) {
        picked = { value: parsed, from: s };
        break;
      }
      bad.push(s);
      if (!s.option) break;
    }
    for (const s of bad) this.problem(s.source, s.value, expectedOf(kind, s), picked.value);
    return picked;
  }

  /** Every valid value among `sources`, the lowest priority first (for merged objects). */
  all<T>(kind: Kind<T>, sources: ValueSource[], fallback: T): T[] {
    return sources.map((s) => this.parse(kind, s, fallback)).filter((v): v is T => v !== undefined);
  }

  private parse<T>(kind: Kind<T>, s: ValueSource, fallback: T): T | undefined {
    const parsed = this.read(kind, s);
    if (parsed === undefined) this.problem(s.source, s.value, expectedOf(kind, s), fallback);
    return parsed;
  }

  /** The source's value, or undefined when it is invalid (reported by the caller). */
  private read<T>(kind: Kind<T>, s: ValueSource): T | undefined {
    return kind.parse(s.value, { option: s.option, leftOut: (entry, expected) => this.leftOut(s.source, entry, expected) });
  }
}

function expectedOf<T>(kind: Kind<T>, s: ValueSource): string {
  return (s.option && kind.expectedOption) || kind.expected;
}

/** Sources whose values are not echoed in problem messages (env names and option paths). */
const SECRET_SOURCE = /token|headers/i;

function secretLength(v: unknown): number {
  if (typeof v === 'string') return v.length;
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return 0;
  }
}

function quote(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : show(v);
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length ? v.map(show).join(',') : 'none';
  if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) return 'none';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The warning line: the setting, its bad value, what was expected and what is used instead. */
export function formatProblem(p: ConfigProblem): string {
  return `${describeProblem(p)}; ${p.leftOut ? 'it is left out' : `using ${p.used}`}`;
}

/** The problem alone, without a fallback (HEALTHSPAN_STRICT=true uses none: nothing starts). */
export function describeProblem(p: ConfigProblem): string {
  return `${p.source}=${p.value} is invalid (expected ${p.expected})`;
}

// Parsers: each accepts either the env string or a typed option value.

export const parseBool = (v: unknown): boolean | undefined => {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes' || s === 'on') return true;
  if (s === 'false' || s === '0' || s === 'no' || s === 'off') return false;
  return undefined;
};

export const intIn =
  (min: number, max: number) =>
  (v: unknown): number | undefined => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  };

export const numberIn =
  (min: number, max: number) =>
  (v: unknown): number | undefined => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
  };

export const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): T | undefined => {
    if (typeof v !== 'string') return undefined;
    const s = v.trim().toLowerCase();
    return (values as readonly string[]).includes(s) ? (s as T) : undefined;
  };

/** A comma list (env) or string array (option) whose every entry is in `values`. */
export const listOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): T[] | undefined => {
    const items = toList(v);
    if (!items) return undefined;
    const lower = items.map((s) => s.toLowerCase());
    return lower.every((s) => (values as readonly string[]).includes(s)) ? [...new Set(lower as T[])] : undefined;
  };

export const stringList = (v: unknown): string[] | undefined => toList(v);

function toList(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.every((s) => typeof s === 'string') ? v.map((s) => s.trim()).filter(Boolean) : undefined;
  if (typeof v !== 'string') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const nonEmptyString = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

export const httpUrl = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
};

export const hostName = (v: unknown): string | undefined => (typeof v === 'string' && /^[A-Za-z0-9.:\-[\]]+$/.test(v.trim()) ? v.trim() : undefined);

export const urlPath = (v: unknown): string | undefined => (typeof v === 'string' && /^\/[\w\-./]*$/.test(v.trim()) ? v.trim() : undefined);

/**
 * W3C-baggage-style `key=value,key2=value2` (OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_RESOURCE_ATTRIBUTES); values are percent-decoded. Any malformed entry rejects the
 * whole value, so a typo is reported instead of half-applied.
 */
export const keyValueList = (v: unknown): Record<string, string> | undefined => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.every(([, val]) => typeof val === 'string') ? Object.fromEntries(entries as [string, string][]) : undefined;
  }
  if (typeof v !== 'string') return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
    if (key === '') return undefined;
    out[key] = value;
  }
  return out;
};

type HealthWeightName = (typeof HEALTH_COMPONENTS)[number];
export const HEALTH_WEIGHT_MAX = 1000;

/**
 * Health weights: `responseTime=30,errors=25` (env) or `{ responseTime: 30 }` (option); names
 * from the five components, numbers from 0 to HEALTH_WEIGHT_MAX.
 */
export const healthWeights = (v: unknown): Partial<Record<HealthWeightName, number>> | undefined => {
  let entries: [string, unknown][];
  if (typeof v === 'string') {
    const parts = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    entries = [];
    for (const part of parts) {
      const m = /^(\w+)\s*=\s*(.+)$/.exec(part);
      if (!m) return undefined;
      entries.push([m[1], m[2].trim() === '' ? NaN : Number(m[2])]);
    }
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    entries = Object.entries(v);
  } else return undefined;
  if (entries.length === 0) return undefined;
  const out: Partial<Record<HealthWeightName, number>> = {};
  for (const [name, w] of entries) {
    if (!(HEALTH_COMPONENTS as readonly string[]).includes(name)) return undefined;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > HEALTH_WEIGHT_MAX) return undefined;
    out[name as HealthWeightName] = w;
  }
  return out;
};

export const ADMIN_TOKEN_LENGTH = { min: 16, max: 512 } as const;
const TOKEN_PATTERN = new RegExp(`^[\\x21-\\x7e]{${ADMIN_TOKEN_LENGTH.min},${ADMIN_TOKEN_LENGTH.max}}$`);

/** An admin token: visible ASCII characters, no spaces (it travels in a Bearer header). */
export const adminToken = (v: unknown): string | undefined => (typeof v === 'string' && TOKEN_PATTERN.test(v.trim()) ? v.trim() : undefined);
