// `db.query.text` sanitization: every literal becomes `?`, comments go, whitespace collapses,
// long IN lists and multi-row VALUES collapse, and the result is capped. It runs once per
// query span, so it is a single pass over the lexer's tokens that only appends to the output.
import {
  readDialect,
  readMaxLength,
  SqlLexer,
  StatementCache,
  T_EOF,
  T_NUMBER,
  T_PARAM,
  T_PUNCT,
  T_QUOTED,
  T_STRING,
  T_UNTERMINATED,
  T_WORD,
  type SqlDialect,
} from './lexer.js';

export type { SqlDialect } from './lexer.js';

export interface SanitizeOptions {
  /**
   * How quotes, comments and escapes are read. `postgresql`: `"…"` is an identifier, `$$…$$`
   * a string, block comments nest. `mysql`: `"…"` is a string, backslashes escape in strings,
   * `#` starts a comment. `other`: standard SQL (`'…'` with `''`, `"…"` identifiers).
   * An unknown value is read as `other`.
   * @default 'postgresql'
   */
  dialect?: SqlDialect;
  /**
   * Longest result in characters; a longer one is cut at a token boundary and ends with `…`
   * (the `…` counts). Values below 1 or not finite use the default.
   * @default 8192
   */
  maxLength?: number;
}

export const DEFAULT_SANITIZE_MAX_LENGTH = 8192;

// What the collapsing state machines need to know about a token.
const K_OTHER = 0;
const K_QMARK = 1;
const K_OPEN = 2;
const K_CLOSE = 3;
const K_COMMA = 4;
const K_IN = 5;
const K_VALUES = 6;

// IN ( ? , ? ): held back until `)` shows that every element is `?`.
const IN_IDLE = 0;
const IN_SEEN = 1;
const IN_OPEN = 2;
const IN_ELEM = 3;
// VALUES ( ? , ? ) , ( ? , ? ): the first tuple is written, the others held back.
const V_IDLE = 0;
const V_SEEN = 1;
const V_FIRST_OPEN = 2;
const V_FIRST_ELEM = 3;
const V_AFTER = 4;
const V_NEXT_SEEN = 5;
const V_NEXT_OPEN = 6;
const V_NEXT_ELEM = 7;

const ELLIPSIS = '…';

/** Case-insensitive comparison of text[start, end) with an upper-case ASCII word. */
function wordIs(text: string, start: number, end: number, upper: string): boolean {
  if (end - start !== upper.length) return false;
  for (let k = 0; k < upper.length; k++) {
    if ((text.charCodeAt(start + k) & 0xdf) !== upper.charCodeAt(k)) return false;
  }
  return true;
}

class Sanitizer {
  private readonly lx = new SqlLexer();
  private readonly replayLx = new SqlLexer();
  private sql = '';
  private dialect: SqlDialect = 'postgresql';
  private out = '';
  // Most of the output is the input: tokens separated by one space are not copied one by
  // one; the run of source text they span is sliced once when something else comes.
  private runStart = -1;
  private runEnd = -1;
  /** Length of out plus the pending run. */
  private len = 0;
  private max = 0;
  /** Output length at the last token boundary that leaves room for the ellipsis. */
  private lastFit = 0;
  private full = false;
  // A held-back IN list or VALUES tail is only its source offset: when the collapse does
  // not happen (rare), that stretch is read again and written as usual (replay).
  private inState = IN_IDLE;
  private inFrom = 0;
  private inSpace = false;
  private vState = V_IDLE;
  private vFrom = -1;
  private vSpace = false;

