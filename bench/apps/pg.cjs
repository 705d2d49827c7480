// Benchmark app (CommonJS): GET / → one `SELECT $1::int + 1` through a pg.Pool of 10
// connections (at 50 load connections, requests wait for a pool client). Answers 500 with the
// error when the query fails.
'use strict';
const http = require('node:http');
const pg = require('pg');
const { serve } = require('./serve.cjs');

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pool = new pg.Pool({ connectionString, max: 10 });
let lastLogged = 0;
function logError(err) {
  // One line per second at most: a down database must not turn into a log flood.
  if (Date.now() - lastLogged < 1000) return;
  lastLogged = Date.now();
  console.error(`pg app: ${err.message}`);
}
pool.on('error', logError);

const server = http.createServer((_req, res) => {
  pool.query('SELECT $1::int + 1 AS n', [1]).then(
    (result) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(String(result.rows[0].n));
    },
    (err) => {
      logError(err);
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err.message);
    },
  );
});

serve(server, () => pool.end().catch(logError));
