import { describe, expect, it } from 'vitest';
import { sanitizeSql, type SanitizeOptions } from '../../src/db/sanitize.js';

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

describe('sanitizeSql (postgresql)', () => {
  it.each([
    // literals
    ['SELECT * FROM users WHERE id = 5', 'SELECT * FROM users WHERE id = ?'],
    ["SELECT 'it''s', 'plain'", 'SELECT ?, ?'],
    ["SELECT E'it\\'s', e'a\\\\b' || 'tail'", 'SELECT ?, ? || ?'],
    ["SELECT U&'d\\0061t\\+000061', N'näme', X'1F', B'0101'", 'SELECT ?, ?, ?, ?'],
    ["SELECT $$s3cr3t$$, $tag$ it's $$ nested $$ $tag$ FROM t", 'SELECT ?, ? FROM t'],
    ['SELECT $a$ x $b$ y $b$ z $a$ AS body', 'SELECT ? AS body'],
    ["SELECT 'has $$ inside', 'and $tag$ too' FROM t", 'SELECT ?, ? FROM t'],
    ["SELECT DATE '2024-01-01', INTERVAL '1 day', TIMESTAMP '2024-01-01 10:00'", 'SELECT DATE ?, INTERVAL ?, TIMESTAMP ?'],
    // numbers, and digits that are not numbers
    ['SELECT 1, 1.5, .5, 5., 1e-3, 2E+10, 0x1F, 0b101, 0o17, 1_000', 'SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?'],
    ['SELECT t1.c2, col_2, table1, x$1 FROM t1 JOIN s2.t3 ON t1.a = t3.b', 'SELECT t1.c2, col_2, table1, x$1 FROM t1 JOIN s2.t3 ON t1.a = t3.b'],
    ['WHERE x = -5 AND y = - 2.5 AND z = a - 3 AND w = (-1) AND v=-7', 'WHERE x = ? AND y = ? AND z = a - ? AND w = (?) AND v=?'],
    ['SELECT a-1, b -2, c[1:2]', 'SELECT a-?, b -?, c[?:?]'],
    // booleans and NULL
    ['UPDATE t SET a = TRUE, b = false, c = True, d = NULL', 'UPDATE t SET a = ?, b = ?, c = ?, d = NULL'],
    ['SELECT true_flag, is_false, "true" FROM t', 'SELECT true_flag, is_false, "true" FROM t'],
    // quoted identifiers and casts
    ['SELECT "User Name", "x""y" FROM "Public"."Users"', 'SELECT "User Name", "x""y" FROM "Public"."Users"'],
    ['SELECT U&"d\\0061t" FROM t', 'SELECT U&"d\\0061t" FROM t'],
    ["SELECT '5'::int, x::numeric(10,2), CAST('1' AS varchar(255))", 'SELECT ?::int, x::numeric(?,?), CAST(? AS varchar(?))'],
    ["SELECT '{1,2}'::int[], x::timestamptz", 'SELECT ?::int[], x::timestamptz'],
    // placeholders of every style
    ['SELECT $1, $12, ?, ?1, :name, @p1, @@version FROM t WHERE a = :id', 'SELECT $1, $12, ?, ?1, :name, @p1, @@version FROM t WHERE a = :id'],
    ['SELECT a[:1], b[2:]', 'SELECT a[:?], b[?:]'],
    ["SELECT data ? 'key', data ?| array['a'] FROM t", 'SELECT data ? ?, data ?| array[?] FROM t'],
    // IN lists
    ['WHERE id IN (1, 2, 3)', 'WHERE id IN (?)'],
    ["where id in ('a','b') and x not in ( 1 ,\n 2 )", 'where id in (?) and x not in (?)'],
    ['WHERE id IN (?, ?, ?) OR id IN(-1, 2)', 'WHERE id IN (?) OR id IN(?)'],
    ['WHERE id IN ($1, $2)', 'WHERE id IN ($1, $2)'],
    ['WHERE id IN (1, x, 3)', 'WHERE id IN (?, x, ?)'],
    ['WHERE id IN (SELECT id FROM t WHERE a = 1)', 'WHERE id IN (SELECT id FROM t WHERE a = ?)'],
    ['WHERE (a, b) IN ((1, 2), (3, 4))', 'WHERE (a, b) IN ((?, ?), (?, ?))'],
    // VALUES tuples
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", 'INSERT INTO t (a, b) VALUES (?, ?)'],
    ["INSERT INTO t VALUES (1,'x'),(2,'y') ON CONFLICT (a) DO NOTHING", 'INSERT INTO t VALUES (?,?) ON CONFLICT (a) DO NOTHING'],
    ["INSERT INTO t VALUES (1, 'x'), (2, now())", 'INSERT INTO t VALUES (?, ?), (?, now())'],
    ['INSERT INTO t VALUES ($1, $2), ($3, $4)', 'INSERT INTO t VALUES ($1, $2), ($3, $4)'],
    ['INSERT INTO t VALUES (1), (2) RETURNING id', 'INSERT INTO t VALUES (?) RETURNING id'],
    // whitespace and comments
    ['SELECT\n  a,\t b\r\n FROM   t  ', 'SELECT a, b FROM t'],
    ["SELECT a -- s3cr3t 'x'\nFROM t", 'SELECT a FROM t'],
    ["SELECT /* it's a comment */ a FROM t", 'SELECT a FROM t'],
    ["SELECT /* a /* nested 'x' */ still comment */ b", 'SELECT b'],
    ['SELECT a/**/FROM t', 'SELECT a FROM t'],
    ["SELECT '-- not a comment', '/* nor this */' FROM t", 'SELECT ?, ? FROM t'],
    ['SELECT a # 5', 'SELECT a # ?'],
    // multi-statement text
    ['BEGIN; UPDATE t SET a = 1; COMMIT;', 'BEGIN; UPDATE t SET a = ?; COMMIT;'],
    // unterminated quote / comment / dollar quote
    ["SELECT a FROM t WHERE b = 's3cr3t AND c = 1", 'SELECT a FROM t WHERE b = ?'],
    ["SELECT E'abc\\'", 'SELECT ?'],
    ['SELECT $$abc', 'SELECT ?'],
    ['SELECT $t$ abc $t', 'SELECT ?'],
    ['SELECT 1 /* abc', 'SELECT ? ?'],
    ['SELECT "abc', 'SELECT ?'],
    ["WHERE id IN (1, 'abc", 'WHERE id IN (?, ?'],
    // empty
    ['', ''],
    ['  \n ', ''],
    ['-- only a comment', ''],
  ])('%j → %j', (input, want) => {
    expect(sanitizeSql(input)).toBe(want);
  });
});

