// node-postgres against the local PostgreSQL: results, errors, submittables, signatures.
import pg from 'pg';
import { attempt, report, sig } from './probe.mjs';

const config = { host: '127.0.0.1', port: 5432, user: process.env.PGUSER ?? 'postgres', database: 'test' };
const client = new pg.Client(config);
const shape = (r) => ({ command: r.command, rowCount: r.rowCount, rows: r.rows, fields: r.fields.map((f) => f.name) });

const result = {
  connect: await attempt(async () => {
    await client.connect();
    return 'connected';
  }),
  text: await attempt(async () => shape(await client.query('SELECT 1::int AS one, $1::text AS two', ['b']))),
  config: await attempt(async () => shape(await client.query({ text: 'SELECT $1::int + 1 AS n', values: [41], name: 'eq-plus-one' }))),
  rowMode: await attempt(async () => (await client.query({ text: 'SELECT 1 AS a, 2 AS b', rowMode: 'array' })).rows),
  callback: await attempt(
    () =>
      new Promise((resolve, reject) => {
        const returned = client.query('SELECT 2::int AS two', (err, res) => (err ? reject(err) : resolve({ returned: typeof returned, rows: res.rows })));
      }),
  ),
  badSql: await attempt(() => client.query('SELECT * FROM no_such_table_eq')),
  badSqlFields: await client.query('SELEC 1').catch((e) => ({ code: e.code, severity: e.severity, position: e.position, routine: typeof e.routine })),
  submittable: await attempt(
    () =>
      new Promise((resolve, reject) => {
        const q = new pg.Query('SELECT 3::int AS three');
        const returned = client.query(q);
        const rows = [];
        q.on('row', (row) => rows.push(row));
        q.on('end', () => resolve({ sameObject: returned === q, rows }));
        q.on('error', reject);
      }),
  ),
  transaction: await attempt(async () => {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE eq_t (v int)');
    await client.query('INSERT INTO eq_t VALUES (1), (2)');
    const r = await client.query('SELECT sum(v)::int AS s FROM eq_t');
    await client.query('ROLLBACK');
    return r.rows;
  }),
  pool: await attempt(async () => {
    const pool = new pg.Pool({ ...config, max: 2 });
    const r = await pool.query('SELECT 4::int AS four');
    const c = await pool.connect();
    const inner = await c.query('SELECT 5::int AS five');
    c.release();
    const counts = { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    await pool.end();
    return { rows: [r.rows, inner.rows], counts };
  }),
  refused: await attempt(() => new pg.Client({ ...config, port: 1 }).connect()),
  signatures: {
    query: sig(pg.Client.prototype.query),
    connect: sig(pg.Client.prototype.connect),
    end: sig(pg.Client.prototype.end),
    poolQuery: sig(pg.Pool.prototype.query),
    instanceQuery: sig(client.query),
  },
};
await client.end();
report(result);
