// `db.query.summary` (semantic conventions, "Generating a summary of the query"): the
// operations and their targets in the order they appear, e.g. `INSERT orders SELECT carts`.
// It is the span name and the only statement-derived metric attribute, so it must be low
// cardinality and never contain a literal: it is built from keywords and identifiers only.
// One pass over the shared lexer's tokens with a small state machine; no parse tree.
import { KeywordTable, readDialect, readMaxLength, SqlLexer, StatementCache, T_EOF, T_PUNCT, T_QUOTED, T_UNTERMINATED, T_WORD, type SqlDialect } from './lexer.js';

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
export const OTHER_SUMMARY = 'OTHER';

// Keyword roles. CLAUSE: ends a table reference (cannot be an alias). NOISE: skipped where a
// name is expected. OBJECT: a DDL object type. EXPLAINABLE: a statement EXPLAIN may wrap.
const CLAUSE = 1;
const NOISE = 2;
const OBJECT = 4;
const EXPLAINABLE = 8;

const kw = new KeywordTable();
const add = (word: string, flags = 0): number => kw.add(word, flags);
const SELECT = add('SELECT', CLAUSE | EXPLAINABLE);
const INSERT = add('INSERT', CLAUSE | EXPLAINABLE);
const REPLACE = add('REPLACE', EXPLAINABLE);
const UPDATE = add('UPDATE', CLAUSE | EXPLAINABLE);
const DELETE = add('DELETE', CLAUSE | EXPLAINABLE);
const MERGE = add('MERGE', CLAUSE | EXPLAINABLE);
const WITH = add('WITH', CLAUSE | EXPLAINABLE);
const VALUES = add('VALUES', CLAUSE | EXPLAINABLE);
const CREATE = add('CREATE', EXPLAINABLE);
const ALTER = add('ALTER');
const DROP = add('DROP');
const TRUNCATE = add('TRUNCATE');
const CALL = add('CALL');
const EXEC = add('EXEC');
const EXECUTE = add('EXECUTE', EXPLAINABLE);
const USE = add('USE', CLAUSE);
const LOCK = add('LOCK', CLAUSE);
const COPY = add('COPY');
const PREPARE = add('PREPARE');
const EXPLAIN = add('EXPLAIN');
const START = add('START');
const TRANSACTION = add('TRANSACTION');
const FROM = add('FROM', CLAUSE);
const JOIN = add('JOIN', CLAUSE);
const STRAIGHT_JOIN = add('STRAIGHT_JOIN', CLAUSE);
const USING = add('USING', CLAUSE);
const AS = add('AS', CLAUSE);
const ON = add('ON', CLAUSE);
const DISTINCT = add('DISTINCT', CLAUSE);
const RECURSIVE = add('RECURSIVE', NOISE);
const MATERIALIZED = add('MATERIALIZED', OBJECT);
const TABLE = add('TABLE', NOISE | OBJECT);
const VIEW = add('VIEW', OBJECT);
const INDEX = add('INDEX', OBJECT);
const USER = add('USER', OBJECT);
const ROLE = add('ROLE', OBJECT);
for (const w of ['SCHEMA', 'DATABASE', 'SEQUENCE', 'FUNCTION', 'PROCEDURE', 'TRIGGER', 'TYPE', 'EXTENSION', 'DOMAIN', 'EVENT', 'POLICY', 'RULE']) {
  add(w, OBJECT);
}
for (const w of ['INTO', 'IGNORE', 'ONLY', 'LATERAL', 'TABLES', 'IF', 'NOT', 'EXISTS', 'LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'QUICK', 'CONCURRENTLY']) {
  add(w, NOISE);
}
// Clause words after a table reference; also the statements we name without parsing further.
for (const w of [
  'WHERE', 'GROUP', 'ORDER', 'HAVING', 'LIMIT', 'OFFSET', 'FETCH', 'FOR', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT',
  'MINUS', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'NATURAL', 'OUTER', 'SET', 'RETURNING', 'DEFAULT', 'PARTITION',
  'FORCE', 'WHEN', 'THEN', 'ELSE', 'END', 'DO', 'TABLESAMPLE', 'IN', 'CASCADE', 'RESTRICT', 'ADD', 'OVERRIDING', 'OUTPUT',
]) {
  add(w, CLAUSE);
}
for (const w of ['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'SHOW', 'RESET', 'VACUUM', 'ANALYZE', 'LISTEN', 'NOTIFY', 'GRANT', 'REVOKE', 'DECLARE', 'DEALLOCATE', 'DISCARD', 'REFRESH', 'DESCRIBE']) {
  add(w);
}

// Name-reading modes (after FROM, JOIN, INSERT INTO, UPDATE, DROP TABLE, …).
const M_NONE = 0;
const M_NAME = 1; // a name is expected
const M_PART = 2; // inside a name; `.` continues it
const M_DOT = 3; // after `.`
const M_AFTER = 4; // after a name: alias, `,` or the end of the list
const M_ALIAS = 5; // after AS
const M_AFTER_ALIAS = 6;
const M_DDL = 7; // CREATE/ALTER/DROP: looking for the object type
const M_INDEX_ON = 8; // CREATE INDEX …: looking for ON
const M_EXPLAIN = 9; // EXPLAIN options: looking for the statement
const M_START = 10; // START [TRANSACTION]
// Flags of a name list.
const F_LIST = 1 << 8; // `,` continues the list
const F_COLL = 2 << 8; // the names are collections (db.collection.name)
const F_FUNC = 4 << 8; // `name(` is a function call, not a table
const F_NOPAREN = 8 << 8; // a `(` where a name is expected is not a table paren
const F_NOALIAS = 16 << 8; // no alias after the name
const F_OPAQUE = 32 << 8; // the rest of the statement names nothing more
const F_AWAIT_AS = 64 << 8; // what follows AS is a query (CREATE TABLE … AS SELECT)
const FROM_LIST = F_LIST | F_COLL | F_FUNC;

// Paren kinds: EXPR (FROM inside is not a table list: EXTRACT(x FROM y)), QUERY, CTE body.
const P_EXPR = 0;
const P_QUERY = 1;
const P_CTE = 2;
const MAX_DEPTH = 64;
// CTE list states.
const C_NONE = 0;
const C_NAME = 1;
const C_AFTER_NAME = 2;
const C_BODY = 3;
const C_AFTER_BODY = 4;
const MAX_CTES = 32;

/** A quoted name without its quotes, unless that would change how it reads (`"song list"`, `"a.b"`). */
function unquote(text: string, start: number, end: number): string {
  const q = text.charCodeAt(start);
  if ((q !== 0x22 && q !== 0x60) || end - start <= 2) return text.slice(start, end);
  for (let i = start + 1; i < end - 1; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x2e || c === q) return text.slice(start, end);
  }
  return text.slice(start + 1, end - 1);
}

class Summarizer {
  private readonly lx = new SqlLexer();
  private text = '';
  private max = 0;
  // The summary being written.
  private out = '';
  private full = false;
  /** The last operation, written only once it has a target (or the next operation comes). */
  private pendingOp: string | null = null;
  private lastOp: string | null = null;
  private lastTarget = '';
  private firstOp: string | undefined;
  private mainOp: string | undefined;
  private collection: string | undefined;
  private collections = 0;
  // The statement being read.
  private statement = 0;
  private depth = 0;
  private readonly kinds = new Uint8Array(MAX_DEPTH);
  private readonly resumes = new Uint16Array(MAX_DEPTH);
  private atStart = true;
  private opaque = false;
  private awaitAs = false;
  private awaitDepth = 0;
  private mode = M_NONE;
  private flags = 0;
  private modeDepth = 0;
  private name = '';
  private lastOpKw = 0;
  private kwNow = 0;
  private prevKw = 0;
  private prevCode = 0;
  private justOpened = false;
  private cte = C_NONE;
  private cteDepth = 0;
  private readonly ctes: string[] = [];
  private ddlVerb = '';
  private ddlSteps = 0;
  private ddlMaterialized = false;

  run(sql: string, dialect: SqlDialect, max: number): QuerySummary {
    this.text = sql;
    this.max = max;
    this.out = '';
    this.full = false;
    this.pendingOp = this.lastOp = null;
    this.lastTarget = '';
    this.firstOp = this.mainOp = this.collection = undefined;
    this.collections = this.statement = 0;
    this.resetStatement();
    const lx = this.lx;
    lx.reset(sql, dialect);
    for (;;) {
      const kind = lx.next();
      if (kind === T_EOF || kind === T_UNTERMINATED) break;
      if (kind === T_PUNCT && lx.code === 0x3b) {
        this.endStatement();
        this.statement++;
      } else {
        this.step(kind);
        if (this.full) break;
      }
      this.prevKw = this.kwNow;
      this.prevCode = kind === T_PUNCT ? lx.code : 0;
    }
    if (!this.full) this.endStatement();
    this.flushOp();
    const result: QuerySummary = {
      summary: this.out || OTHER_SUMMARY,
      operation: this.mainOp ?? this.firstOp,
      collection: !this.full && this.collections === 1 ? this.collection : undefined,
    };
    this.text = this.out = this.name = this.lastTarget = '';
    return result;
  }

  private resetStatement(): void {
    this.depth = this.modeDepth = this.lastOpKw = this.kwNow = this.prevKw = this.prevCode = 0;
    this.mode = M_NONE;
    this.flags = 0;
    this.atStart = true;
    this.opaque = this.awaitAs = this.justOpened = false;
    this.cte = C_NONE;
    if (this.ctes.length !== 0) this.ctes.length = 0;
    this.name = '';
  }

  private endStatement(): void {
    if (this.mode === M_PART || this.mode === M_DOT) this.commitName();
    else if (this.mode === M_DDL) this.op(this.ddlVerb);
    else if (this.mode === M_START) this.op('START');
    this.resetStatement();
  }

  private step(kind: number): void {
    const lx = this.lx;
    const k = kind === T_WORD ? kw.lookup(this.text, lx.start, lx.end) : 0;
    this.kwNow = k;
    if (this.justOpened) {
      this.justOpened = false;
      // `(SELECT …`: a subquery, where FROM names tables (unlike EXTRACT(x FROM y)).
      if ((k === SELECT || k === WITH || k === VALUES) && this.depth <= MAX_DEPTH) this.kinds[this.depth - 1] = P_QUERY;
    }
    if (this.mode !== M_NONE && this.inMode(kind, k)) return;
    if (this.opaque) return;
    if (this.awaitAs) {
      if (kind === T_PUNCT) this.paren(lx.code);
      else if (k === AS && this.depth === this.awaitDepth) {
        this.awaitAs = false;
        this.atStart = true;
      }
      return;
    }
    if (this.cte !== C_NONE && this.inCte(kind, k)) return;
    if (kind === T_PUNCT && lx.code === 0x28) this.paren(0x28);
    else if (kind !== T_WORD || !this.atStart) {
      // A statement that starts with anything but a word or `(` is not one we can name.
      if (this.atStart) this.opaque = true;
      this.atStart = false;
      if (kind === T_WORD) this.word(k);
      else if (kind === T_PUNCT) this.paren(lx.code);
    } else {
      this.atStart = false;
      this.statementOp(k);
    }
  }

  private paren(code: number): void {
    if (code === 0x28) {
      this.push(P_EXPR, 0);
      this.justOpened = true;
    } else if (code === 0x29 && this.depth > 0) {
      const d = --this.depth;
      if (d >= MAX_DEPTH) return;
      if (this.kinds[d] === P_CTE) {
        this.cte = C_AFTER_BODY;
        this.cteDepth = d;
      }
      const r = this.resumes[d];
      if (r !== 0) {
        this.mode = r & 0xff;
        this.flags = r & ~0xff;
      }
    }
  }

  private push(kind: number, resume: number): void {
    if (this.depth < MAX_DEPTH) {
      this.kinds[this.depth] = kind;
      this.resumes[this.depth] = resume;
    }
    this.depth++;
  }

  /** At the top of the statement or in a subquery (not in a function's or IN's parens). */
  private queryLevel(): boolean {
    return this.depth === 0 || (this.depth <= MAX_DEPTH && this.kinds[this.depth - 1] !== P_EXPR);
  }

  private statementOp(k: number): void {
    switch (k) {
      case SELECT:
        this.op('SELECT');
        this.lastOpKw = SELECT;
        return;
      case INSERT:
      case REPLACE:
        this.op(kw.words[k]);
        this.lastOpKw = INSERT;
        return this.list(F_COLL);
      case UPDATE:
        this.op('UPDATE');
        this.lastOpKw = UPDATE;
        return this.list(F_LIST | F_COLL);
      case DELETE:
      case MERGE:
        this.op(kw.words[k]);
        this.lastOpKw = k;
        // DELETE names its table after FROM; MERGE after INTO (a noise word here).
        if (k === MERGE) this.list(F_COLL);
        return;
      case WITH:
        this.cte = C_NAME;
        this.cteDepth = this.depth;
        return;
      case EXPLAIN:
        this.op('EXPLAIN');
        this.mode = M_EXPLAIN;
        this.modeDepth = this.depth;
        return;
      case CREATE:
      case ALTER:
      case DROP:
        this.mode = M_DDL;
        this.modeDepth = this.depth;
        this.ddlVerb = kw.words[k];
        this.ddlSteps = 0;
        this.ddlMaterialized = false;
        return;
      case TRUNCATE:
        this.op('TRUNCATE');
        return this.list(F_LIST | F_COLL | F_NOALIAS | F_OPAQUE);
      case CALL:
      case EXEC:
      case EXECUTE:
      case USE:
        this.op(kw.words[k]);
        return this.list(F_NOALIAS | F_OPAQUE);
      case LOCK:
        this.op('LOCK');
        return this.list(F_LIST | F_COLL | F_OPAQUE);
      case COPY:
        this.op('COPY');
        return this.list(F_COLL | F_NOALIAS | F_OPAQUE);
      case PREPARE:
        this.op('PREPARE');
        this.awaitAs = true;
        this.awaitDepth = this.depth;
        return;
      case START:
        this.mode = M_START;
        return;
    }
    // Anything else is named by its first word and not parsed further (BEGIN, SET, SHOW, …).
    const op = k !== 0 ? kw.words[k] : this.upperWord();
    if (op !== null) this.op(op);
    this.opaque = true;
  }

  private word(k: number): void {
    switch (k) {
      case SELECT:
        this.op('SELECT');
        this.lastOpKw = SELECT;
        return;
      case INSERT:
      case UPDATE:
      case DELETE:
      case MERGE:
        // A statement only right after `(` or `)` (a CTE body, or the statement after the
        // CTEs); elsewhere these words are DO UPDATE, FOR UPDATE, ON DELETE, THEN INSERT…
        if (this.prevCode === 0x28 || this.prevCode === 0x29) this.statementOp(k);
        return;
      case WITH:
        if (this.prevCode === 0x28) this.statementOp(k);
        return;
      case FROM:
        if (this.queryLevel() && this.prevKw !== DISTINCT) this.list(FROM_LIST);
        return;
      case JOIN:
      case STRAIGHT_JOIN:
        if (this.queryLevel()) this.list(FROM_LIST);
        return;
      case USING:
        if (this.queryLevel() && (this.lastOpKw === DELETE || this.lastOpKw === MERGE)) this.list(FROM_LIST | F_NOPAREN);
        return;
    }
  }

  private list(flags: number): void {
    this.mode = M_NAME;
    this.flags = flags;
  }

  /** Ends a name list; returns false so that the current token is then read as usual. */
  private endList(): boolean {
    const f = this.flags;
    this.mode = M_NONE;
    this.flags = 0;
    if ((f & F_OPAQUE) !== 0) this.opaque = true;
    else if ((f & F_AWAIT_AS) !== 0) {
      this.awaitAs = true;
      this.awaitDepth = this.depth;
    }
    return false;
  }

  /** Returns true when the token was consumed by the current mode. */
  private inMode(kind: number, k: number): boolean {
    const lx = this.lx;
    const punct = kind === T_PUNCT ? lx.code : 0;
    switch (this.mode) {
      case M_NAME:
        if (kind === T_WORD) {
          const f = kw.flags[k];
          if ((f & NOISE) !== 0) return true;
          if ((f & CLAUSE) !== 0) return this.endList();
          this.name = this.text.slice(lx.start, lx.end);
          this.mode = M_PART;
          return true;
        }
        if (kind === T_QUOTED) {
          this.name = unquote(this.text, lx.start, lx.end);
          this.mode = M_PART;
          return true;
        }
        if (punct === 0x28 && (this.flags & F_NOPAREN) === 0) {
          // `FROM (SELECT …) s` or `FROM (a JOIN b)`: a list of its own inside, then an alias.
          this.push(P_QUERY, M_AFTER | this.flags);
          this.flags = FROM_LIST;
          return true;
        }
        return this.endList();
      case M_PART:
        if (punct === 0x2e) {
          this.mode = M_DOT;
          return true;
        }
        if (punct === 0x28 && (this.flags & F_FUNC) !== 0) {
          // `FROM generate_series(1, 3) g, users`: a function, not a table.
          this.name = '';
          this.mode = M_NONE;
          this.push(P_EXPR, M_AFTER | this.flags);
          this.justOpened = true;
          return true;
        }
        this.commitName();
        return this.afterName(kind, k, punct);
      case M_DOT:
        if (kind === T_WORD || kind === T_QUOTED) {
          this.name += '.' + unquote(this.text, lx.start, lx.end);
          this.mode = M_PART;
          return true;
        }
        this.commitName();
        return this.afterName(kind, k, punct);
      case M_AFTER:
      case M_AFTER_ALIAS:
        return this.afterName(kind, k, punct);
      case M_ALIAS:
        if (kind !== T_WORD && kind !== T_QUOTED) return this.endList();
        this.mode = M_AFTER_ALIAS;
        return true;
      case M_DDL:
        return this.ddl(kind, k);
      case M_INDEX_ON:
        if (k === ON && this.depth === this.modeDepth) this.list(F_COLL | F_NOALIAS | F_OPAQUE);
        return kind !== T_PUNCT;
      case M_EXPLAIN:
        if (kind === T_WORD && this.depth === this.modeDepth && (kw.flags[k] & EXPLAINABLE) !== 0) {
          this.mode = M_NONE;
          this.atStart = true;
          return false;
        }
        return kind !== T_PUNCT; // parens of EXPLAIN (ANALYZE, …) are counted as usual
      case M_START:
        this.mode = M_NONE;
        this.op(k === TRANSACTION ? 'START TRANSACTION' : 'START');
        this.opaque = true;
        return true;
    }
    return false;
  }

  private afterName(kind: number, k: number, punct: number): boolean {
    this.mode = this.mode === M_AFTER_ALIAS ? M_AFTER_ALIAS : M_AFTER;
    if (punct === 0x2c && (this.flags & F_LIST) !== 0) {
      this.mode = M_NAME;
      return true;
    }
    if ((this.flags & F_NOALIAS) !== 0) return this.endList();
    if (this.mode === M_AFTER) {
      if (k === AS) {
        this.mode = M_ALIAS;
        return true;
      }
      if ((kind === T_WORD && (kw.flags[k] & CLAUSE) === 0) || kind === T_QUOTED) {
        this.mode = M_AFTER_ALIAS;
        return true;
      }
    } else if (punct === 0x28) {
      // `AS t(a, b)`: column aliases, then the list may go on.
      this.mode = M_NONE;
      this.push(P_EXPR, M_AFTER_ALIAS | this.flags);
      return true;
    }
    return this.endList();
  }

  private ddl(kind: number, k: number): boolean {
    if (kind === T_WORD && this.depth === this.modeDepth && (kw.flags[k] & OBJECT) !== 0) {
      if (k === MATERIALIZED) {
        this.ddlMaterialized = true;
        return true;
      }
      const verb = this.ddlVerb;
      this.mode = M_NONE;
      this.op(`${verb} ${this.ddlMaterialized && k === VIEW ? 'MATERIALIZED VIEW' : kw.words[k]}`);
      // Role and user names are people: left out of a low-cardinality summary.
      if (k === USER || k === ROLE) this.opaque = true;
      else if (k === INDEX && verb === 'CREATE') {
        this.mode = M_INDEX_ON;
        this.modeDepth = this.depth;
      } else {
        const coll = k === TABLE || k === VIEW ? F_COLL : 0;
        const after = verb === 'CREATE' && coll !== 0 ? F_AWAIT_AS : F_OPAQUE;
        this.list(coll | after | F_NOALIAS | (verb === 'DROP' ? F_LIST : 0));
      }
      return true;
    }
    // OR REPLACE, TEMPORARY, UNIQUE, DEFINER=…: a few words at most before the object type.
    if (++this.ddlSteps > 8) {
      this.mode = M_NONE;
      this.op(this.ddlVerb);
      this.opaque = true;
      return true;
    }
    return kind !== T_PUNCT;
  }

  private commitName(): void {
    const name = this.name;
    this.name = '';
    this.mode = M_AFTER;
    if (name === '' || this.isCte(name)) return;
    if (this.pendingOp !== null) {
      const op = this.pendingOp;
      this.pendingOp = null;
      this.write(op);
      this.lastOp = op;
      this.lastTarget = '';
    }
    // A self-join names its table once: `SELECT employees`, not `SELECT employees employees`.
    if (name !== this.lastTarget) this.write(name);
    this.lastTarget = name;
    if ((this.flags & F_COLL) === 0) return;
    if (this.collections === 0) {
      this.collection = name;
      this.collections = 1;
    } else if (name !== this.collection) this.collections = 2;
  }

  private isCte(name: string): boolean {
    if (this.ctes.length === 0 || name.includes('.')) return false;
    return this.ctes.includes(name.toLowerCase());
  }

  private inCte(kind: number, k: number): boolean {
    const lx = this.lx;
    switch (this.cte) {
      case C_NAME:
        if (k === RECURSIVE) return true;
        if (kind === T_WORD || kind === T_QUOTED) {
          // CTE names are not collections: `FROM x` of a CTE x is left out of the summary.
          if (this.ctes.length < MAX_CTES) this.ctes.push(unquote(this.text, lx.start, lx.end).toLowerCase());
          this.cte = C_AFTER_NAME;
          return true;
        }
        break;
      case C_AFTER_NAME:
        if (this.depth > this.cteDepth || (kind === T_PUNCT && lx.code === 0x28)) return false; // column list
        if (k === AS) {
          this.cte = C_BODY;
          return true;
        }
        break;
      case C_BODY:
        if (kind === T_PUNCT && lx.code === 0x28) {
          this.push(P_CTE, 0);
          this.cte = C_NONE;
          return true;
        }
        if (kind === T_WORD) return true; // [NOT] MATERIALIZED
        break;
      case C_AFTER_BODY:
        if (kind === T_PUNCT && lx.code === 0x2c) {
          this.cte = C_NAME;
          return true;
        }
        break;
    }
    this.cte = C_NONE;
    return false;
  }

  private op(text: string): void {
    this.flushOp();
    this.pendingOp = text;
    if (this.firstOp === undefined) this.firstOp = text;
    if (this.mainOp === undefined && this.statement === 0 && this.depth === 0) this.mainOp = text;
  }

  /**
   * Writes the pending operation that got no target, unless the operation before it is the
   * same word: `WITH x AS (SELECT … FROM orders) SELECT * FROM x` is `SELECT orders`.
   */
  private flushOp(): void {
    const op = this.pendingOp;
    if (op === null) return;
    this.pendingOp = null;
    if (op === this.lastOp) return;
    this.write(op);
    this.lastOp = op;
    this.lastTarget = '';
  }

  private write(piece: string): void {
    if (this.full) return;
    const out = this.out;
    if ((out.length === 0 ? 0 : out.length + 1) + piece.length > this.max) {
      this.full = true;
      return;
    }
    this.out = out.length === 0 ? piece : out + ' ' + piece;
  }

  /** An unknown first word, upper-cased, if it looks like a keyword (letters, ≤ 32). */
  private upperWord(): string | null {
    const { start, end } = this.lx;
    if (end - start > 32) return null;
    for (let i = start; i < end; i++) {
      const c = this.text.charCodeAt(i) | 0x20;
      if ((c < 0x61 || c > 0x7a) && c !== 0x7f) return null;
    }
    return this.text.slice(start, end).toUpperCase();
  }
}

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
