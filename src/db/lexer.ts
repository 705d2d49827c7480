// One hand-written SQL lexer, shared by the sanitizer (sanitize.ts) and the query summary
// (summary.ts and summary/). Single pass, no regular expressions, no backtracking: every
// character is looked at a bounded number of times, so a 1 MB statement costs milliseconds.
// The lexer allocates nothing per token: callers read `kind`, `start`, `end` and slice only
// what they keep.
import {
  AMPERSAND,
  ASCII_END,
  BACKSLASH,
  BACKTICK,
  CASE_BIT,
  COLON,
  CR,
  DIGIT_0,
  DIGIT_1,
  DIGIT_7,
  DIGIT_9,
  DOLLAR,
  DOT,
  DOUBLE_QUOTE,
  HASH,
  LF,
  LOWER_A,
  LOWER_B,
  LOWER_E,
  LOWER_N,
  LOWER_O,
  LOWER_U,
  LOWER_X,
  MINUS,
  PLUS,
  QUESTION,
  RBRACKET,
  RPAREN,
  SINGLE_QUOTE,
  SLASH,
  STAR,
  UNDERSCORE,
  UPPER_A,
  UPPER_Z,
} from './chars.js';

/** The SQL dialect, which decides what quotes, comments and escapes mean. */
export type SqlDialect = 'postgresql' | 'mysql' | 'other';

export const T_EOF = 0;
/** An unquoted identifier or keyword. */
export const T_WORD = 1;
/** A quoted identifier: `"…"` (not in mysql, where it is a string) or `` `…` ``. */
export const T_QUOTED = 2;
/** Any string literal: '…', E'…', U&'…', X'…', B'…', N'…', $tag$…$tag$, mysql "…". */
export const T_STRING = 3;
export const T_NUMBER = 4;
/** A numbered placeholder: `$1`, `?1`, `:1` (other). `?` alone is a T_PUNCT, `:name` is `:` + word. */
export const T_PARAM = 5;
/** One punctuation/operator character (`code`), or `::` (code CAST). */
export const T_PUNCT = 6;
/** An unterminated quote, dollar quote or block comment: runs to the end of the input. */
export const T_UNTERMINATED = 7;

export const CAST = (COLON << 8) | COLON;

const WS = 1;
const ID_START = 2;
const ID_PART = 4;
const HEX = 8;
const CLASS = new Uint8Array(ASCII_END);
for (const c of ' \t\n\r\f\v') CLASS[c.charCodeAt(0)] |= WS;
for (let c = DIGIT_0; c <= DIGIT_9; c++) CLASS[c] |= ID_PART | HEX;
for (let c = UPPER_A; c <= UPPER_Z; c++) {
  CLASS[c] |= ID_START | ID_PART;
  CLASS[c | CASE_BIT] |= ID_START | ID_PART;
}
for (const c of 'abcdefABCDEF') CLASS[c.charCodeAt(0)] |= HEX;
CLASS[UNDERSCORE] |= ID_START | ID_PART;
CLASS[DOLLAR] |= ID_PART; // inside identifiers (postgres and mysql allow it)

// Non-ASCII characters are identifier characters, as in PostgreSQL and MySQL. Past the end
// of the text charCodeAt gives NaN, which is neither.
const isIdStart = (c: number): boolean => (c < ASCII_END ? (CLASS[c] & ID_START) !== 0 : c >= ASCII_END);
const isIdPart = (c: number): boolean => (c < ASCII_END ? (CLASS[c] & ID_PART) !== 0 : c >= ASCII_END);
const isDigit = (c: number): boolean => c >= DIGIT_0 && c <= DIGIT_9;

export class SqlLexer {
  kind = T_EOF;
  start = 0;
  end = 0;
  /** Whitespace or a comment came before this token. */
  space = false;
  /** For T_PUNCT: the character code (CAST for `::`). */
  code = 0;

  private text = '';
  private len = 0;
  private pos = 0;
  private pg = true;
  private mysql = false;
  private prevKind = T_EOF;
  private prevCode = 0;

  /** The token before this one could end an operand (a name, literal, `)`, `]` or `?`). */
  get afterOperand(): boolean {
    return isOperand(this.prevKind, this.prevCode);
  }

