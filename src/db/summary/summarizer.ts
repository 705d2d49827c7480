// One pass over the shared lexer's tokens, statement by statement: the first word names the
// statement, then small readers take over where names appear — table lists (names.ts), CTE
// lists (ctes.ts), DDL object types (ddl.ts) — and parentheses are tracked (parens.ts) so that
// subqueries are read like statements and function arguments are not. No parse tree.
import { LPAREN, RPAREN, SEMICOLON } from '../chars.js';
import { SqlLexer, T_EOF, T_PUNCT, T_UNTERMINATED, T_WORD, type SqlDialect } from '../lexer.js';
import type { QuerySummary } from './writer.js';
import { CteList, CteState } from './ctes.js';
import { DdlReader, type DdlHost } from './ddl.js';
import {
  ALTER,
  AS,
  CALL,
  COPY,
  CREATE,
  DELETE,
  DISTINCT,
  DROP,
  EXEC,
  EXECUTE,
  EXPLAIN,
  FROM,
  hasRole,
  INSERT,
  JOIN,
  keywords,
  LOCK,
  MERGE,
  PREPARE,
  REPLACE,
  Role,
  SELECT,
  START,
  STRAIGHT_JOIN,
  TRANSACTION,
  TRUNCATE,
  UPDATE,
  upperWord,
  USE,
  USING,
  VALUES,
  WITH,
} from './keywords.js';
import { FROM_LIST, ListFlag, NameList, NameState } from './names.js';
import { Paren, ParenStack } from './parens.js';
import { SummaryWriter } from './writer.js';

/** Which reader the next token goes to first. */
const Mode = {
  None: 0,
  /** A list of table references (NameList). */
  Names: 1,
  /** CREATE/ALTER/DROP before the object type is known (DdlReader). */
  Ddl: 2,
  /** EXPLAIN's options, up to the statement it explains. */
  Explain: 3,
  /** START [TRANSACTION]. */
  Start: 4,
} as const;
type Mode = (typeof Mode)[keyof typeof Mode];

export class Summarizer implements DdlHost {
  private readonly lx = new SqlLexer();
  private readonly writer = new SummaryWriter();
  private readonly parens = new ParenStack();
  private readonly ctes = new CteList(this.lx, this.parens);
  private readonly names = new NameList(this.lx, this.parens, this.ctes, this.writer);
  private readonly ddl = new DdlReader(this);
  private text = '';
  /** Index of the statement being read (`;` separates them). */
  private statement = 0;
  // The statement being read.
  private mode: Mode = Mode.None;
  /** Parenthesis depth of EXPLAIN: the statement it explains starts at that depth. */
  private explainDepth = 0;
  /** The next word is the statement's (or a subquery's) first. */
  private atStart = true;
  /** Nothing more in this statement is named (SET …, BEGIN …, after TRUNCATE t, …). */
  private opaque = false;
  /** Depth at which AS introduces the query (PREPARE q AS SELECT, CREATE TABLE t AS …), or -1. */
  private awaitQueryAt = -1;
  /** The operation keyword of the last statement or subquery (DELETE and MERGE read USING). */
  private lastOpKw = 0;
  private prevKw = 0;
  /** The previous token's character when it was punctuation, else 0. */
  private prevCode = 0;

  run(sql: string, dialect: SqlDialect, max: number): QuerySummary {
    const lx = this.lx;
    const writer = this.writer;
    this.text = sql;
    writer.reset(max);
    this.statement = 0;
    this.resetStatement();
    lx.reset(sql, dialect);
    for (;;) {
      const kind = lx.next();
      if (kind === T_EOF || kind === T_UNTERMINATED) break;
      if (kind === T_PUNCT && lx.code === SEMICOLON) {
        this.endStatement();
        this.statement++;
      } else {
        const k = kind === T_WORD ? keywords.lookup(sql, lx.start, lx.end) : 0;
        this.step(kind, k);
        if (writer.full) break;
        this.prevKw = k;
      }
      this.prevCode = kind === T_PUNCT ? lx.code : 0;
    }
    if (!writer.full) this.endStatement();
    const result = writer.finish();
    // Keep nothing of the caller's text.
    this.text = '';
    this.names.reset();
    this.ctes.reset();
    return result;
  }

