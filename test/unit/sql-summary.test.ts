import { describe, expect, it } from 'vitest';
import { summarizeSql, type QuerySummary } from '../../src/db/summary.js';

/** A small deterministic PRNG (mulberry32), so a failing random case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** [sql, summary, operation, collection]: undefined operation/collection means "not set". */
type Row = [string, string, string?, string?];

const expectSummary = (got: QuerySummary, [, summary, operation, collection]: Row) => {
  expect({ ...got }).toEqual({ summary, operation, collection });
};

describe('summarizeSql: queries', () => {
  it.each<Row>([
    ['SELECT * FROM users WHERE id = $1', 'SELECT users', 'SELECT', 'users'],
    ['select * from Users', 'SELECT Users', 'SELECT', 'Users'],
    ['SELECT * FROM users u JOIN orders o ON o.user_id = u.id', 'SELECT users orders', 'SELECT'],
    ['select * from users u left outer join orders o using (id)', 'SELECT users orders', 'SELECT'],
    ['SELECT * FROM t1 NATURAL JOIN t2 CROSS JOIN t3', 'SELECT t1 t2 t3', 'SELECT'],
    ['SELECT * FROM songs, artists WHERE songs.artist_id = artists.id', 'SELECT songs artists', 'SELECT'],
    ['SELECT * FROM t AS x, u y WHERE x.a = y.a', 'SELECT t u', 'SELECT'],
    ['SELECT * FROM employees e JOIN employees m ON e.manager_id = m.id', 'SELECT employees', 'SELECT', 'employees'],
    ['SELECT * FROM public.users', 'SELECT public.users', 'SELECT', 'public.users'],
    ['SELECT * FROM "public"."Users"', 'SELECT public.Users', 'SELECT', 'public.Users'],
    ['SELECT * FROM "song list", artists', 'SELECT "song list" artists', 'SELECT'],
    ['SELECT * FROM users WHERE id IN (SELECT user_id FROM orders)', 'SELECT users SELECT orders', 'SELECT'],
    ['SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c IN (SELECT d FROM v))', 'SELECT t SELECT u SELECT v', 'SELECT'],
    ['SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id)', 'SELECT t SELECT u', 'SELECT'],
    ['SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id)', 'SELECT SELECT orders customers', 'SELECT'],
    ['SELECT * FROM a LEFT JOIN LATERAL (SELECT * FROM b WHERE b.x = a.x) c ON true', 'SELECT a SELECT b', 'SELECT'],
    ['SELECT ARRAY(SELECT id FROM t)', 'SELECT SELECT t', 'SELECT', 't'],
    ['SELECT a FROM t1 UNION ALL SELECT a FROM t2', 'SELECT t1 SELECT t2', 'SELECT'],
    ['(SELECT a FROM t1) UNION (SELECT a FROM t2)', 'SELECT t1 SELECT t2', 'SELECT'],
    ['SELECT EXTRACT(YEAR FROM created_at) FROM events', 'SELECT events', 'SELECT', 'events'],
    ["SELECT substring(name FROM 2 FOR 3), trim(both 'x' from y) FROM t", 'SELECT t', 'SELECT', 't'],
    ['SELECT * FROM a WHERE x IS DISTINCT FROM y', 'SELECT a', 'SELECT', 'a'],
    ['SELECT * FROM generate_series(1, 10) AS g(n), users', 'SELECT users', 'SELECT', 'users'],
    ['SELECT * FROM t TABLESAMPLE SYSTEM (10) GROUP BY a HAVING count(*) > 1 ORDER BY a LIMIT 10', 'SELECT t', 'SELECT', 't'],
    ['SELECT * FROM jobs WHERE id = $1 FOR UPDATE SKIP LOCKED', 'SELECT jobs', 'SELECT', 'jobs'],
    ['SELECT 1', 'SELECT', 'SELECT'],
    ["SELECT 'FROM secrets' FROM t", 'SELECT t', 'SELECT', 't'],
    ['/* leading */ SELECT * FROM /* FROM secrets */ t -- FROM more', 'SELECT t', 'SELECT', 't'],
  ])('%j → %j', (...row) => expectSummary(summarizeSql(row[0]), row));
});

