// The CTE list of WITH: `WITH [RECURSIVE] a [(cols)] AS [NOT MATERIALIZED] (…), b AS (…)`.
// CTE names are remembered so that `FROM a` is not taken for a table; the bodies are read as
// subqueries by the rest of the summary.
import { COMMA, LPAREN } from '../chars.js';
import { T_QUOTED, T_WORD, type SqlLexer } from '../lexer.js';
import { AS, RECURSIVE } from './keywords.js';
import { unquote } from './names.js';
import { Paren, type ParenStack } from './parens.js';

export const CteState = {
  /** Not in a CTE list. */
  None: 0,
  /** After WITH or `,`: the CTE's name. */
  Name: 1,
  /** After the name: column list or AS. */
  AfterName: 2,
  /** After AS: [NOT] MATERIALIZED, then the body's `(`. */
  Body: 3,
  /** After the body's `)`: `,` for another CTE, or the statement. */
  AfterBody: 4,
} as const;
export type CteState = (typeof CteState)[keyof typeof CteState];

/** CTEs remembered per statement; more are read but their names are not left out. */
const MAX_CTES = 32;

export class CteList {
  state: CteState = CteState.None;
  /** Parenthesis depth of the WITH, where the names and the `,` between CTEs are. */
  private depth = 0;
  /** Lower-cased names of the statement's CTEs. */
  private readonly names: string[] = [];

  private readonly lx: SqlLexer;
  private readonly parens: ParenStack;

  constructor(lx: SqlLexer, parens: ParenStack) {
    this.lx = lx;
    this.parens = parens;
  }

  reset(): void {
    this.state = CteState.None;
    if (this.names.length !== 0) this.names.length = 0;
  }

  /** WITH at parenthesis `depth`. */
  start(depth: number): void {
    this.state = CteState.Name;
    this.depth = depth;
  }

  /** The `)` of a CTE body closed, back at `depth`. */
  bodyClosed(depth: number): void {
    this.state = CteState.AfterBody;
    this.depth = depth;
  }

  /** `name` (unqualified) is one of the statement's CTEs. */
  has(name: string): boolean {
    if (this.names.length === 0 || name.includes('.')) return false;
    return this.names.includes(name.toLowerCase());
  }

  /** Reads one token of `text` (`punct`: its character for T_PUNCT, else 0); false when it is not the list's. */
  read(text: string, kind: number, k: number, punct: number): boolean {
    const lx = this.lx;
    switch (this.state) {
      case CteState.Name:
        if (k === RECURSIVE) return true;
        if (kind === T_WORD || kind === T_QUOTED) {
          if (this.names.length < MAX_CTES) this.names.push(unquote(text, lx.start, lx.end).toLowerCase());
          this.state = CteState.AfterName;
          return true;
        }
        break;
      case CteState.AfterName:
        if (this.parens.depth > this.depth || punct === LPAREN) return false; // column list
        if (k === AS) {
          this.state = CteState.Body;
          return true;
        }
        break;
      case CteState.Body:
        if (punct === LPAREN) {
          this.parens.open(Paren.CteBody, 0);
          this.state = CteState.None;
          return true;
        }
        if (kind === T_WORD) return true; // [NOT] MATERIALIZED
        break;
      case CteState.AfterBody:
        if (punct === COMMA) {
          this.state = CteState.Name;
          return true;
        }
        break;
    }
    this.state = CteState.None;
    return false;
  }
}
