// Every instrumentation without a router, for the semantic-convention tables and the
// promtool check: a bare node:http server (templated routes, 404s, an unknown method, a
// scanner flood before real traffic), fetch and http.get to it, ws with and without a
// `path` option, pg, mysql2 (MariaDB), node-redis and ioredis (commands, batches, errors,
// connection set-up outside any request), and a healthspan cache. Every literal, key and
// value carries MARK, so a test can look for it in everything exported.
// Prints `listening <port>` once its traffic is done, and serves until SIGTERM.
import http from 'node:http';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { createClient } from 'redis';
import IORedis from 'ioredis';
import { WebSocket, WebSocketServer } from 'ws';
import { createCache, getQueries } from 'healthspan';

const MARK = process.env.HS_MARK ?? 'lit-mark';
const TABLE = `hs_semconv_${process.pid}`;
const tracer = trace.getTracer('semconv-app');

// Connected before any request: their set-up must not become traces or query points.
const redis = createClient({ socket: { host: '127.0.0.1', port: 6379 } });
await redis.connect();
const io = new IORedis({ host: '127.0.0.1', port: 6379 });
await new Promise((resolve) => io.once('ready', resolve));
const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
const my = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });

const server = http.createServer(async (req, res) => {
  const path = req.url.split('?')[0];
  const user = /^\/users\/(\d+)$/.exec(path);
  if (user) {
    const { rows } = await pool.query('SELECT $1::int AS id', [Number(user[1])]);
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify(rows[0]));
  }
  if (path === '/hello') return res.end('hello');
  if (path === '/fail') {
    res.statusCode = 500;
    return res.end('failed');
  }
  res.statusCode = 404;
  res.end('not found');
});
// One server with a `path` option (its route), one taking any path (a template of it).
const chat = new WebSocketServer({ noServer: true, path: '/chat' });
chat.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo ${m}`)));
const anyPath = new WebSocketServer({ noServer: true });
anyPath.on('connection', (ws) => ws.on('message', (m) => ws.send(`any ${m}`)));
server.on('upgrade', (req, socket, head) => {
  const wss = req.url.startsWith('/chat') ? chat : anyPath;
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const get = (path, init) => fetch(base + path, init).then((r) => r.text());
const httpGet = (path) => new Promise((resolve, reject) => http.get(base + path, (res) => res.resume().on('end', resolve)).on('error', reject));
const wsRoundTrip = (path) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + path);
    ws.on('open', () => ws.send('hi'));
    ws.on('message', () => ws.close());
    ws.on('close', resolve);
    ws.on('error', reject);
  });
const ignore = (p) =>
  p.then(
    () => undefined,
    () => undefined,
  );

// A scanner first: unknown paths (404) must take no route template.
for (let i = 0; i < 60; i++) await get(`/scan-${i}/wp-login-${i}.php`);
await get('/users/1');
await get(`/users/2?token=${MARK}`);
await get('/hello');
await get('/fail');
await httpGet('/hello');
await get('/users/3', { method: 'PURGE' });
await wsRoundTrip('/chat');
await wsRoundTrip('/rooms/42');

await tracer.startActiveSpan('db-work', async (span) => {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (email text UNIQUE)`);
  await pool.query(`INSERT INTO ${TABLE} (email) VALUES ('${MARK}@example.com')`);
  await ignore(pool.query(`INSERT INTO ${TABLE} (email) VALUES ('${MARK}@example.com')`));
  await pool.query(`SELECT email FROM ${TABLE} WHERE email = '${MARK}'`);
  await pool.query(`DROP TABLE ${TABLE}`);

  await my.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (email VARCHAR(64) UNIQUE)`);
  await my.query(`INSERT INTO ${TABLE} (email) VALUES ('${MARK}@example.com')`);
  await ignore(my.query(`INSERT INTO ${TABLE} (email) VALUES ('${MARK}@example.com')`));
  await ignore(my.query(`SELEC '${MARK}' FROM nowhere`));
  await my.query(`DROP TABLE ${TABLE}`);

  const key = `hs:${MARK}`;
  await redis.set(key, `${MARK}-value`);
  await redis.get(key);
  await redis.multi().set(key, `${MARK}-m`).get(key).exec();
  await redis.multi().set(key, `${MARK}-p`).get(key).execAsPipeline();
  await ignore(redis.incr(key));
  await io.set(key, `${MARK}-io`);
  await io.get(key);
  await io.multi().set(key, `${MARK}-m`).get(key).exec();
  await io.pipeline().set(key, `${MARK}-p`).get(key).exec();
  await ignore(io.incr(key));
  // Errors that quote what the app sent: `ERR unknown subcommand '<MARK>'`.
  await ignore(redis.sendCommand(['CLIENT', `${MARK}-sub`]));
  await ignore(io.call('client', `${MARK}-sub`));
  await redis.del(key);

  const cache = createCache({ name: 'semconv' });
  await cache.set(`${MARK}-k`, 1);
  await cache.get(`${MARK}-k`);
  await cache.get(`${MARK}-missing`);
  span.end();
});

// What insight counts as statements (connection set-up must not be among them).
process.stdout.write(
  `QUERIES ${JSON.stringify(
    getQueries()
      .map((q) => q.query)
      .sort(),
  )}\n`,
);
// SIGTERM is left to healthspan: it flushes, then exits (it is the only listener).
process.stdout.write(`listening ${server.address().port}\n`);