describe('summarizeSql: writes and CTEs', () => {
  it.each<Row>([
    ['INSERT INTO orders (id, total) VALUES ($1, $2)', 'INSERT orders', 'INSERT', 'orders'],
    ['INSERT INTO orders (id) SELECT id FROM carts WHERE x = 1', 'INSERT orders SELECT carts', 'INSERT'],
    ['INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = excluded.a', 'INSERT t', 'INSERT', 't'],
    ['UPDATE users SET name = $1 WHERE id = $2', 'UPDATE users', 'UPDATE', 'users'],
    ['UPDATE users u SET x = o.x FROM orders o WHERE o.uid = u.id', 'UPDATE users orders', 'UPDATE'],
    ['DELETE FROM sessions WHERE expires < now()', 'DELETE sessions', 'DELETE', 'sessions'],
    ['DELETE FROM a USING b WHERE a.id = b.id', 'DELETE a b', 'DELETE'],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = 1 WHEN NOT MATCHED THEN INSERT VALUES (1)', 'MERGE t s', 'MERGE'],
    ['WITH x AS (SELECT * FROM orders WHERE total > 10) SELECT * FROM x', 'SELECT orders', 'SELECT', 'orders'],
    ['WITH a AS (SELECT * FROM t1), b AS (SELECT * FROM t2 JOIN a ON true) SELECT * FROM a, b', 'SELECT t1 SELECT t2', 'SELECT'],
    ['WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d', 'DELETE a INSERT b SELECT', 'INSERT'],
    ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r', 'SELECT', 'SELECT'],
    ['BEGIN; UPDATE accounts SET b = b - 1 WHERE id = 1; COMMIT', 'BEGIN UPDATE accounts COMMIT', 'BEGIN', 'accounts'],
    ['SELECT 1; SELECT 2', 'SELECT', 'SELECT'],
  ])('%j → %j', (...row) => expectSummary(summarizeSql(row[0]), row));
});