  /** Starts reading `text` at `from` (a token start). */
  reset(text: string, dialect: SqlDialect, from = 0): void {
    this.text = text;
    this.len = text.length;
    this.pos = from;
    this.pg = dialect === 'postgresql';
    this.mysql = dialect === 'mysql';
    this.kind = this.prevKind = T_EOF;
    this.start = this.end = this.code = this.prevCode = 0;
    this.space = false;
  }

  next(): number {
    const s = this.text;
    const n = this.len;
    let i = this.pos;
    let space = false;
    for (;;) {
      if (i >= n) return this.emit(T_EOF, n, n, space, 0);
      const c = s.charCodeAt(i);
      if (c < ASCII_END && (CLASS[c] & WS) !== 0) {
        i++;
        space = true;
      } else if ((c === MINUS && s.charCodeAt(i + 1) === MINUS) || (c === HASH && this.mysql)) {
        i = skipLine(s, i + 1, n);
        space = true;
      } else if (c === SLASH && s.charCodeAt(i + 1) === STAR) {
        const e = this.pg ? skipNestedComment(s, i + 2, n) : s.indexOf('*/', i + 2);
        if (e < 0) return this.emit(T_UNTERMINATED, i, n, space, 0);
        i = this.pg ? e : e + 2;
        space = true;
      } else break;
    }

    const c = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    if (c1 === SINGLE_QUOTE) {
      // E'…' escapes with backslashes; X'…', B'…', N'…' are ordinary quoted strings.
      const f = c | CASE_BIT;
      if (f === LOWER_E) return this.quoted(T_STRING, i, i + 1, SINGLE_QUOTE, true, space);
      if (f === LOWER_X || f === LOWER_B || f === LOWER_N) return this.quoted(T_STRING, i, i + 1, SINGLE_QUOTE, this.mysql, space);
    }
    if ((c | CASE_BIT) === LOWER_U && c1 === AMPERSAND) {
      const q = s.charCodeAt(i + 2);
      if (q === SINGLE_QUOTE) return this.quoted(T_STRING, i, i + 2, q, false, space);
      if (q === DOUBLE_QUOTE) return this.quoted(T_QUOTED, i, i + 2, q, false, space);
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(s.charCodeAt(j))) j++;
      return this.emit(T_WORD, i, j, space, 0);
    }
    if (isDigit(c) || (c === DOT && isDigit(c1))) return this.number(i, space);
    switch (c) {
      case SINGLE_QUOTE:
        return this.quoted(T_STRING, i, i, c, this.mysql, space);
      case DOUBLE_QUOTE:
        return this.mysql ? this.quoted(T_STRING, i, i, c, true, space) : this.quoted(T_QUOTED, i, i, c, false, space);
      case BACKTICK:
        return this.quoted(T_QUOTED, i, i, c, false, space);
      case DOLLAR:
        return this.dollar(i, space);
      case COLON:
        if (c1 === COLON) return this.emit(T_PUNCT, i, i + 2, space, CAST);
        // Oracle-style `:1`; in PostgreSQL and MySQL a number after `:` is a literal (`a[1:2]`).
        if (isDigit(c1) && !this.pg && !this.mysql && !isOperand(this.kind, this.code)) return this.digitsParam(i, space);
        break;
      case QUESTION:
        if (isDigit(c1)) return this.digitsParam(i, space);
        break;
    }
    return this.emit(T_PUNCT, i, i + 1, space, c);
  }

  private emit(kind: number, start: number, end: number, space: boolean, code: number): number {
    this.prevKind = this.kind;
    this.prevCode = this.code;
    this.kind = kind;
    this.start = start;
    this.end = end;
    this.pos = end;
    this.space = space;
    this.code = code;
    return kind;
  }

  /** A quote opened at `open` (after a prefix starting at `start`); doubled quotes escape it. */
  private quoted(kind: number, start: number, open: number, quote: number, backslash: boolean, space: boolean): number {
    const s = this.text;
    const n = this.len;
    let j = open + 1;
    if (backslash) {
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === BACKSLASH) j += 2;
        else if (c !== quote) j++;
        else if (s.charCodeAt(j + 1) === quote) j += 2;
        else return this.emit(kind, start, j + 1, space, 0);
      }
    } else {
      const q = quote === SINGLE_QUOTE ? "'" : quote === DOUBLE_QUOTE ? '"' : '`';
      for (;;) {
        const k = s.indexOf(q, j);
        if (k < 0) break;
        if (s.charCodeAt(k + 1) !== quote) return this.emit(kind, start, k + 1, space, 0);
        j = k + 2;
      }
    }
    return this.emit(T_UNTERMINATED, start, n, space, 0);
  }

  private number(i: number, space: boolean): number {
    const s = this.text;
    const n = this.len;
    let j = i;
    let plain = false;
    const radix = s.charCodeAt(i) === DIGIT_0 ? s.charCodeAt(i + 1) | CASE_BIT : 0;
    if ((radix === LOWER_X || radix === LOWER_B || radix === LOWER_O) && i + 2 < n && isRadixDigit(radix, s.charCodeAt(i + 2))) {
      // 0x1F, 0b101, 0o17 (with _ separators, PostgreSQL 16)
      j = i + 3;
      while (j < n && (isRadixDigit(radix, s.charCodeAt(j)) || s.charCodeAt(j) === UNDERSCORE)) j++;
    } else {
      while (j < n && (isDigit(s.charCodeAt(j)) || s.charCodeAt(j) === UNDERSCORE)) j++;
      plain = j > i;
      // One decimal point, but not the first dot of `..` (a range in some dialects).
      if (s.charCodeAt(j) === DOT && s.charCodeAt(j + 1) !== DOT) {
        plain = false;
        j++;
        while (j < n && isDigit(s.charCodeAt(j))) j++;
      }
      if ((s.charCodeAt(j) | CASE_BIT) === LOWER_E) {
        const sign = s.charCodeAt(j + 1);
        const k = sign === PLUS || sign === MINUS ? j + 2 : j + 1;
        if (isDigit(s.charCodeAt(k))) {
          plain = false;
          j = k + 1;
          while (j < n && isDigit(s.charCodeAt(j))) j++;
        }
      }
    }
    // MySQL identifiers may begin with digits (`2fa_codes`); elsewhere `1abc` is `1` then `abc`.
    if (this.mysql && plain && j < n && isIdPart(s.charCodeAt(j))) {
      while (j < n && isIdPart(s.charCodeAt(j))) j++;
      return this.emit(T_WORD, i, j, space, 0);
    }
    return this.emit(T_NUMBER, i, j, space, 0);
  }

  private digitsParam(i: number, space: boolean): number {
    let j = i + 1;
    while (j < this.len && isDigit(this.text.charCodeAt(j))) j++;
    return this.emit(T_PARAM, i, j, space, 0);
  }

  /** `$1`, or (PostgreSQL) `$$…$$` / `$tag$…$tag$`, or `$` as an operator character. */
  private dollar(i: number, space: boolean): number {
    const s = this.text;
    const c1 = s.charCodeAt(i + 1);
    if (isDigit(c1)) return this.digitsParam(i, space);
    if (this.pg && (c1 === DOLLAR || (isIdStart(c1) && c1 !== DOLLAR))) {
      let j = i + 1;
      // A tag is an identifier without `$`: the next `$` closes it.
      while (j < this.len && s.charCodeAt(j) !== DOLLAR && isIdPart(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) === DOLLAR) {
        const tag = s.slice(i, j + 1);
        const close = s.indexOf(tag, j + 1);
        if (close < 0) return this.emit(T_UNTERMINATED, i, this.len, space, 0);
        return this.emit(T_STRING, i, close + tag.length, space, 0);
      }
    }
    if (this.mysql && isIdStart(c1)) {
      let j = i + 1;
      while (j < this.len && isIdPart(s.charCodeAt(j))) j++;
      return this.emit(T_WORD, i, j, space, 0);
    }
    return this.emit(T_PUNCT, i, i + 1, space, DOLLAR);
  }
}

