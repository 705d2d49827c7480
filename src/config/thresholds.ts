import type { InsightThresholds } from '../insight/processor.js';
import { range, type Kind } from './kinds.js';

// One rule per alert threshold, whoever sets it: HEALTHSPAN_SLOW_REQUEST_MS and friends (env or
// start()), setThresholds() and PUT /thresholds. Milliseconds start at 1: a threshold under a
// millisecond would call every request slow, and `requestMs: 0.5` is far more often seconds
// written where milliseconds are meant than a real wish. Shares start at 0.0001 (one in ten
// thousand): below that a rule judged on a window's requests fires on any single error anyway.
// One object per field, so that the env setting of a threshold is found by its rule (docs.ts).
const MS = () => range({ min: 1, max: 3_600_000, unit: 'ms' });
const SHARE = () => range({ min: 0.0001, max: 1, unit: 'share' });
const COUNT = () => range({ min: 1, max: 1_000_000, integer: true });

/** The rule of each threshold; `routes` is the rule of every per-route value. In the order errors list them. */
export const THRESHOLD_RULES: { readonly [K in keyof InsightThresholds]-?: Kind<number> } = {
  requestMs: MS(),
  routes: MS(),
  queryMs: MS(),
  errorRate: SHARE(),
  errorMinSamples: COUNT(),
  heapRatio: SHARE(),
  eventLoopP99Ms: MS(),
  rssRatio: SHARE(),
};

const FIELDS = Object.keys(THRESHOLD_RULES) as (keyof InsightThresholds)[];

export type CheckedThresholds = { thresholds: Partial<InsightThresholds>; problem?: undefined } | { problem: string };

/**
 * Checks threshold changes as a whole: every field known, every value a number in its range.
 * Returns the changes to apply (fields given as undefined dropped) or the first problem, which
 * names the field, the bad value and the allowed range. Nothing is applied on a problem.
 */
export function checkThresholds(changes: unknown): CheckedThresholds {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes))
    return { problem: 'the thresholds must be an object, e.g. {"requestMs": 500}' };
  const out: Partial<InsightThresholds> = {};
  for (const field of Object.keys(changes)) {
    if (!(FIELDS as string[]).includes(field)) return { problem: `unknown field ${JSON.stringify(field)}; the thresholds are ${FIELDS.join(', ')}` };
  }
  for (const [field, value] of Object.entries(changes) as [keyof InsightThresholds, unknown][]) {
    if (value === undefined) continue;
    if (field === 'routes') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'routes must be an object of "METHOD /route": milliseconds' };
      for (const [route, ms] of Object.entries(value)) {
        const problem = outOfRange(`routes[${JSON.stringify(route)}]`, THRESHOLD_RULES.routes, ms);
        if (problem) return { problem };
      }
      out.routes = { ...(value as Record<string, number>) };
    } else {
      const problem = outOfRange(field, THRESHOLD_RULES[field], value);
      if (problem) return { problem };
      out[field] = value as number;
    }
  }
  return { thresholds: out };
}

/** JSON numbers only: a string here is a client bug, not a value to coerce. */
function outOfRange(field: string, rule: Kind<number>, value: unknown): string | undefined {
  if (typeof value === 'number' && rule.parse(value, { option: true, leftOut: () => {} }) !== undefined) return undefined;
  return `${field} must be ${rule.expected} (got ${typeof value === 'number' ? String(value) : JSON.stringify(value)})`;
}
