// The open parentheses of the statement being summarised: what each holds, and which state
// of the name list (names.ts) its `)` resumes.

/** What a parenthesis holds. */
export const Paren = {
  /** An expression or argument list: FROM inside is not a table list (`EXTRACT(x FROM y)`). */
  Expr: 0,
  /** A subquery or a parenthesised table list: FROM and JOIN inside name tables. */
  Query: 1,
  /** A CTE body: after its `)`, a `,` starts the next CTE. */
  CteBody: 2,
} as const;
export type Paren = (typeof Paren)[keyof typeof Paren];

/** Deeper levels are counted but not tracked: they read as expressions and resume nothing. */
const MAX_DEPTH = 64;

export class ParenStack {
  /** Open parentheses, tracked or not. */
  depth = 0;
  /** The innermost `(` was just opened and its first token decides whether it is a subquery. */
  undecided = false;
  private readonly kinds = new Uint8Array(MAX_DEPTH);
  /** Per level, the packed name-list state its `)` resumes (NameList.resume), or 0. */
  private readonly resumes = new Uint16Array(MAX_DEPTH);

  reset(): void {
    this.depth = 0;
    this.undecided = false;
  }

  open(kind: Paren, resume: number): void {
    if (this.depth < MAX_DEPTH) {
      this.kinds[this.depth] = kind;
      this.resumes[this.depth] = resume;
    }
    this.depth++;
  }

  /** A `(` that is an expression unless its first token starts a query (`(SELECT …`). */
  openUndecided(resume: number): void {
    this.open(Paren.Expr, resume);
    this.undecided = true;
  }

  /** Settles the innermost undecided `(` with the token after it. */
  decide(query: boolean): void {
    this.undecided = false;
    if (query && this.depth <= MAX_DEPTH) this.kinds[this.depth - 1] = Paren.Query;
  }

  /**
   * Closes the innermost level; true when it was tracked, and then `depth` is its index for
   * `kindAt` and `resumeAt`.
   */
  close(): boolean {
    if (this.depth === 0) return false;
    return --this.depth < MAX_DEPTH;
  }

  kindAt(level: number): number {
    return this.kinds[level];
  }

  resumeAt(level: number): number {
    return this.resumes[level];
  }

  /** At the top of the statement or directly in a subquery (not in a function's or IN's parens). */
  queryLevel(): boolean {
    return this.depth === 0 || (this.depth <= MAX_DEPTH && this.kinds[this.depth - 1] !== Paren.Expr);
  }
}