describe('summarizeSql: DDL and other commands', () => {
  it.each<Row>([
    ['CREATE TABLE users (id int primary key, org int references orgs (id) on delete cascade)', 'CREATE TABLE users', 'CREATE TABLE', 'users'],
    ['CREATE TABLE IF NOT EXISTS public.users (id int)', 'CREATE TABLE public.users', 'CREATE TABLE', 'public.users'],
    ['CREATE TEMP TABLE t AS SELECT * FROM users', 'CREATE TABLE t SELECT users', 'CREATE TABLE'],
    ['CREATE OR REPLACE VIEW v AS SELECT * FROM t', 'CREATE VIEW v SELECT t', 'CREATE VIEW'],
    ['CREATE MATERIALIZED VIEW mv AS SELECT 1', 'CREATE MATERIALIZED VIEW mv SELECT', 'CREATE MATERIALIZED VIEW', 'mv'],
    ['CREATE UNIQUE INDEX CONCURRENTLY idx_users_email ON users (email)', 'CREATE INDEX users', 'CREATE INDEX', 'users'],
    ['DROP TABLE users', 'DROP TABLE users', 'DROP TABLE', 'users'],
    ['DROP TABLE IF EXISTS a, b CASCADE', 'DROP TABLE a b', 'DROP TABLE'],
    ['DROP INDEX IF EXISTS idx1', 'DROP INDEX idx1', 'DROP INDEX'],
    ['ALTER TABLE users ADD COLUMN age int REFERENCES ages ON DELETE SET NULL', 'ALTER TABLE users', 'ALTER TABLE', 'users'],
    ['TRUNCATE TABLE logs', 'TRUNCATE logs', 'TRUNCATE', 'logs'],
    ['CREATE FUNCTION f(a int) RETURNS int AS $$ SELECT a FROM secret_table $$ LANGUAGE sql', 'CREATE FUNCTION f', 'CREATE FUNCTION'],
    ["CREATE USER alice WITH PASSWORD 's3cr3t'", 'CREATE USER', 'CREATE USER'],
    ['CREATE SCHEMA billing', 'CREATE SCHEMA billing', 'CREATE SCHEMA'],
    ['CREATE EXTENSION IF NOT EXISTS pgcrypto', 'CREATE EXTENSION pgcrypto', 'CREATE EXTENSION'],
    ['BEGIN', 'BEGIN', 'BEGIN'],
    ['begin transaction isolation level serializable', 'BEGIN', 'BEGIN'],
    ['COMMIT', 'COMMIT', 'COMMIT'],
    ['ROLLBACK TO SAVEPOINT sp1', 'ROLLBACK', 'ROLLBACK'],
    ['START TRANSACTION READ ONLY', 'START TRANSACTION', 'START TRANSACTION'],
    ['SET search_path TO app', 'SET', 'SET'],
    ['SHOW server_version', 'SHOW', 'SHOW'],
    ["CALL process_orders(1, 's3cr3t')", 'CALL process_orders', 'CALL'],
    ['EXECUTE my_plan(1)', 'EXECUTE my_plan', 'EXECUTE'],
    ['EXPLAIN ANALYZE SELECT * FROM users', 'EXPLAIN SELECT users', 'EXPLAIN', 'users'],
    ['EXPLAIN (ANALYZE, FORMAT JSON) UPDATE users SET a = 1', 'EXPLAIN UPDATE users', 'EXPLAIN', 'users'],
    ['COPY users (id, name) FROM STDIN WITH (FORMAT csv)', 'COPY users', 'COPY', 'users'],
    ['COPY (SELECT * FROM t) TO STDOUT', 'COPY SELECT t', 'COPY', 't'],
    ['LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE', 'LOCK accounts', 'LOCK', 'accounts'],
    ['PREPARE q (int) AS SELECT * FROM users WHERE id = $1', 'PREPARE SELECT users', 'PREPARE', 'users'],
    ['VACUUM ANALYZE users', 'VACUUM', 'VACUUM'],
    ['frobnicate the widgets', 'FROBNICATE', 'FROBNICATE'],
  ])('%j → %j', (...row) => expectSummary(summarizeSql(row[0]), row));
});

describe('summarizeSql: mysql', () => {
  it.each<Row>([
    ['SELECT * FROM `shop`.`orders` WHERE note = "FROM secrets" # FROM more', 'SELECT shop.orders', 'SELECT', 'shop.orders'],
    ['INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a)', 'INSERT t', 'INSERT', 't'],
    ['INSERT IGNORE INTO t VALUES (1)', 'INSERT t', 'INSERT', 't'],
    ['REPLACE INTO t VALUES (?)', 'REPLACE t', 'REPLACE', 't'],
    ['DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id', 'DELETE t1 t2', 'DELETE'],
    ['UPDATE a JOIN b ON a.id = b.id SET a.x = 1', 'UPDATE a b', 'UPDATE'],
    ['SELECT * FROM 2fa_codes', 'SELECT 2fa_codes', 'SELECT', '2fa_codes'],
    ['USE shop', 'USE shop', 'USE'],
  ])('%j → %j', (...row) => expectSummary(summarizeSql(row[0], { dialect: 'mysql' }), row));
});

describe('summarizeSql: nothing recognisable', () => {
  it.each<Row>([
    ['', 'OTHER'],
    ['   \n', 'OTHER'],
    ['-- just a comment', 'OTHER'],
    ['42', 'OTHER'],
    ["'users'", 'OTHER'],
    ['x'.repeat(40), 'OTHER'],
    ["SELECT * FROM users WHERE name = 'abc", 'SELECT users', 'SELECT', 'users'],
    ['SELECT * FROM "users', 'SELECT', 'SELECT'],
    ['"users" FROM users', 'OTHER'],
    ['? SELECT * FROM users', 'OTHER'],
  ])('%j → %j', (...row) => expectSummary(summarizeSql(row[0]), row));

  it.each([undefined, null, 42, {}])('returns OTHER for %j', (input) => {
    expect(summarizeSql(input as unknown as string).summary).toBe('OTHER');
  });
});

