import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { getSdk, shutdown, start } from '../../src/index.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric, type ReceivedSpan } from '../../scripts/dev/otlp-receiver.mjs';
import { exported, underParent } from './spans.ts';
import { fixture, runScript } from '../preload/child.ts';

// MariaDB on 127.0.0.1:3306, user root without password, database `test`.
const DB = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const CLIENT = 3;
const TABLE = `hs_items_${process.pid}_${Date.now().toString(36)}`;

/** What every mysql2 span carries, whatever the call style. */
const CONNECTION = { 'db.system.name': 'mysql', 'db.namespace': 'test', 'server.address': '127.0.0.1', 'server.port': 3306 };

type Mysql2 = typeof import('mysql2');
type Mysql2Promise = typeof import('mysql2/promise');
type MysqlError = Error & { code?: string; errno?: number; sqlState?: string; sqlMessage?: string; fatal?: boolean };

let receiver: OtlpReceiver;
let mysql: Mysql2;
let mysqlp: Mysql2Promise;
let conn: import('mysql2').Connection;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  start({
    serviceName: 'mysql2-test',
    traces: { exporter: 'otlp', otlp: { endpoint: `${receiver.url}/v1/traces` }, batch: { scheduledDelayMillis: 50 } },
    metrics: { exporters: ['otlp'], otlp: { endpoint: `${receiver.url}/v1/metrics` }, exportIntervalMillis: 200 },
    instrumentations: ['mysql2'],
    resourceDetectors: [],
  });
  // After start(): a static import would load mysql2 before the require hook is in place.
  const load = createRequire(import.meta.url);
  mysql = load('mysql2');
  mysqlp = load('mysql2/promise');
  conn = mysql.createConnection(DB);
  await conn.promise().query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64) NOT NULL UNIQUE, qty INT NOT NULL)`);
  await conn.promise().query(`INSERT INTO ${TABLE} (name, qty) VALUES ('alice', 1), ('bob', 2)`);
});

afterAll(async () => {
  await conn?.promise().query(`DROP TABLE IF EXISTS ${TABLE}`);
  await conn?.promise().end();
  await shutdown();
  await receiver?.close();
});

/** The attributes DbProcessor promises for a statement on TABLE. */
function statement(operation: string, text: string, collection: string | undefined = TABLE) {
  const summary = collection === undefined ? operation : `${operation} ${collection}`;
  return {
    ...CONNECTION,
    'db.query.text': text,
    'db.query.summary': summary,
    'db.operation.name': operation,
    ...(collection === undefined ? {} : { 'db.collection.name': collection }),
  };
}

function callback<T>(run: (cb: (err: Error | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, result) => (err ? reject(err) : resolve(result as T))));
}

describe('mysql2 spans', () => {
  it('names a callback query by its summary, under the caller span, with inline literals replaced', async () => {
    let rows: unknown;
    const [span] = await underParent(
      receiver,
      'callback-query',
      () => callback((cb) => conn.query(`SELECT id, name FROM ${TABLE} WHERE name = 'secret-bob' AND qty > 1`, cb)).then((r) => (rows = r)),
      1,
    );
    expect(rows).toEqual([]);
    expect(span).toMatchObject({ name: `SELECT ${TABLE}`, kind: CLIENT, scope: { name: '@opentelemetry/instrumentation-mysql2' } });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual(statement('SELECT', `SELECT id, name FROM ${TABLE} WHERE name = ? AND qty > ?`));
    expect(exported(span)).not.toContain('secret-bob');
  });

  it('never records the bind values of a callback query', async () => {
    let rows: unknown;
    const [span] = await underParent(
      receiver,
      'callback-values',
      () =>
        callback((cb) => conn.query(`SELECT name FROM ${TABLE} WHERE name = ? OR name = ?`, ['secret-alice', "o'secret-quote"], cb)).then((r) => (rows = r)),
      1,
    );
    expect(rows).toEqual([]);
    expect(span.name).toBe(`SELECT ${TABLE}`);
    expect(span.attributes).toEqual(statement('SELECT', `SELECT name FROM ${TABLE} WHERE name = ? OR name = ?`));
    expect(exported(span)).not.toMatch(/secret-alice|secret-quote/);
  });

  it('traces the promise API', async () => {
    const c = await mysqlp.createConnection(DB);
    let result: unknown;
    const [span] = await underParent(receiver, 'promise', async () => ([result] = await c.query(`UPDATE ${TABLE} SET qty = 7 WHERE name = 'secret-carol'`)), 1);
    await c.end();
    expect(result).toMatchObject({ affectedRows: 0 });
    expect(span).toMatchObject({ name: `UPDATE ${TABLE}`, kind: CLIENT });
    expect(span.attributes).toEqual(statement('UPDATE', `UPDATE ${TABLE} SET qty = ? WHERE name = ?`));
    expect(exported(span)).not.toContain('secret-carol');
  });

  it('traces pool.query under the caller span, also when the pool opens a new connection', async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 2 });
    const spans = await underParent(
      receiver,
      'pool',
      () =>
        Promise.all([
          callback((cb) => pool.query(`INSERT INTO ${TABLE} (name, qty) VALUES (?, ?)`, ['secret-dave', 3], cb)),
          callback((cb) => pool.query(`SELECT count(*) AS n FROM ${TABLE} WHERE qty >= 0`, cb)),
        ]),
      2,
    );
    await pool.promise().end();
    expect(spans.map((s) => s.name).sort()).toEqual([`INSERT ${TABLE}`, `SELECT ${TABLE}`]);
    expect(spans.every((s) => s.kind === CLIENT)).toBe(true);
    const insert = spans.find((s) => s.name === `INSERT ${TABLE}`)!;
    expect(insert.attributes).toEqual(statement('INSERT', `INSERT INTO ${TABLE} (name, qty) VALUES (?, ?)`));
    expect(exported(insert)).not.toContain('secret-dave');
    expect(spans.find((s) => s.name === `SELECT ${TABLE}`)!.attributes['db.query.text']).toBe(`SELECT count(*) AS n FROM ${TABLE} WHERE qty >= ?`);
  });

  it('traces execute (prepared statements) without their bind values', async () => {
    let rows: unknown;
    const [span] = await underParent(
      receiver,
      'execute',
      () => callback((cb) => conn.execute(`SELECT name, qty FROM ${TABLE} WHERE name = ? AND qty < ?`, ['secret-erin', 100], cb)).then((r) => (rows = r)),
      1,
    );
    expect(rows).toEqual([]);
    expect(span).toMatchObject({ name: `SELECT ${TABLE}`, kind: CLIENT });
    expect(span.attributes).toEqual(statement('SELECT', `SELECT name, qty FROM ${TABLE} WHERE name = ? AND qty < ?`));
    expect(exported(span)).not.toContain('secret-erin');
  });

  it('traces a transaction: START TRANSACTION, the statements and COMMIT, in order', async () => {
    const c = await mysqlp.createConnection(DB);
    const spans = await underParent(
      receiver,
      'transaction',
      async () => {
        await c.beginTransaction();
        await c.execute(`INSERT INTO ${TABLE} (name, qty) VALUES (?, ?)`, ['secret-frank', 5]);
        await c.query(`DELETE FROM ${TABLE} WHERE name = 'secret-frank'`);
        await c.commit();
      },
      4,
    );
    await c.end();
    expect(spans.map((s) => s.name)).toEqual(['START TRANSACTION', `INSERT ${TABLE}`, `DELETE ${TABLE}`, 'COMMIT']);
    expect(spans.every((s) => s.kind === CLIENT && s.status.code === SpanStatusCode.UNSET)).toBe(true);
    expect(spans[0].attributes).toMatchObject({ ...CONNECTION, 'db.query.text': 'START TRANSACTION', 'db.query.summary': 'START TRANSACTION' });
    expect(spans[2].attributes).toEqual(statement('DELETE', `DELETE FROM ${TABLE} WHERE name = ?`));
    expect(spans[3].attributes).toMatchObject({ ...CONNECTION, 'db.query.text': 'COMMIT', 'db.query.summary': 'COMMIT', 'db.operation.name': 'COMMIT' });
    expect(spans.map(exported).join()).not.toContain('secret-frank');
  });
});

describe('failing queries', () => {
  /** The fields an app reads from a mysql2 error. */
  const fields = (e: MysqlError) => ({
    ctor: e.constructor.name,
    message: e.message,
    code: e.code,
    errno: e.errno,
    sqlState: e.sqlState,
    sqlMessage: e.sqlMessage,
    fatal: e.fatal,
  });

  /** Runs `sql` once through the callback API, recording how the callback was called. */
  function failing(sql: string): Promise<{ calls: number; args: unknown[] }> {
    return new Promise((resolve) => {
      let calls = 0;
      conn.query(sql, (...args: unknown[]) => {
        calls++;
        // Later calls (there must be none) would show up in the assertion below.
        setTimeout(() => resolve({ calls, args }), 50);
      });
    });
  }

  const instrumentation = () => getSdk()!.instrumentations.get('mysql2')![0] as InstrumentationBase;

  describe('a syntax error (callback API)', () => {
    const sql = `SELEC name FROM ${TABLE} WHERE name = 'secret-gina'`;
    let traced: { calls: number; args: unknown[] };
    let bare: { calls: number; args: unknown[] };
    let span: ReceivedSpan;
    beforeAll(async () => {
      [span] = await underParent(receiver, 'syntax-error', async () => (traced = await failing(sql)), 1);
      // The same statement with the instrumentation out of the way, for comparison.
      instrumentation().disable();
      try {
        bare = await failing(sql);
      } finally {
        instrumentation().enable();
      }
    });

    it("reaches the app as mysql2's own error, through one callback call", () => {
      expect(traced.calls).toBe(1);
      expect(traced.args.length).toBe(bare.args.length);
      const err = traced.args[0] as MysqlError;
      expect(err).toBeInstanceOf(Error);
      expect(fields(err)).toEqual(fields(bare.args[0] as MysqlError));
      expect(fields(err)).toMatchObject({ code: 'ER_PARSE_ERROR', errno: 1064, sqlState: '42000' });
    });

    it('marks the span as an error, with the literal replaced in db.query.text', () => {
      expect(span).toMatchObject({ kind: CLIENT, status: { code: SpanStatusCode.ERROR } });
      expect(span.attributes['db.query.text']).toBe(`SELEC name FROM ${TABLE} WHERE name = ?`);
    });

    it("sets db.response.status_code and error.type to the server's error number, read from mysql2's error", () => {
      // Upstream ends the span with the message only; instrumentations/mysql2-errors reads
      // errno from the error mysql2 hands to the callback.
      expect(span.attributes['db.response.status_code']).toBe('1064');
      expect(span.attributes['error.type']).toBe('1064');
    });

    it("does not export the literal that the server's error message quotes", () => {
      // MariaDB: "… for the right syntax to use near 'SELEC name … = 'secret-gina'' at line 1".
      expect(exported(span)).not.toContain('secret-gina');
    });
  });

  describe('a missing table (promise API)', () => {
    const missing = `hs_missing_${process.pid}`;
    let caught: MysqlError | undefined;
    let bare: MysqlError | undefined;
    let span: ReceivedSpan;
    beforeAll(async () => {
      const c = await mysqlp.createConnection(DB);
      [span] = await underParent(receiver, 'missing-table', () => c.query(`SELECT * FROM ${missing} WHERE id = 42`).catch((e: MysqlError) => (caught = e)), 1);
      instrumentation().disable();
      try {
        bare = await c.query(`SELECT * FROM ${missing} WHERE id = 42`).then(
          () => undefined,
          (e: MysqlError) => e,
        );
      } finally {
        instrumentation().enable();
        await c.end();
      }
    });

    it("rejects with mysql2's own error", () => {
      expect(caught).toBeInstanceOf(Error);
      expect(fields(caught!)).toEqual(fields(bare!));
      expect(fields(caught!)).toMatchObject({ code: 'ER_NO_SUCH_TABLE', errno: 1146, sqlMessage: `Table 'test.${missing}' doesn't exist` });
    });

    it('marks the span as an error, named by the summary', () => {
      expect(span).toMatchObject({ name: `SELECT ${missing}`, kind: CLIENT, status: { code: SpanStatusCode.ERROR } });
      expect(span.attributes).toMatchObject({ 'db.query.text': `SELECT * FROM ${missing} WHERE id = ?`, 'db.collection.name': missing });
    });

    it('sets db.response.status_code and error.type to the error number (1146, ER_NO_SUCH_TABLE)', () => {
      expect(span.attributes['db.response.status_code']).toBe('1146');
      expect(span.attributes['error.type']).toBe('1146');
    });
  });

  it("does not export a bind value that the server's error message quotes (duplicate entry)", async () => {
    const c = await mysqlp.createConnection(DB);
    const insert = `INSERT INTO ${TABLE} (name, qty) VALUES (?, ?)`;
    let caught: MysqlError | undefined;
    const spans = await underParent(
      receiver,
      'duplicate',
      async () => {
        await c.execute(insert, ['secret-ivy', 1]);
        await c.execute(insert, ['secret-ivy', 2]).catch((e: MysqlError) => (caught = e));
      },
      2,
    );
    await c.end();
    expect(fields(caught!)).toMatchObject({ code: 'ER_DUP_ENTRY', errno: 1062 });
    expect(caught!.sqlMessage).toContain("'secret-ivy'");
    expect(spans[1]).toMatchObject({ name: `INSERT ${TABLE}`, status: { code: SpanStatusCode.ERROR } });
    expect(spans[1].attributes['db.query.text']).toBe(insert);
    // MariaDB: "Duplicate entry 'secret-ivy' for key 'name'".
    expect(exported(spans[1])).not.toContain('secret-ivy');
  });

  it('still traces after disable → enable, and bind values stay out once mysql2 inlines them', async () => {
    // Re-patched after enable(), mysql2's own format() is known to the instrumentation and
    // the bind values are inlined into the text: the sanitizer must take them out again.
    expect(instrumentation().isEnabled()).toBe(true);
    const [span] = await underParent(
      receiver,
      're-enabled',
      () => callback((cb) => conn.query(`SELECT id FROM ${TABLE} WHERE name = ? AND qty = ?`, ["o'secret-hank\\", 12345], cb)),
      1,
    );
    expect(span.name).toBe(`SELECT ${TABLE}`);
    expect(span.attributes['db.query.text']).toBe(`SELECT id FROM ${TABLE} WHERE name = ? AND qty = ?`);
    expect(exported(span)).not.toMatch(/secret-hank|12345/);
  });
});