function isOperand(kind: number, code: number): boolean {
  if (kind >= T_WORD && kind <= T_PARAM) return true;
  return kind === T_PUNCT && (code === RPAREN || code === RBRACKET || code === QUESTION);
}

function isRadixDigit(radix: number, c: number): boolean {
  if (radix === LOWER_X) return c < ASCII_END && (CLASS[c] & HEX) !== 0;
  if (radix === LOWER_B) return c === DIGIT_0 || c === DIGIT_1;
  return c >= DIGIT_0 && c <= DIGIT_7;
}

/** Index after the end of a line comment starting before `i` (CR, LF or end of input). */
function skipLine(s: string, i: number, n: number): number {
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === LF || c === CR) return i + 1;
    i++;
  }
  return n;
}

/** PostgreSQL block comments nest: index after the matching `*∕`, or -1. */
function skipNestedComment(s: string, i: number, n: number): number {
  let depth = 1;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === STAR && s.charCodeAt(i + 1) === SLASH) {
      i += 2;
      if (--depth === 0) return i;
    } else if (c === SLASH && s.charCodeAt(i + 1) === STAR) {
      i += 2;
      depth++;
    } else i++;
  }
  return -1;
}

/**
 * Case-insensitive keyword lookup over a slice of the text, without allocating: an
 * open-addressing table keyed by a case-folded hash, verified character by character.
 */