describe('summarizeSql length', () => {
  it('cuts at 255 characters between targets, and leaves the collection out', () => {
    const names = Array.from({ length: 40 }, (_, i) => `table_with_a_long_name_${i}`);
    const sql = `SELECT * FROM ${names.join(' JOIN ')}`;
    let want = 'SELECT';
    for (const n of names) {
      if (want.length + 1 + n.length > 255) break;
      want += ` ${n}`;
    }
    const got = summarizeSql(sql);
    expect(got.summary).toBe(want);
    expect(got.collection).toBeUndefined();
  });

  it.each<[number, string]>([
    [10, 'SELECT a b'],
    [9, 'SELECT a'],
    [3, 'OTHER'],
  ])('maxLength %d → %j', (maxLength, want) => {
    expect(summarizeSql('SELECT * FROM a JOIN b ON x JOIN c ON y', { maxLength }).summary).toBe(want);
  });
});

describe('summarizeSql robustness', () => {
  it('returns the same frozen result for a repeated statement', () => {
    const a = summarizeSql('SELECT * FROM cached_table');
    expect(summarizeSql('SELECT * FROM cached_table')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('never puts a literal in the summary, never throws, on thousands of random statements', () => {
    const rnd = prng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const dialects = ['postgresql', 'mysql', 'other'] as const;
    for (let n = 0; n < 3000; n++) {
      const dialect = dialects[n % 3];
      const own = dialect === 'postgresql' ? `$$s3cr3t-${n}$$` : dialect === 'mysql' ? `"s3cr3t-${n}"` : `X'9876543${n}'`;
      const lit = () => pick([`'s3cr3t-${n}'`, `9876543${n}`, own, `E's3cr3t\\'${n}'`, `/* s3cr3t */ 1`, `-- s3cr3t\n 1`]);
      const table = () => pick(['users', 'orders', 'public.t1', '"Mixed Case"', '`b`', 'x2']);
      const parts = [
        () => `SELECT a FROM ${table()} WHERE b = ${lit()}`,
        () => `INSERT INTO ${table()} VALUES (${lit()}, ${lit()})`,
        () => `UPDATE ${table()} SET a = ${lit()} FROM ${table()}`,
        () => `DELETE FROM ${table()} WHERE id IN (SELECT id FROM ${table()} WHERE c = ${lit()})`,
        () => `WITH q AS (SELECT ${lit()} FROM ${table()}) SELECT * FROM q JOIN ${table()} ON ${lit()}`,
        () => `CREATE TABLE ${table()} AS SELECT ${lit()}`,
        () => `${lit()} FROM ${lit()} SELECT (${lit()}`,
      ];
      const sql = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(parts)()).join('; ');
      const got = summarizeSql(sql, { dialect });
      if (/s3cr3t|9876543/.test(got.summary)) throw new Error(`literal in summary: ${JSON.stringify(sql)} → ${got.summary}`);
      expect(got.summary.length).toBeLessThanOrEqual(255);
    }
  });

  it('never throws on random garbage', () => {
    const rnd = prng(9);
    const alphabet = `abcSELECTFROMWITHJOIN019_$@:?;,.()'"\`\\/*-#\n é😀\u0000`;
    for (let n = 0; n < 5000; n++) {
      let sql = '';
      const len = Math.floor(rnd() * 80);
      for (let i = 0; i < len; i++) sql += alphabet[Math.floor(rnd() * alphabet.length)];
      for (const dialect of ['postgresql', 'mysql', 'other'] as const) {
        expect(typeof summarizeSql(sql, { dialect, maxLength: 1 + (n % 60) }).summary).toBe('string');
      }
    }
  });
});