/** The latest export of db.client.operation.duration (cumulative), once `ready` holds for it. */
async function waitForMetric(ready: (m: ReceivedMetric) => boolean, timeoutMs = 5000): Promise<ReceivedMetric> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metric = receiver.metrics.findLast((m) => m.name === 'db.client.operation.duration');
    if (metric && ready(metric)) return metric;
    if (Date.now() > deadline) throw new Error(`db.client.operation.duration: ${JSON.stringify(metric?.points.map((p) => p.attributes))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('db.client.operation.duration', () => {
  it('arrives with the summary and without raw text', async () => {
    const metric = await waitForMetric((m) => m.points.some((p) => p.attributes['db.query.summary'] === `UPDATE ${TABLE}`));
    expect(metric).toMatchObject({ unit: 's', type: 'histogram', scope: { name: 'healthspan' } });
    const update = metric.points.find((p) => p.attributes['db.query.summary'] === `UPDATE ${TABLE}`);
    expect(update?.attributes).toEqual({
      'db.system.name': 'mysql',
      'db.namespace': 'test',
      'db.operation.name': 'UPDATE',
      'db.collection.name': TABLE,
      'db.query.summary': `UPDATE ${TABLE}`,
      'server.address': '127.0.0.1',
      'server.port': 3306,
    });
    expect(update!.count).toBeGreaterThanOrEqual(1);
    for (const p of metric.points) {
      expect(Object.keys(p.attributes).sort()).not.toContain('db.query.text');
      expect(JSON.stringify(p.attributes)).not.toContain('secret');
    }
    // Only ours: the official instrumentation's own copy is dropped by a view.
    expect(receiver.metrics.some((m) => m.name === 'db.client.operation.duration' && m.scope.name !== 'healthspan')).toBe(false);
  });

  it('tells failed operations apart by error.type', async () => {
    const metric = await waitForMetric((m) => m.points.some((p) => p.attributes['db.query.summary'] === `SELECT hs_missing_${process.pid}`));
    const failed = metric.points.find((p) => p.attributes['db.query.summary'] === `SELECT hs_missing_${process.pid}`);
    expect(failed?.attributes).toMatchObject({ 'error.type': '1146', 'db.response.status_code': '1146' });
  });
});

describe('ESM app preloaded with --import healthspan/register', () => {
  it("exports the query's span named by its summary", async () => {
    const service = `mysql2-esm-${process.pid}`;
    const r = await runScript(['--import', 'healthspan/register'], fixture('mysql2-esm.mjs'), {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      HS_TEST_TABLE: TABLE,
    });
    expect(r.stdout).toBe('rows 0\n');
    expect(r.code).toBe(0);
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.resource['service.name'] === service && s.kind === CLIENT));
    const span = spans.find((s) => s.resource['service.name'] === service && s.kind === CLIENT)!;
    expect(span).toMatchObject({ name: `SELECT ${TABLE}`, scope: { name: '@opentelemetry/instrumentation-mysql2' } });
    expect(span.attributes).toEqual(statement('SELECT', `SELECT id FROM ${TABLE} WHERE name = ?`));
  });
});