  op(text: string): void {
    this.writer.op(text, this.statement === 0 && this.parens.depth === 0);
  }

  readNames(flags: number): void {
    this.mode = Mode.Names;
    this.names.start(flags);
  }

  stop(): void {
    this.mode = Mode.None;
    this.opaque = true;
  }

  private resetStatement(): void {
    this.parens.reset();
    this.names.reset();
    this.ctes.reset();
    this.mode = Mode.None;
    this.explainDepth = this.lastOpKw = this.prevKw = this.prevCode = 0;
    this.atStart = true;
    this.opaque = false;
    this.awaitQueryAt = -1;
  }

  private endStatement(): void {
    if (this.mode === Mode.Names) this.names.finish();
    else if (this.mode === Mode.Ddl) this.ddl.finish();
    else if (this.mode === Mode.Start) this.op('START');
    this.resetStatement();
  }

  // Runs for every token: its bytecode is kept under V8's size limit for inlining (460 bytes)
  // so that run()'s loop inlines it; the rarer paths are methods of their own.
  private step(kind: number, k: number): void {
    const parens = this.parens;
    // `(SELECT …`: a subquery, where FROM names tables (unlike EXTRACT(x FROM y)).
    if (parens.undecided) parens.decide(k === SELECT || k === WITH || k === VALUES);
    const punct = kind === T_PUNCT ? this.lx.code : 0;
    if (this.mode !== Mode.None && this.inMode(kind, k, punct)) return;
    if (this.opaque) return;
    if (this.awaitQueryAt >= 0) {
      this.awaitQuery(kind, k, punct);
      return;
    }
    if (this.ctes.state !== CteState.None && this.ctes.read(this.text, kind, k, punct)) return;
    if (punct === LPAREN) this.paren(punct);
    else if (kind !== T_WORD || !this.atStart) {
      // A statement that starts with anything but a word or `(` is not one we can name.
      if (this.atStart) this.opaque = true;
      this.atStart = false;
      if (kind === T_WORD) this.word(k);
      else if (kind === T_PUNCT) this.paren(punct);
    } else {
      this.atStart = false;
      this.statementOp(k);
    }
  }

  /** A token of a list of names; false when the list ended before it. */
  private readName(kind: number, k: number, punct: number): boolean {
    const names = this.names;
    if (names.read(this.text, kind, k, punct)) {
      // Paused at a `(` (a function's arguments, column aliases) until its `)` resumes it.
      if (names.state === NameState.Idle) this.mode = Mode.None;
      return true;
    }
    this.mode = Mode.None;
    const then = names.next;
    if ((then & ListFlag.ThenOpaque) !== 0) this.opaque = true;
    else if ((then & ListFlag.ThenQuery) !== 0) this.awaitQueryAt = this.parens.depth;
    return false;
  }

  /** Skips to the AS that introduces the query (counting parentheses on the way). */
  private awaitQuery(kind: number, k: number, punct: number): void {
    if (kind === T_PUNCT) this.paren(punct);
    else if (k === AS && this.parens.depth === this.awaitQueryAt) {
      this.awaitQueryAt = -1;
      this.atStart = true;
    }
  }

  /** Returns true when the token was consumed by the current mode. */
  private inMode(kind: number, k: number, punct: number): boolean {
    switch (this.mode) {
      case Mode.Names:
        return this.readName(kind, k, punct);
      case Mode.Ddl:
        return this.ddl.read(kind, k, this.parens.depth);
      case Mode.Explain:
        if (kind === T_WORD && this.parens.depth === this.explainDepth && hasRole(k, Role.Explainable)) {
          this.mode = Mode.None;
          this.atStart = true;
          return false;
        }
        return kind !== T_PUNCT; // parens of EXPLAIN (ANALYZE, …) are counted as usual
      case Mode.Start:
        this.mode = Mode.None;
        this.op(k === TRANSACTION ? 'START TRANSACTION' : 'START');
        this.opaque = true;
        return true;
    }
    return false;
  }