describe('sanitizeSql (mysql)', () => {
  it.each([
    ["SELECT * FROM users WHERE name = \"bob\" AND pw = 'it\\'s'", 'SELECT * FROM users WHERE name = ? AND pw = ?'],
    ['SELECT "it\\"s", \'a\'\'b\', "x""y"', 'SELECT ?, ?, ?'],
    ['SELECT `order`, `a``b` FROM `db`.`t`', 'SELECT `order`, `a``b` FROM `db`.`t`'],
    ["SELECT a # s3cr3t 'x'\nFROM t -- c\n", 'SELECT a FROM t'],
    ['SELECT /* a /* b */ c', 'SELECT c'],
    ['SELECT * FROM 2fa_codes WHERE code = 123456', 'SELECT * FROM 2fa_codes WHERE code = ?'],
    ["SELECT X'1F', b'01', 0x1F, _utf8'abc', n'x'", 'SELECT ?, ?, ?, _utf8?, ?'],
    ['SELECT * FROM t WHERE a = ? AND b IN (?, ?, ?)', 'SELECT * FROM t WHERE a = ? AND b IN (?)'],
    ['INSERT INTO t (a) VALUES (1), (2) ON DUPLICATE KEY UPDATE a = VALUES(a)', 'INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a)'],
    ['SELECT "abc', 'SELECT ?'],
    ["SELECT 'abc\\", 'SELECT ?'],
  ])('%j → %j', (input, want) => {
    expect(sanitizeSql(input, { dialect: 'mysql' })).toBe(want);
  });
});