  run(sql: string, dialect: SqlDialect, max: number): string {
    const lx = this.lx;
    lx.reset(sql, dialect);
    this.sql = sql;
    this.dialect = dialect;
    this.out = '';
    this.runStart = this.runEnd = -1;
    this.len = this.lastFit = 0;
    this.max = max;
    this.full = false;
    this.inState = IN_IDLE;
    this.vState = V_IDLE;
    let held = -1; // start of a `-` that may be the sign of the next number
    let heldSpace = false;

    for (let done = false; !done && !this.full; ) {
      const kind = lx.next();
      if (kind === T_EOF) break;
      const space = lx.space;
      const s = lx.start;
      const e = lx.end;
      if (held >= 0) {
        const minus = held;
        held = -1;
        // A sign in front of a number belongs to the literal: `x = -5` → `x = ?`.
        if (kind === T_NUMBER) {
          this.token(K_QMARK, heldSpace, minus, e, true);
          continue;
        }
        this.token(K_OTHER, heldSpace, minus, minus + 1, false);
      }
      switch (kind) {
        case T_WORD: {
          const n = e - s;
          if ((n === 4 && wordIs(sql, s, e, 'TRUE')) || (n === 5 && wordIs(sql, s, e, 'FALSE'))) {
            this.token(K_QMARK, space, s, e, true);
          } else if (n === 2 && wordIs(sql, s, e, 'IN')) this.token(K_IN, space, s, e, false);
          else if (n === 6 && wordIs(sql, s, e, 'VALUES')) this.token(K_VALUES, space, s, e, false);
          else this.token(K_OTHER, space, s, e, false);
          break;
        }
        case T_STRING:
        case T_NUMBER:
          this.token(K_QMARK, space, s, e, true);
          break;
        case T_QUOTED:
        case T_PARAM:
          this.token(K_OTHER, space, s, e, false);
          break;
        case T_PUNCT: {
          const c = lx.code;
          if (c === 0x2d && !lx.afterOperand) {
            held = s;
            heldSpace = space;
          } else {
            const k = c === 0x3f ? K_QMARK : c === 0x28 ? K_OPEN : c === 0x29 ? K_CLOSE : c === 0x2c ? K_COMMA : K_OTHER;
            this.token(k, space, s, e, false);
          }
          break;
        }
        case T_UNTERMINATED:
          // Whatever follows an unclosed quote or comment could be a literal: one `?` for all.
          this.token(K_QMARK, space, s, e, true);
          held = -1;
          done = true;
      }
    }
    if (held >= 0) this.token(K_OTHER, heldSpace, held, held + 1, false);
    // A VALUES tail that ended after a complete tuple is dropped; anything half-read is kept.
    if (this.vState >= V_NEXT_SEEN) this.replay(this.vFrom, this.vSpace, sql.length);
    if (this.inState >= IN_OPEN) this.replay(this.inFrom, this.inSpace, sql.length);
    this.flushRun();
    const out = this.out;
    this.sql = this.out = ''; // don't keep the caller's text alive
    if (out.length <= max) return out;
    return out.slice(0, this.lastFit).trimEnd() + ELLIPSIS;
  }

  /** One token: source text [s, e), or `?` in its place when it is a literal. */
  private token(k: number, space: boolean, s: number, e: number, literal: boolean): void {
    if (this.vState !== V_IDLE && this.values(k, space, s)) return;
    if (this.inState !== IN_IDLE && this.inList(k, space, s)) return;
    if (k === K_IN) this.inState = IN_SEEN;
    else if (k === K_VALUES) this.vState = V_SEEN;
    if (literal) this.append(space && this.len > 0 ? ' ?' : '?');
    else this.copy(s, e, space && this.len > 0);
  }

  /** Returns true when the token is held back as part of an IN list. */
  private inList(k: number, space: boolean, s: number): boolean {
    switch (this.inState) {
      case IN_SEEN:
        if (k !== K_OPEN) break;
        this.inFrom = s;
        this.inSpace = space;
        this.inState = IN_OPEN;
        return true;
      case IN_OPEN:
        if (k !== K_QMARK) break;
        this.inState = IN_ELEM;
        return true;
      case IN_ELEM:
        if (k === K_COMMA) {
          this.inState = IN_OPEN;
          return true;
        }
        if (k !== K_CLOSE) break;
        this.inState = IN_IDLE;
        this.append(this.inSpace && this.len > 0 ? ' (?)' : '(?)');
        return true;
    }
    // Not a list of `?` after all: write what was held back, then this token as usual.
    if (this.inState !== IN_SEEN) this.replay(this.inFrom, this.inSpace, s);
    this.inState = IN_IDLE;
    return false;
  }

