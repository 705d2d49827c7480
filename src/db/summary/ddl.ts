// CREATE / ALTER / DROP: read up to the object type (`CREATE OR REPLACE TEMP VIEW`), name the
// operation after it (`CREATE VIEW`), then hand over to whatever names the object.
import { T_PUNCT, T_WORD } from '../lexer.js';
import { hasRole, INDEX, keywords, MATERIALIZED, ON, Role, ROLE, TABLE, USER, VIEW } from './keywords.js';
import { ListFlag } from './names.js';

/** What the DDL reader does to the statement being summarised. */
export interface DdlHost {
  /** Writes an operation (`CREATE TABLE`). */
  op(text: string): void;
  /** Reads a list of names next (ListFlag bits); the DDL reading is over. */
  readNames(flags: number): void;
  /** The DDL reading is over and the rest of the statement names nothing more. */
  stop(): void;
}

/** Words (OR REPLACE, TEMPORARY, UNIQUE, DEFINER=…) tolerated before the object type. */
const MAX_STEPS = 8;

export class DdlReader {
  /** CREATE, ALTER or DROP. */
  private verb = '';
  /** Parenthesis depth of the verb: the object type is at that depth. */
  private depth = 0;
  private steps = 0;
  private materialized = false;
  /** `CREATE INDEX …` was read: waiting for ON and the table. */
  private indexOn = false;

  private readonly host: DdlHost;

  constructor(host: DdlHost) {
    this.host = host;
  }

  start(verb: string, depth: number): void {
    this.verb = verb;
    this.depth = depth;
    this.steps = 0;
    this.materialized = false;
    this.indexOn = false;
  }

  /** The statement ends before the object type: it is named by the verb alone. */
  finish(): void {
    if (!this.indexOn) this.host.op(this.verb);
  }

  /** Reads one token at parenthesis `depth`; false when it is not consumed (punctuation). */
  read(kind: number, k: number, depth: number): boolean {
    if (this.indexOn) {
      if (k === ON && depth === this.depth) this.host.readNames(ListFlag.Collection | ListFlag.NoAlias | ListFlag.ThenOpaque);
      return kind !== T_PUNCT;
    }
    if (kind === T_WORD && depth === this.depth && hasRole(k, Role.ObjectType)) {
      if (k === MATERIALIZED) {
        this.materialized = true;
        return true;
      }
      const verb = this.verb;
      this.host.op(`${verb} ${this.materialized && k === VIEW ? 'MATERIALIZED VIEW' : keywords.words[k]}`);
      // Role and user names are people: left out of a low-cardinality summary.
      if (k === USER || k === ROLE) this.host.stop();
      else if (k === INDEX && verb === 'CREATE') this.indexOn = true;
      else {
        const coll = k === TABLE || k === VIEW ? ListFlag.Collection : 0;
        const then = verb === 'CREATE' && coll !== 0 ? ListFlag.ThenQuery : ListFlag.ThenOpaque;
        this.host.readNames(coll | then | ListFlag.NoAlias | (verb === 'DROP' ? ListFlag.List : 0));
      }
      return true;
    }
    if (++this.steps > MAX_STEPS) {
      this.host.op(this.verb);
      this.host.stop();
      return true;
    }
    return kind !== T_PUNCT;
  }
}