describe('sanitizeSql (other: standard SQL)', () => {
  it.each([
    ["SELECT 'C:\\' FROM t WHERE \"Col\" = 'x'", 'SELECT ? FROM t WHERE "Col" = ?'],
    ['SELECT /* a /* b */ c', 'SELECT c'],
    ["SELECT * FROM t WHERE a = :1 AND b = 'x' AND c # 2 AND d = :name", 'SELECT * FROM t WHERE a = :1 AND b = ? AND c # ? AND d = :name'],
    ['SELECT a[1:2] FROM t', 'SELECT a[?:?] FROM t'],
  ])('%j → %j', (input, want) => {
    expect(sanitizeSql(input, { dialect: 'other' })).toBe(want);
  });

  it('reads an unknown dialect as standard SQL', () => {
    expect(sanitizeSql('SELECT "x" FROM t', { dialect: 'oracle' as SanitizeOptions['dialect'] })).toBe('SELECT "x" FROM t');
  });
});

describe('sanitizeSql maxLength', () => {
  it.each<[string, number, string]>([
    ['SELECT a, b, c FROM t', 12, 'SELECT a, b…'],
    ['SELECT a', 8, 'SELECT a'],
    ['SELECT a', 7, 'SELECT…'],
    ['SELECT averyveryverylongidentifier', 10, 'SELECT…'],
    ['x IN (1, 2, y)', 8, 'x IN (?…'],
    ['SELECT a', 0, 'SELECT a'],
    ['SELECT a', Number.NaN, 'SELECT a'],
  ])('%j with maxLength %d → %j', (input, maxLength, want) => {
    expect(sanitizeSql(input, { maxLength })).toBe(want);
  });

  it('caps at 8192 characters by default, at a token boundary', () => {
    const sql = `SELECT ${Array.from({ length: 2000 }, (_, i) => `column_${i}`).join(', ')} FROM t`;
    const out = sanitizeSql(sql);
    expect(out.length).toBeLessThanOrEqual(8192);
    expect(out.endsWith('…')).toBe(true);
    expect(out.slice(0, -1)).toMatch(/column_\d+,?$/);
    expect(sql.startsWith(out.slice(0, -1))).toBe(true);
  });
});

