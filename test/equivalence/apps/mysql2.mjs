// mysql2 against the local MariaDB: callback and promise APIs, errors, signatures.
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { attempt, report, sig } from './probe.mjs';

const config = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const conn = mysql.createConnection(config);
const cb = (fn) => new Promise((resolve, reject) => fn((err, rows, fields) => (err ? reject(err) : resolve({ rows, fields: fields?.map((f) => f.name) }))));
const errorShape = (e) => ({ code: e.code, errno: e.errno, sqlState: e.sqlState, message: e.message, fatal: e.fatal });

const result = {
  query: await attempt(() => cb((done) => conn.query('SELECT 1 + 1 AS s, ? AS v', ['x'], done))),
  returned: (() => {
    const q = conn.query('SELECT 1 AS one', () => {});
    return { constructor: q?.constructor?.name, hasOn: typeof q?.on, sql: q?.sql };
  })(),
  execute: await attempt(() => cb((done) => conn.execute('SELECT ? + 1 AS n', [41], done))),
  badSql: await cb((done) => conn.query('SELECT * FROM no_such_table_eq', done)).catch(errorShape),
  syntax: await cb((done) => conn.query('SELEC 1', done)).catch(errorShape),
  promise: await attempt(async () => {
    const p = await mysqlPromise.createConnection(config);
    const [rows] = await p.query('SELECT 2 AS two');
    const [exec] = await p.execute('SELECT ? AS three', [3]);
    const bad = await p.query('SELECT * FROM no_such_table_eq').catch(errorShape);
    await p.end();
    return { rows, exec, bad };
  }),
  pool: await attempt(async () => {
    const pool = mysqlPromise.createPool({ ...config, connectionLimit: 2 });
    const [rows] = await pool.query('SELECT 4 AS four');
    await pool.end();
    return rows;
  }),
  refused: await attempt(async () => {
    const c = await mysqlPromise.createConnection({ ...config, port: 1 });
    await c.end();
  }),
  signatures: {
    query: sig(conn.query),
    execute: sig(conn.execute),
    protoQuery: sig(Object.getPrototypeOf(conn).query),
    protoExecute: sig(Object.getPrototypeOf(conn).execute),
  },
};
conn.end();
report(result);
