// Lists of table references: what follows FROM, JOIN, INSERT INTO, UPDATE, DROP TABLE, … up to
// the clause that ends the list. Each name (qualified or quoted) becomes a summary target;
// aliases, column aliases and function calls (`FROM generate_series(1, 3) g`) are skipped.
import { COMMA, DOT, LPAREN } from '../chars.js';
import { T_QUOTED, T_WORD, type SqlLexer } from '../lexer.js';
import type { CteList } from './ctes.js';
import { AS, hasRole, OR, Role } from './keywords.js';
import { Paren, type ParenStack } from './parens.js';
import type { SummaryWriter } from './writer.js';
import { unquote } from './unquote.js';

/** Where the reader is in a list. Fits in the low byte of a packed resume state. */
export const NameState = {
  /** Not reading a list. */
  Idle: 0,
  /** A name is expected (after FROM, `,`, …). */
  Expect: 1,
  /** Inside a name: `.` continues it. */
  InName: 2,
  /** After the `.` of a qualified name. */
  AfterDot: 3,
  /** After a name: an alias, `,` or the end of the list. */
  AfterName: 4,
  /** After AS: the alias. */
  AfterAs: 5,
  /** After the alias: column aliases `(a, b)`, `,` or the end of the list. */
  AfterAlias: 6,
  /** After SQLite's `INSERT OR` / `UPDATE OR`: the conflict action (REPLACE, IGNORE, …). */
  AfterOr: 7,
} as const;
export type NameState = (typeof NameState)[keyof typeof NameState];

/** How a list reads (bits above the NameState byte, so that both pack into one number). */
export const ListFlag = {
  /** `,` continues the list. */
  List: 1 << 8,
  /** The names are collections (db.collection.name). */
  Collection: 2 << 8,
  /** `name(` is a function call, not a table. */
  Function: 4 << 8,
  /** A `(` where a name is expected is not a parenthesised table list. */
  NoParen: 8 << 8,
  /** No alias after a name. */
  NoAlias: 16 << 8,
  /** After the list, the rest of the statement names nothing more. */
  ThenOpaque: 32 << 8,
  /** After the list, what follows AS is a query (CREATE TABLE … AS SELECT). */
  ThenQuery: 64 << 8,
} as const;

/** The list after FROM and JOIN. */
export const FROM_LIST = ListFlag.List | ListFlag.Collection | ListFlag.Function;
const STATE_BITS = 0xff;

export class NameList {
  state: NameState = NameState.Idle;
  /** ListFlag bits of the list being read. */
  private flags = 0;
  /** When the last list ended: its ThenOpaque / ThenQuery bit, for the statement to act on. */
  next = 0;
  /** The (qualified) name read so far. */
  private name = '';

  private readonly lx: SqlLexer;
  private readonly parens: ParenStack;
  private readonly ctes: CteList;
  private readonly writer: SummaryWriter;

  constructor(lx: SqlLexer, parens: ParenStack, ctes: CteList, writer: SummaryWriter) {
    this.lx = lx;
    this.parens = parens;
    this.ctes = ctes;
    this.writer = writer;
  }

  reset(): void {
    this.state = NameState.Idle;
    this.flags = 0;
    this.name = '';
  }

  start(flags: number): void {
    this.state = NameState.Expect;
    this.flags = flags;
  }

  /** Goes back to a state packed by a `(` of this list (ParenStack.open), at its `)`. */
  resume(packed: number): void {
    this.state = (packed & STATE_BITS) as NameState;
    this.flags = packed & ~STATE_BITS;
  }

  /** The statement ends: a name being read is complete. */
  finish(): void {
    if (this.state === NameState.InName || this.state === NameState.AfterDot) this.commit();
  }

  /**
   * Reads one token of `text` (`punct`: its character for T_PUNCT, else 0). False: the list
   * ended before it.
   */
  read(text: string, kind: number, k: number, punct: number): boolean {
    const lx = this.lx;
    switch (this.state) {
      case NameState.Expect:
        if (kind === T_WORD) {
          if (hasRole(k, Role.Noise)) return true;
          if (k === OR) {
            this.state = NameState.AfterOr;
            return true;
          }
          if (hasRole(k, Role.Clause)) return this.end();
          this.name = text.slice(lx.start, lx.end);
          this.state = NameState.InName;
          return true;
        }
        if (kind === T_QUOTED) {
          this.name = unquote(text, lx.start, lx.end);
          this.state = NameState.InName;
          return true;
        }
        if (punct === LPAREN && (this.flags & ListFlag.NoParen) === 0) {
          // `FROM (SELECT …) s` or `FROM (a JOIN b)`: a list of its own inside, then an alias.
          this.parens.open(Paren.Query, NameState.AfterName | this.flags);
          this.flags = FROM_LIST;
          return true;
        }
        return this.end();
      case NameState.InName:
        if (punct === DOT) {
          this.state = NameState.AfterDot;
          return true;
        }
        if (punct === LPAREN && (this.flags & ListFlag.Function) !== 0) {
          // `FROM generate_series(1, 3) g, users`: a function, not a table.
          this.name = '';
          this.state = NameState.Idle;
          this.parens.openUndecided(NameState.AfterName | this.flags);
          return true;
        }
        this.commit();
        return this.afterName(kind, k, punct);
      case NameState.AfterDot:
        if (kind === T_WORD || kind === T_QUOTED) {
          this.name += `.${unquote(text, lx.start, lx.end)}`;
          this.state = NameState.InName;
          return true;
        }
        this.commit();
        return this.afterName(kind, k, punct);
      case NameState.AfterName:
      case NameState.AfterAlias:
        return this.afterName(kind, k, punct);
      case NameState.AfterAs:
        if (kind !== T_WORD && kind !== T_QUOTED) return this.end();
        this.state = NameState.AfterAlias;
        return true;
      case NameState.AfterOr:
        if (kind !== T_WORD) return this.end();
        this.state = NameState.Expect;
        return true;
    }
    return false;
  }

  private afterName(kind: number, k: number, punct: number): boolean {
    if (this.state !== NameState.AfterAlias) this.state = NameState.AfterName;
    if (punct === COMMA && (this.flags & ListFlag.List) !== 0) {
      this.state = NameState.Expect;
      return true;
    }
    if ((this.flags & ListFlag.NoAlias) !== 0) return this.end();
    if (this.state === NameState.AfterName) {
      if (k === AS) {
        this.state = NameState.AfterAs;
        return true;
      }
      if ((kind === T_WORD && !hasRole(k, Role.Clause)) || kind === T_QUOTED) {
        this.state = NameState.AfterAlias;
        return true;
      }
    } else if (punct === LPAREN) {
      // `AS t(a, b)`: column aliases, then the list may go on.
      this.state = NameState.Idle;
      this.parens.open(Paren.Expr, NameState.AfterAlias | this.flags);
      return true;
    }
    return this.end();
  }

  /** Ends the list; returns false so that the current token is then read as usual. */
  private end(): boolean {
    this.next = this.flags & (ListFlag.ThenOpaque | ListFlag.ThenQuery);
    this.state = NameState.Idle;
    this.flags = 0;
    return false;
  }

  private commit(): void {
    const name = this.name;
    this.name = '';
    this.state = NameState.AfterName;
    // CTE names are not collections: `FROM x` of a CTE x is left out of the summary.
    if (name === '' || this.ctes.has(name)) return;
    this.writer.target(name, (this.flags & ListFlag.Collection) !== 0);
  }
}
