// `db.query.summary` (semantic conventions, "Generating a summary of the query"): the
// operations and their targets in the order they appear, e.g. `INSERT orders SELECT carts`.
// It is the span name and the only statement-derived metric attribute, so it must be low
// cardinality and never contain a literal: it is built from keywords and identifiers only.
// One pass over the shared lexer's tokens with small state machines (summary/); no parse tree.
import { readDialect, readMaxLength, StatementCache, type SqlDialect } from './lexer.js';
import { Summarizer } from './summary/summarizer.js';
import { OTHER_SUMMARY } from './summary/writer.js';

export interface SummarizeOptions {
  /**
   * How quotes, comments and escapes are read (see SanitizeOptions.dialect).
   * @default 'postgresql'
   */
  dialect?: SqlDialect;
  /**
   * Longest summary in characters; it is cut before the operation or target that would
   * not fit.
   * @default 255
   */
  maxLength?: number;
}

export interface QuerySummary {
  /** `db.query.summary`: `SELECT users orders`, `INSERT orders SELECT carts`, or `OTHER`. */
  readonly summary: string;
  /** `db.operation.name`: the main operation of the first statement, upper case. */
  readonly operation?: string;
  /** `db.collection.name`: set only when exactly one collection is involved. */
  readonly collection?: string;
}

export const DEFAULT_SUMMARY_MAX_LENGTH = 255;
export { OTHER_SUMMARY };

const summarizer = new Summarizer();
const caches = {
  postgresql: new StatementCache<QuerySummary>(),
  mysql: new StatementCache<QuerySummary>(),
  other: new StatementCache<QuerySummary>(),
};
const OTHER: QuerySummary = Object.freeze({ summary: OTHER_SUMMARY, operation: undefined, collection: undefined });

/**
 * Builds `db.query.summary` from SQL text: `{operation} {target} {operation} {target}…` in
 * the order they appear, e.g. `SELECT users orders`, `INSERT orders SELECT carts`,
 * `CREATE TABLE users`, `BEGIN`, and `OTHER` when nothing is recognised. Operations are upper
 * case; targets are identifiers as written (quotes removed), never literals. The result is
 * frozen (it may be shared with other calls). Never throws.
 */
export function summarizeSql(sql: string, options?: SummarizeOptions): QuerySummary {
  if (typeof sql !== 'string') return OTHER;
  const dialect = readDialect(options?.dialect);
  const max = readMaxLength(options?.maxLength, DEFAULT_SUMMARY_MAX_LENGTH);
  const cache = max === DEFAULT_SUMMARY_MAX_LENGTH ? caches[dialect] : undefined;
  let result = cache?.get(sql);
  if (result !== undefined) return result;
  try {
    result = Object.freeze(summarizer.run(sql, dialect, max));
  } catch {
    return OTHER;
  }
  cache?.set(sql, result);
  return result;
}