  /** Returns true when the token is held back as part of the VALUES tail. */
  private values(k: number, space: boolean, s: number): boolean {
    switch (this.vState) {
      case V_SEEN:
        this.vState = k === K_OPEN ? V_FIRST_OPEN : V_IDLE;
        return false;
      case V_FIRST_OPEN:
        this.vState = k === K_QMARK ? V_FIRST_ELEM : V_IDLE;
        return false;
      case V_FIRST_ELEM:
        this.vState = k === K_COMMA ? V_FIRST_OPEN : k === K_CLOSE ? V_AFTER : V_IDLE;
        this.vFrom = -1;
        return false;
      case V_AFTER:
        if (k !== K_COMMA) {
          // The list ended and every tuple was all `?`: the held-back tuples are dropped.
          this.vState = V_IDLE;
          return false;
        }
        if (this.vFrom < 0) {
          this.vFrom = s;
          this.vSpace = space;
        }
        this.vState = V_NEXT_SEEN;
        return true;
      case V_NEXT_SEEN:
        if (k !== K_OPEN) break;
        this.vState = V_NEXT_OPEN;
        return true;
      case V_NEXT_OPEN:
        if (k !== K_QMARK) break;
        this.vState = V_NEXT_ELEM;
        return true;
      case V_NEXT_ELEM:
        if (k === K_COMMA) this.vState = V_NEXT_OPEN;
        else if (k === K_CLOSE) this.vState = V_AFTER;
        else break;
        return true;
    }
    this.vState = V_IDLE;
    this.replay(this.vFrom, this.vSpace, s);
    return false;
  }

  /**
   * Writes sql[from, to) as usual. It only holds `(`, `)`, `,`, `?`, literals and the signs
   * folded into numbers, because anything else would have ended the hold earlier.
   */
  private replay(from: number, space: boolean, to: number): void {
    const lx = this.replayLx;
    lx.reset(this.sql, this.dialect, from);
    let sp = space;
    let carry = true; // the first token's (or a folded sign's) space comes from outside
    while (!this.full) {
      const kind = lx.next();
      if (kind === T_EOF || lx.start >= to) break;
      if (!carry) sp = lx.space;
      carry = false;
      if (kind === T_PUNCT && lx.code === 0x2d) {
        carry = true;
        continue;
      }
      if (kind !== T_PUNCT) this.append(sp && this.len > 0 ? ' ?' : '?');
      else this.copy(lx.start, lx.end, sp && this.len > 0);
    }
  }

  private copy(s: number, e: number, space: boolean): void {
    if (this.full) return;
    const sql = this.sql;
    if (space) {
      if (this.runEnd !== s - 1 || sql.charCodeAt(s - 1) !== 0x20) {
        this.flushRun();
        // Start the run on the space before the token when it is a plain space.
        if (sql.charCodeAt(s - 1) === 0x20) this.runStart = s - 1;
        else {
          this.out += ' ';
          this.runStart = s;
        }
      }
    } else if (this.runEnd !== s) {
      this.flushRun();
      this.runStart = s;
    }
    this.runEnd = e;
    this.grow(e - s + (space ? 1 : 0));
  }

  private flushRun(): void {
    if (this.runStart < 0) return;
    this.out += this.sql.slice(this.runStart, this.runEnd);
    this.runStart = this.runEnd = -1;
  }

  private append(piece: string): void {
    if (this.full) return;
    this.flushRun();
    this.out += piece;
    this.grow(piece.length);
  }

  private grow(n: number): void {
    const len = (this.len += n);
    if (len < this.max) this.lastFit = len;
    else if (len > this.max) this.full = true;
  }
}

const sanitizer = new Sanitizer();
const caches = { postgresql: new StatementCache<string>(), mysql: new StatementCache<string>(), other: new StatementCache<string>() };

/**
 * Replaces every literal in `sql` with `?` so the text is safe to export as `db.query.text`:
 * strings (all quoting styles of the dialect), numbers, booleans; removes comments;
 * collapses whitespace, `IN (?, ?, …)` to `IN (?)` and `VALUES (…), (…)` to its first tuple
 * when every element is `?`; keeps identifiers, placeholders (`$1`, `?`, `:name`, `@p`),
 * casts and `NULL`. Unterminated quotes and comments swallow the rest of the text into one
 * `?`. Never throws: a non-string gives ''.
 */
export function sanitizeSql(sql: string, options?: SanitizeOptions): string {
  if (typeof sql !== 'string') return '';
  const dialect = readDialect(options?.dialect);
  const max = readMaxLength(options?.maxLength, DEFAULT_SANITIZE_MAX_LENGTH);
  const cache = max === DEFAULT_SANITIZE_MAX_LENGTH ? caches[dialect] : undefined;
  let out = cache?.get(sql);
  if (out !== undefined) return out;
  try {
    out = sanitizer.run(sql, dialect, max);
  } catch {
    // Unreachable by design; if it happens, export nothing that could be a literal.
    return sql.length > 0 ? '?' : '';
  }
  cache?.set(sql, out);
  return out;
}
