// The summary as it is written: operations and their targets in the order they appear,
// capped at a length, plus what db.operation.name and db.collection.name are taken from.
import type { QuerySummary } from '../summary.js';

/** The summary when nothing in the statement was recognised. */
export const OTHER_SUMMARY = 'OTHER';

export class SummaryWriter {
  private out = '';
  private max = 0;
  /** A piece did not fit: the summary is cut there and nothing more is written. */
  full = false;
  /** The last operation, written only once it has a target (or the next operation comes). */
  private pendingOp: string | null = null;
  private lastOp: string | null = null;
  private lastTarget = '';
  private firstOp: string | undefined;
  private mainOp: string | undefined;
  private collection: string | undefined;
  /** Distinct collections seen: 0, 1 or 2 (meaning "more than one"). */
  private collections = 0;

  reset(max: number): void {
    this.out = '';
    this.max = max;
    this.full = false;
    this.pendingOp = this.lastOp = null;
    this.lastTarget = '';
    this.firstOp = this.mainOp = this.collection = undefined;
    this.collections = 0;
  }

  /** An operation; `main` when it is that of the first statement, outside any parenthesis. */
  op(text: string, main: boolean): void {
    this.flushOp();
    this.pendingOp = text;
    if (this.firstOp === undefined) this.firstOp = text;
    if (this.mainOp === undefined && main) this.mainOp = text;
  }

  /** A table (or other object) the last operation works on; `collection` for db.collection.name. */
  target(name: string, collection: boolean): void {
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
    if (!collection) return;
    if (this.collections === 0) {
      this.collection = name;
      this.collections = 1;
    } else if (name !== this.collection) this.collections = 2;
  }

  /** The result; the writer keeps no string of the statement afterwards. */
  finish(): QuerySummary {
    this.flushOp();
    const result: QuerySummary = {
      summary: this.out || OTHER_SUMMARY,
      operation: this.mainOp ?? this.firstOp,
      collection: !this.full && this.collections === 1 ? this.collection : undefined,
    };
    this.out = this.lastTarget = '';
    return result;
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
}
