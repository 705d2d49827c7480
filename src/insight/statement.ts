import { SQL_DIALECTS } from '../db/processor.js';
import { sanitizeSql } from '../db/sanitize.js';

/** Longest statement text in a key; a longer one is cut and ends with a hash of the whole. */
const MAX_TEXT = 200;
/** Texts memoised; past it the memo starts again (it is only a memo). */
const MAX_MEMO = 2048;
const memo = new Map<string, Map<string, string>>();
let memoSize = 0;

/**
 * The insight key of a query: `<db.system.name> <statement>`, where the statement is the
 * sanitized text (literals `?`, whitespace collapsed, IN lists folded) — the statement's
 * fingerprint. Two statements with one summary (`SELECT products` for a lookup by id and for
 * an ILIKE search; `SELECT` for every function-only statement) get two keys, so a slow one
 * is not averaged away among fast ones. Without SQL text (Redis, a client that records
 * none) the key is `<db.system.name> <db.query.summary>`. Sanitized again here, so keys never
 * hold literals even with `HEALTHSPAN_DB_SANITIZE=false`; memoised by the text, which repeats.
 */
export function statementKey(system: string, summary: string, text: unknown): string {
  const dialect = SQL_DIALECTS[system];
  if (dialect === undefined || typeof text !== 'string' || text === '') return `${system} ${summary}`;
  let texts = memo.get(system);
  const found = texts?.get(text);
  if (found !== undefined) return found;
  let fingerprint: string;
  try {
    fingerprint = sanitizeSql(text, { dialect });
  } catch {
    return `${system} ${summary}`;
  }
  if (fingerprint.length > MAX_TEXT) fingerprint = `${fingerprint.slice(0, MAX_TEXT)}… #${fnv1a(fingerprint)}`;
  const key = `${system} ${fingerprint}`;
  if (memoSize >= MAX_MEMO) {
    memo.clear();
    memoSize = 0;
    texts = undefined;
  }
  if (!texts) memo.set(system, (texts = new Map()));
  texts.set(text, key);
  memoSize++;
  return key;
}

/** 32-bit FNV-1a as 8 hex digits: tells two long statements apart, nothing more. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