  private paren(code: number): void {
    const parens = this.parens;
    if (code === LPAREN) parens.openUndecided(0);
    else if (code === RPAREN && parens.close()) {
      const level = parens.depth;
      if (parens.kindAt(level) === Paren.CteBody) this.ctes.bodyClosed(level);
      const resume = parens.resumeAt(level);
      if (resume !== 0) {
        this.mode = Mode.Names;
        this.names.resume(resume);
      }
    }
  }

  private statementOp(k: number): void {
    const depth = this.parens.depth;
    switch (k) {
      case SELECT:
        this.op('SELECT');
        this.lastOpKw = SELECT;
        return;
      case INSERT:
      case REPLACE:
        this.op(keywords.words[k]);
        this.lastOpKw = INSERT;
        this.readNames(ListFlag.Collection);
        return;
      case UPDATE:
        this.op('UPDATE');
        this.lastOpKw = UPDATE;
        this.readNames(ListFlag.List | ListFlag.Collection);
        return;
      case DELETE:
      case MERGE:
        this.op(keywords.words[k]);
        this.lastOpKw = k;
        // DELETE names its table after FROM; MERGE after INTO (a noise word here).
        if (k === MERGE) this.readNames(ListFlag.Collection);
        return;
      case WITH:
        this.ctes.start(depth);
        return;
      case EXPLAIN:
        this.op('EXPLAIN');
        this.mode = Mode.Explain;
        this.explainDepth = depth;
        return;
      case CREATE:
      case ALTER:
      case DROP:
        this.mode = Mode.Ddl;
        this.ddl.start(keywords.words[k], depth);
        return;
      case TRUNCATE:
        this.op('TRUNCATE');
        this.readNames(ListFlag.List | ListFlag.Collection | ListFlag.NoAlias | ListFlag.ThenOpaque);
        return;
      case CALL:
      case EXEC:
      case EXECUTE:
      case USE:
        this.op(keywords.words[k]);
        this.readNames(ListFlag.NoAlias | ListFlag.ThenOpaque);
        return;
      case LOCK:
        this.op('LOCK');
        this.readNames(ListFlag.List | ListFlag.Collection | ListFlag.ThenOpaque);
        return;
      case COPY:
        this.op('COPY');
        this.readNames(ListFlag.Collection | ListFlag.NoAlias | ListFlag.ThenOpaque);
        return;
      case PREPARE:
        this.op('PREPARE');
        this.awaitQueryAt = depth;
        return;
      case START:
        this.mode = Mode.Start;
        return;
    }
    // Anything else is named by its first word and not parsed further (BEGIN, SET, SHOW, …).
    const op = k !== 0 ? keywords.words[k] : upperWord(this.text, this.lx.start, this.lx.end);
    if (op !== null) this.op(op);
    this.opaque = true;
  }

  /** A word after the statement's first. */
  private word(k: number): void {
    switch (k) {
      case SELECT:
        this.statementOp(k);
        return;
      case INSERT:
      case UPDATE:
      case DELETE:
      case MERGE:
        // A statement only right after `(` or `)` (a CTE body, or the statement after the
        // CTEs); elsewhere these words are DO UPDATE, FOR UPDATE, ON DELETE, THEN INSERT…
        if (this.prevCode === LPAREN || this.prevCode === RPAREN) this.statementOp(k);
        return;
      case WITH:
        if (this.prevCode === LPAREN) this.statementOp(k);
        return;
      case FROM:
        if (this.parens.queryLevel() && this.prevKw !== DISTINCT) this.readNames(FROM_LIST);
        return;
      case STRAIGHT_JOIN:
        // Right after SELECT (or DISTINCT, HIGH_PRIORITY …) it is MySQL's join-order hint.
        if (this.prevKw === SELECT || hasRole(this.prevKw, Role.SelectOption)) return;
        if (this.parens.queryLevel()) this.readNames(FROM_LIST);
        return;
      case JOIN:
        if (this.parens.queryLevel()) this.readNames(FROM_LIST);
        return;
      case USING:
        if (this.parens.queryLevel() && (this.lastOpKw === DELETE || this.lastOpKw === MERGE)) {
          this.readNames(FROM_LIST | ListFlag.NoParen);
        }
    }
  }
}