describe('sanitizeSql robustness', () => {
  it.each([undefined, null, 42, {}, ['SELECT 1']])('returns an empty string for %j', (input) => {
    expect(sanitizeSql(input as unknown as string)).toBe('');
  });

  // The work grows linearly with the statement: 10× the text costs about 10× the time. Two
  // sizes timed in the same run, interleaved, best of several: a loaded machine slows both
  // alike. A quadratic step would make the ratio ~100; 40 leaves room for noise and caches.
  it('sanitizes a 1 MB statement (huge IN list, huge string) in linear time, leaving no literal', () => {
    const statement = (n: number) =>
      `SELECT * FROM t WHERE id IN (${Array.from({ length: n }, (_, i) => 9_000_000 + i).join(', ')}) AND note = '${'s3cr3t '.repeat(n * 0.4)}'`;
    const small = statement(10_000);
    const big = statement(100_000);
    expect(big.length).toBeGreaterThan(1_000_000);
    expect(big.length / small.length).toBeCloseTo(10, 0);
    const best = { small: Infinity, big: Infinity };
    for (let i = 0; i < 5; i++) {
      for (const [size, sql] of [
        ['small', small],
        ['big', big],
      ] as const) {
        const t0 = performance.now();
        const out = sanitizeSql(sql);
        best[size] = Math.min(best[size], performance.now() - t0);
        expect(out).toBe('SELECT * FROM t WHERE id IN (?) AND note = ?');
      }
    }
    expect(best.big / best.small, `best of 5: ${best.small.toFixed(2)} ms for 100 kB, ${best.big.toFixed(2)} ms for 1 MB`).toBeLessThan(40);
  });

  it('lets no secret literal through in thousands of random statements, in every dialect', () => {
    const rnd = prng(20261121);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const ws = () => pick([' ', '  ', '\n', '\t', ' /* c */ ', ' -- c\n']);
    const dialects = ['postgresql', 'mysql', 'other'] as const;
    for (let n = 0; n < 4000; n++) {
      const dialect = dialects[n % 3];
      const secret = () => {
        const id = `${n}x${Math.floor(rnd() * 1000)}`;
        const common = [
          `'s3cr3t-${id}'`,
          `'s3cr3t''-${id}'`,
          `E's3cr3t\\'-${id}'`,
          `X'9876543${n}'`,
          `N's3cr3t-${id}'`,
          `9876543${n}`,
          `-9876543${n}`,
          `9876543${n}.25`,
          `.9876543${n}`,
          `9876543${n}e-3`,
          `0x9876543${n}`,
          `/* s3cr3t-${id} */ 1`,
          `-- s3cr3t-${id}\n 1`,
          'TRUE',
          'false',
        ];
        const pg = [`$$s3cr3t-${id}$$`, `$q$ s3cr3t '${id} $q$`, `U&'s3cr3t-${id}'`, `'s3cr3t-${id}'::text`];
        const my = [`"s3cr3t-${id}"`, `'s3cr3t\\'-${id}'`, `"s3cr3t\\"-${id}"`, `# s3cr3t-${id}\n 1`];
        return pick(dialect === 'postgresql' ? [...common, ...pg] : dialect === 'mysql' ? [...common, ...my] : common);
      };
      const list = () => Array.from({ length: 1 + Math.floor(rnd() * 5) }, secret).join(pick([',', ', ', ' ,']));
      const templates = [
        () => `SELECT a, t1.c2 FROM t1 WHERE id = ${secret()}${ws()}AND name = ${secret()}`,
        () => `SELECT * FROM users WHERE id IN (${list()})`,
        () => `INSERT INTO t (a, b) VALUES (${secret()}, ${secret()}), (${list()})`,
        () => `UPDATE t SET a = ${secret()}, b = ${secret()}::int WHERE c BETWEEN ${secret()} AND ${secret()}`,
        () => `SELECT f(${list()}) FROM t; DELETE FROM u WHERE x = ${secret()}`,
        () => `SELECT CASE WHEN a > ${secret()} THEN ${secret()} ELSE b END FROM t LIMIT ${secret()}`,
      ];
      const sql = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(templates)()).join(`;${ws()}`);
      const maxLength = rnd() < 0.2 ? 1 + Math.floor(rnd() * 200) : undefined;
      const out = sanitizeSql(sql, { dialect, maxLength });
      if (/s3cr3t|9876543/i.test(out)) throw new Error(`literal leaked (${dialect}): ${JSON.stringify(sql)} → ${JSON.stringify(out)}`);
      if (maxLength !== undefined) expect(out.length).toBeLessThanOrEqual(maxLength);
    }
  });

  it('never throws on random garbage', () => {
    const rnd = prng(7);
    const alphabet = `abcXYZ019_$@:?;,.()[]'"\`\\/*-+#&=<>!|^~%{}\n\t é€😀\u0000`;
    for (let n = 0; n < 5000; n++) {
      let sql = '';
      const len = Math.floor(rnd() * 80);
      for (let i = 0; i < len; i++) sql += alphabet[Math.floor(rnd() * alphabet.length)];
      for (const dialect of ['postgresql', 'mysql', 'other'] as const) {
        expect(typeof sanitizeSql(sql, { dialect, maxLength: 1 + (n % 50) })).toBe('string');
      }
    }
  });
});
