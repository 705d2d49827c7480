// The golden corpus: statements shaped like what Prisma, Sequelize, TypeORM, Knex and Drizzle
// send (test/fixtures/sql/*.sql), each checked against the summary, operation, collection and
// sanitized text recorded in the sibling `.expected.json`. It pins the behaviour of the whole
// statement pipeline on real-world shapes, so a refactor of the lexer, the sanitizer or the
// summary cannot change an output unnoticed.
//
// After a deliberate behaviour change, regenerate and review the diff of the .expected.json files:
//   UPDATE_GOLDEN=1 npx vitest run test/unit/sql-golden.test.ts
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sanitizeSql } from '../../src/db/sanitize.js';
import { summarizeSql } from '../../src/db/summary.js';
import type { SqlDialect } from '../../src/db/lexer.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/sql');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** A line that starts a statement; the rest of the line is an optional note for reviewers. */
const MARKER = '-- ##';
const DIALECTS: readonly SqlDialect[] = ['postgresql', 'mysql', 'other'];

interface Statement {
  /** 1-based line of the statement's first line in the .sql file. */
  line: number;
  sql: string;
}

interface Outcome {
  sql: string;
  summary: string;
  operation: string | null;
  collection: string | null;
  sanitized: string;
}

interface Expected {
  dialect: SqlDialect;
  statements: Outcome[];
}

/** The header's `-- dialect: …`, then one statement per marker (surrounding blank lines trimmed). */
function parseCorpus(file: string, text: string): { dialect: SqlDialect; statements: Statement[] } {
  const lines = text.split('\n');
  let dialect: SqlDialect | undefined;
  const statements: Statement[] = [];
  let current: { line: number; lines: string[] } | undefined;
  const close = () => {
    if (current === undefined) return;
    const sql = current.lines
      .join('\n')
      .replace(/^\s*\n/, '')
      .trimEnd();
    const skipped = current.lines.findIndex((l) => l.trim() !== '');
    if (sql === '') throw new Error(`${file}:${current.line}: empty statement`);
    statements.push({ line: current.line + Math.max(skipped, 0), sql });
  };
  lines.forEach((l, i) => {
    if (l.startsWith(MARKER)) {
      close();
      current = { line: i + 2, lines: [] };
    } else if (current !== undefined) current.lines.push(l);
    else {
      const m = /^-- dialect: (\S+)\s*$/.exec(l);
      if (m) dialect = m[1] as SqlDialect;
    }
  });
  close();
  if (dialect === undefined || !DIALECTS.includes(dialect)) throw new Error(`${file}: header needs "-- dialect: ${DIALECTS.join(' | ')}"`);
  return { dialect, statements };
}

function outcome(sql: string, dialect: SqlDialect): Outcome {
  const s = summarizeSql(sql, { dialect });
  return {
    sql,
    summary: s.summary,
    operation: s.operation ?? null,
    collection: s.collection ?? null,
    sanitized: sanitizeSql(sql, { dialect }),
  };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort();

describe('golden SQL corpus (test/fixtures/sql)', () => {
  it('has statement files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s matches its .expected.json', (file) => {
    const { dialect, statements } = parseCorpus(file, readFileSync(path.join(DIR, file), 'utf8'));
    const expectedPath = path.join(DIR, file.replace(/\.sql$/, '.expected.json'));
    const actual: Expected = { dialect, statements: statements.map((s) => outcome(s.sql, dialect)) };
    if (UPDATE) {
      writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
      return;
    }
    let expected: Expected;
    try {
      expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as Expected;
    } catch (err) {
      throw new Error(`${file}: cannot read ${path.basename(expectedPath)} (${String(err)}); generate it with UPDATE_GOLDEN=1`);
    }
    expect(expected.dialect, `${file}: dialect`).toBe(dialect);
    const stale = 'the .sql file changed since the expected file was generated: regenerate with UPDATE_GOLDEN=1 and review';
    expect(expected.statements.length, `${file}: statement count (${stale})`).toBe(statements.length);
    statements.forEach((s, i) => {
      const want = expected.statements[i];
      expect.soft(want.sql, `${file}:${s.line} statement #${i + 1}: text (${stale})`).toBe(s.sql);
      expect.soft(actual.statements[i], `${file}:${s.line} statement #${i + 1}: ${s.sql.slice(0, 120)}`).toEqual(want);
    });
  });
});
