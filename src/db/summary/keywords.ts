// The keywords the query summary recognises, with what each does where names are read.
import { CASE_BIT, LOWER_A, LOWER_Z, UNDERSCORE } from '../chars.js';
import { KeywordTable } from '../lexer.js';

/** What a keyword does in the summary (bit flags: a keyword may have several roles). */
export const Role = {
  /** Ends a table reference: never read as a table name or an alias. */
  Clause: 1,
  /** Skipped where a name is expected (INTO, ONLY, IF NOT EXISTS, …). */
  Noise: 2,
  /** A DDL object type (TABLE, INDEX, VIEW, …). */
  ObjectType: 4,
  /** A statement EXPLAIN may wrap. */
  Explainable: 8,
  /** May come between SELECT and MySQL's STRAIGHT_JOIN hint (`SELECT DISTINCT STRAIGHT_JOIN …`). */
  SelectOption: 16,
} as const;

export const keywords = new KeywordTable();
const add = (word: string, flags = 0): number => keywords.add(word, flags);

/** Keyword `k` (an id from `keywords.lookup`, 0 for none) has one of the `roles`. */
export const hasRole = (k: number, roles: number): boolean => (keywords.flags[k] & roles) !== 0;

export const SELECT = add('SELECT', Role.Clause | Role.Explainable);
export const INSERT = add('INSERT', Role.Clause | Role.Explainable);
export const REPLACE = add('REPLACE', Role.Explainable);
export const UPDATE = add('UPDATE', Role.Clause | Role.Explainable);
export const DELETE = add('DELETE', Role.Clause | Role.Explainable);
export const MERGE = add('MERGE', Role.Clause | Role.Explainable);
export const WITH = add('WITH', Role.Clause | Role.Explainable);
export const VALUES = add('VALUES', Role.Clause | Role.Explainable);
export const CREATE = add('CREATE', Role.Explainable);
export const ALTER = add('ALTER');
export const DROP = add('DROP');
export const TRUNCATE = add('TRUNCATE');
export const CALL = add('CALL');
export const EXEC = add('EXEC');
export const EXECUTE = add('EXECUTE', Role.Explainable);
export const USE = add('USE', Role.Clause);
export const LOCK = add('LOCK', Role.Clause);
export const COPY = add('COPY');
export const PREPARE = add('PREPARE');
export const EXPLAIN = add('EXPLAIN');
export const START = add('START');
export const TRANSACTION = add('TRANSACTION');
export const FROM = add('FROM', Role.Clause);
export const JOIN = add('JOIN', Role.Clause);
export const STRAIGHT_JOIN = add('STRAIGHT_JOIN', Role.Clause);
export const USING = add('USING', Role.Clause);
export const AS = add('AS', Role.Clause);
export const ON = add('ON', Role.Clause);
export const DISTINCT = add('DISTINCT', Role.Clause | Role.SelectOption);
add('ALL', Role.SelectOption);
add('DISTINCTROW', Role.SelectOption);
add('HIGH_PRIORITY', Role.Noise | Role.SelectOption);
/** SQLite's `INSERT OR REPLACE`, `UPDATE OR IGNORE`: a conflict action, not a table. */
export const OR = add('OR');
export const RECURSIVE = add('RECURSIVE', Role.Noise);
export const MATERIALIZED = add('MATERIALIZED', Role.ObjectType);
export const TABLE = add('TABLE', Role.Noise | Role.ObjectType);
export const VIEW = add('VIEW', Role.ObjectType);
export const INDEX = add('INDEX', Role.ObjectType);
export const USER = add('USER', Role.ObjectType);
export const ROLE = add('ROLE', Role.ObjectType);
for (const w of ['SCHEMA', 'DATABASE', 'SEQUENCE', 'FUNCTION', 'PROCEDURE', 'TRIGGER', 'TYPE', 'EXTENSION', 'DOMAIN', 'EVENT', 'POLICY', 'RULE']) {
  add(w, Role.ObjectType);
}
for (const w of ['INTO', 'IGNORE', 'ONLY', 'LATERAL', 'TABLES', 'IF', 'NOT', 'EXISTS', 'LOW_PRIORITY', 'DELAYED', 'QUICK', 'CONCURRENTLY']) {
  add(w, Role.Noise);
}
// Clause words after a table reference; also the statements we name without parsing further.
for (const w of [
  'WHERE',
  'GROUP',
  'ORDER',
  'HAVING',
  'LIMIT',
  'OFFSET',
  'FETCH',
  'FOR',
  'WINDOW',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'MINUS',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'NATURAL',
  'OUTER',
  'SET',
  'RETURNING',
  'DEFAULT',
  'PARTITION',
  'FORCE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'DO',
  'TABLESAMPLE',
  'IN',
  'CASCADE',
  'RESTRICT',
  'ADD',
  'OVERRIDING',
  'OUTPUT',
]) {
  add(w, Role.Clause);
}
for (const w of [
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'SHOW',
  'RESET',
  'VACUUM',
  'ANALYZE',
  'LISTEN',
  'NOTIFY',
  'GRANT',
  'REVOKE',
  'DECLARE',
  'DEALLOCATE',
  'DISCARD',
  'REFRESH',
  'DESCRIBE',
]) {
  add(w);
}

/**
 * text[start, end) upper-cased when it looks like a keyword we do not know (letters and `_`,
 * at most 32), so that an unknown statement is still named by its verb; null otherwise.
 */
export function upperWord(text: string, start: number, end: number): string | null {
  if (end - start > 32) return null;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) | CASE_BIT;
    if ((c < LOWER_A || c > LOWER_Z) && c !== (UNDERSCORE | CASE_BIT)) return null;
  }
  return text.slice(start, end).toUpperCase();
}