export class KeywordTable {
  readonly words: string[] = [''];
  readonly flags: number[] = [0];
  /** Far more slots than the ~100 keywords we add, so probe sequences stay short. */
  private readonly slots = new Int16Array(1024);
  /** Bit (first letter) set in firsts[length] when some keyword has that length and letter. */
  private readonly firsts = new Uint32Array(33);

  /** Adds an upper-case keyword (letters and `_`, at most 32); returns its id (> 0). */
  add(word: string, flags = 0): number {
    const id = this.words.length;
    this.words.push(word);
    this.flags.push(flags);
    this.firsts[word.length] |= 1 << (word.charCodeAt(0) - UPPER_A);
    let slot = this.slot(word, 0, word.length);
    while (this.slots[slot] !== 0) slot = (slot + 1) & 1023;
    this.slots[slot] = id;
    return id;
  }

  /** The id of the keyword spelled by text[start, end) in any case, or 0. */
  lookup(text: string, start: number, end: number): number {
    const len = end - start;
    // Most words are not keywords: rule them out by length and first letter before hashing.
    const bit = (text.charCodeAt(start) | CASE_BIT) - LOWER_A;
    if (len > 32 || bit < 0 || bit > 25 || (this.firsts[len] & (1 << bit)) === 0) return 0;
    let slot = this.slot(text, start, end);
    for (;;) {
      const id = this.slots[slot];
      if (id === 0) return 0;
      const w = this.words[id];
      if (w.length === len) {
        let k = 0;
        // `| CASE_BIT` folds ASCII case; keywords are letters and `_`, so this is exact for them.
        while (k < len && (text.charCodeAt(start + k) | CASE_BIT) === (w.charCodeAt(k) | CASE_BIT)) k++;
        if (k === len) return id;
      }
      slot = (slot + 1) & 1023;
    }
  }

  private slot(text: string, start: number, end: number): number {
    let h = 0;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + (text.charCodeAt(i) | CASE_BIT)) | 0;
    return (h ^ (h >>> 11)) & 1023;
  }
}

/** The dialect option as given, or the default; an unknown value reads as standard SQL. */
export function readDialect(d: unknown): SqlDialect {
  return d === undefined ? 'postgresql' : d === 'postgresql' || d === 'mysql' ? d : 'other';
}

/** A positive integer option, or the default. */
export function readMaxLength(m: unknown, fallback: number): number {
  return typeof m === 'number' && m >= 1 && Number.isFinite(m) ? Math.floor(m) : fallback;
}

/**
 * A bounded cache of per-statement results. Applications send the same few statements over
 * and over, and a hit (a Map lookup) costs some 16 ns against ~1 µs to read an 80-character
 * statement again (docs/benchmarks.md, sanitizer section). Two generations make it LRU-ish
 * without touching the Map on a hit: when the young one is full it becomes the old one and
 * the old one is dropped; a hit in the old one moves the entry back. At most 2 × `generation`
 * entries; long statements (rare, and costly to hash) are not cached at all. The keys are
 * raw statements: they stay in this process's memory, they are never exported.
 */
export class StatementCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private readonly generation: number;
  private readonly maxKeyLength: number;

  constructor(generation = 128, maxKeyLength = 4096) {
    this.generation = generation;
    this.maxKeyLength = maxKeyLength;
  }

  get(key: string): V | undefined {
    if (key.length > this.maxKeyLength) return undefined;
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: string, value: V): void {
    if (key.length > this.maxKeyLength) return;
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
