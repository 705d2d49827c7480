// A small users/orders JSON API on node:http + PostgreSQL (pg Pool) + a `ws` endpoint, with
// no framework.
//
// Its telemetry comes from the outside, from the preload flag: no OpenTelemetry import, no
// spans or metrics made by hand.
//
//   DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db PORT=3000 \
//     HEALTHSPAN_ADMIN_TOKEN=$(openssl rand -hex 24) \
//     node --import healthspan/register examples/demo/server.mjs
//
// `npm run demo` starts it for you (with an embedded PostgreSQL) and drives traffic at it.
//
// Env: DATABASE_URL (required), PORT (default 3000; 0 = any free port), HOST (default
// 127.0.0.1), HEALTHSPAN_ADMIN_TOKEN (the admin API's bearer token; without it the API answers
// reads from loopback only), REDIS_URL (optional: Redis as the cache's second tier).
// Prints `listening on http://<host>:<port>` once the schema is ready and the port is open.
//
//   GET  /users               list (?limit=, default 20, max 100)
//   GET  /users/:id           one user, 404 when missing; read through the `users` cache (30 s)
//   GET  /users/:id/orders    the user's orders, priced through GET /internal/price (a fetch
//                             to ourselves, so a trace shows SERVER -> CLIENT -> SERVER)
//   GET  /users/:id/orders-n1 the user's 10 latest orders loaded the wrong way: one query per
//                             order (N+1)
//   POST /orders              JSON {"user_id", "item", "quantity", "price_cents"} -> 201
//   GET  /internal/price      ?user_id= -> loyalty discount for that user
//   GET  /slow                a 200 ms query (pg_sleep)
//   GET  /error               a query on a table that does not exist -> 500
//   GET  /health              liveness, no database
//   WS   /ws                  send {"userId": 3}, get {"userId": 3, "orders": <count>} back
//   GET  /_healthspan/        healthspan's status page; its JSON API under /_healthspan/*
import http from 'node:http';
import pg from 'pg';
import { WebSocketServer } from 'ws';
// The only healthspan code in this app, for two things the preload cannot do on its own:
// - createCache(): a cache the app calls (L1 in memory, L2 Redis when REDIS_URL is set),
//   traced and counted by healthspan (hits, misses, latency; docs/cache.md);
// - createAdminHandler(): healthspan's status page and JSON API (health score, alerts,
//   recommendations, thresholds, caches) mounted on the app's own port under /_healthspan,
//   behind the bearer token in HEALTHSPAN_ADMIN_TOKEN (docs/admin.md).
// Everything else (HTTP, pg, fetch, ws, runtime) is instrumented by --import healthspan/register.
import { createAdminHandler, createCache } from 'healthspan';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.error('DATABASE_URL is not set (e.g. postgres://postgres:secret@127.0.0.1:5432/postgres)');
  process.exit(1);
}
const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number.parseInt(process.env.PORT ?? '3000', 10);

let stopping = false;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
// An idle client losing its connection (e.g. the database restarting) must not crash the app.
pool.on('error', (err) => {
  if (!stopping) console.error('pg pool error:', err.message);
});

const usersCache = createCache({
  name: 'users',
  ttl: 30_000,
  ...(process.env.REDIS_URL ? { l2: { url: process.env.REDIS_URL } } : {}),
});
// Redis trouble degrades to memory + PostgreSQL (never thrown); say it once, not per request.
let cacheWarned = false;
usersCache.on('error', (err) => {
  if (!cacheWarned && !stopping) console.error(`cache users: Redis (REDIS_URL) is failing, serving from memory and PostgreSQL: ${err.message}`);
  cacheWarned = true;
});
// Token: HEALTHSPAN_ADMIN_TOKEN, read by healthspan.
const admin = createAdminHandler({ prefix: '/_healthspan' });

// --- schema and seed data ----------------------------------------------------------------

const ITEMS = ['keyboard', 'mouse', 'monitor', 'desk lamp', 'headset', 'webcam', 'usb hub', 'chair'];

async function migrate() {
  // One client for the whole migration, holding an advisory lock: several copies of the app
  // starting at once against one database (two demos, a test next to a demo) migrate and seed
  // one after the other instead of racing on CREATE TABLE or the seed's unique emails.
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['healthspan-demo migrate']);
    await client.query(`
      CREATE TABLE IF NOT EXISTS users (
        id         serial PRIMARY KEY,
        name       text NOT NULL,
        email      text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS orders (
        id          serial PRIMARY KEY,
        user_id     integer NOT NULL REFERENCES users(id),
        item        text NOT NULL,
        quantity    integer NOT NULL CHECK (quantity > 0),
        price_cents integer NOT NULL CHECK (price_cents >= 0),
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query('CREATE INDEX IF NOT EXISTS orders_user_id_idx ON orders (user_id)');

    const { rows } = await client.query('SELECT count(*)::int AS n FROM users');
    if (rows[0].n > 0) return;
    // 50 users, 0-7 orders each; one transaction so a crash never leaves half a seed.
    try {
      await client.query('BEGIN');
      await client.query(`
        INSERT INTO users (name, email)
        SELECT 'User ' || i, 'user' || i || '@example.com' FROM generate_series(1, 50) AS i`);
      await client.query(
        `INSERT INTO orders (user_id, item, quantity, price_cents)
         SELECT u, ($1::text[])[1 + (u * 7 + k) % array_length($1::text[], 1)], 1 + (u + k) % 3, 500 + ((u * 131 + k * 17) % 20000)
         FROM generate_series(1, 50) AS u, generate_series(1, 7) AS k
         WHERE k <= u % 8`,
        [ITEMS],
      );
      await client.query('COMMIT');
      console.log('seeded 50 users and their orders');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    // Closing the session would free the lock too; unlock first so the client can be reused.
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['healthspan-demo migrate']).catch(() => {});
    client.release();
  }
}

// --- a tiny router -------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const routes = [];
function route(method, template, handler) {
  const pattern = new RegExp(`^${template.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`);
  routes.push({ method, template, pattern, handler });
}

function send(res, status, body) {
  const payload = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  if (stopping) headers.connection = 'close'; // do not keep clients on a server that is closing
  res.writeHead(status, headers);
  res.end(payload);
}

function parseId(value) {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2 ** 31 - 1) throw new HttpError(400, 'id must be a positive integer');
  return id;
}

async function readJson(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

// --- routes ----------------------------------------------------------------------------------

route('GET', '/health', async () => ({ status: 200, body: { status: 'ok', uptime_s: Math.round(process.uptime()) } }));

route('GET', '/users', async (_req, _params, url) => {
  const limit = Math.min(Math.max(Number.parseInt(url.searchParams.get('limit') ?? '20', 10) || 20, 1), 100);
  const { rows } = await pool.query('SELECT id, name, email FROM users ORDER BY id LIMIT $1', [limit]);
  return { status: 200, body: rows };
});

route('GET', '/users/:id', async (_req, params) => {
  const id = parseId(params.id);
  // A miss runs the query and keeps the row for 30 s. A missing user is kept too (as null),
  // so repeated lookups of a bad id do not reach PostgreSQL either.
  const user = await usersCache.wrap(
    `user:${id}`,
    async () => {
      const { rows } = await pool.query('SELECT id, name, email, created_at FROM users WHERE id = $1', [id]);
      return rows[0] ?? null;
    },
    { ttl: 30_000 },
  );
  if (!user) throw new HttpError(404, 'user not found');
  return { status: 200, body: user };
});

route('GET', '/users/:id/orders', async (_req, params) => {
  const id = parseId(params.id);
  // The discount comes from another endpoint, as it would from a pricing service.
  const [orders, pricing] = await Promise.all([
    pool.query('SELECT id, item, quantity, price_cents FROM orders WHERE user_id = $1 ORDER BY id', [id]),
    fetch(`http://127.0.0.1:${server.address().port}/internal/price?user_id=${id}`, { signal: AbortSignal.timeout(2000) }),
  ]);
  if (!pricing.ok) throw new HttpError(502, `pricing answered ${pricing.status}`);
  const { discount_pct } = await pricing.json();
  const subtotal = orders.rows.reduce((sum, o) => sum + o.quantity * o.price_cents, 0);
  return {
    status: 200,
    body: {
      user_id: id,
      orders: orders.rows,
      subtotal_cents: subtotal,
      discount_pct,
      total_cents: Math.round((subtotal * (100 - discount_pct)) / 100),
    },
  };
});

// Deliberately the N+1 way: the order ids first, then one query per order, one after the
// other. healthspan spots the shape (same statement, in sequence, under one span) and raises
// an n_plus_one alert with a recommendation. Each lookup also waits 12 ms in PostgreSQL
// (pg_sleep), standing in for the network round trip to a database that is not on this
// machine: without it, local queries are too fast to cross the 50 ms the rule asks for.
route('GET', '/users/:id/orders-n1', async (_req, params) => {
  const id = parseId(params.id);
  // The 10 latest: POST /orders keeps adding orders, and every run of the demo keeps its data.
  const { rows: ids } = await pool.query('SELECT id FROM orders WHERE user_id = $1 ORDER BY id DESC LIMIT 10', [id]);
  const orders = [];
  for (const { id: orderId } of ids) {
    const { rows } = await pool.query('SELECT id, item, quantity, price_cents, pg_sleep(0.012)::text AS round_trip FROM orders WHERE id = $1', [orderId]);
    const { round_trip: _, ...order } = rows[0];
    orders.push(order);
  }
  return { status: 200, body: { user_id: id, orders } };
});

route('GET', '/internal/price', async (_req, _params, url) => {
  const id = parseId(url.searchParams.get('user_id'));
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [id]);
  const n = rows[0].n;
  return { status: 200, body: { user_id: id, discount_pct: n >= 5 ? 10 : n >= 3 ? 5 : 0 } };
});

route('POST', '/orders', async (req) => {
  const body = await readJson(req);
  const { user_id, item, quantity = 1, price_cents } = body ?? {};
  if (!Number.isSafeInteger(user_id) || user_id <= 0) throw new HttpError(400, 'user_id must be a positive integer');
  if (typeof item !== 'string' || item.length === 0 || item.length > 100) throw new HttpError(400, 'item must be a non-empty string');
  if (!Number.isSafeInteger(quantity) || quantity <= 0 || quantity > 1000) throw new HttpError(400, 'quantity must be 1..1000');
  if (!Number.isSafeInteger(price_cents) || price_cents < 0) throw new HttpError(400, 'price_cents must be a non-negative integer');
  try {
    const { rows } = await pool.query(
      'INSERT INTO orders (user_id, item, quantity, price_cents) VALUES ($1, $2, $3, $4) RETURNING id, user_id, item, quantity, price_cents, created_at',
      [user_id, item, quantity, price_cents],
    );
    return { status: 201, body: rows[0] };
  } catch (err) {
    if (err.code === '23503') throw new HttpError(404, 'user not found'); // foreign_key_violation
    throw err;
  }
});

route('GET', '/slow', async () => {
  await pool.query('SELECT pg_sleep(0.2)');
  return { status: 200, body: { slept_ms: 200 } };
});

route('GET', '/error', async () => {
  // Deliberately broken: the table does not exist, so the query fails and we answer 500.
  await pool.query('SELECT id, amount FROM payments WHERE user_id = $1', [1]);
  return { status: 200, body: {} };
});

// --- server ----------------------------------------------------------------------------------

async function handle(req, res) {
  if (admin.matches(req)) return admin(req, res); // /_healthspan/*: status page and admin API
  const url = new URL(req.url ?? '/', 'http://localhost');
  let methodMismatch = false;
  for (const r of routes) {
    const match = r.pattern.exec(url.pathname);
    if (!match) continue;
    if (r.method !== req.method) {
      methodMismatch = true;
      continue;
    }
    try {
      const { status, body } = await r.handler(req, match.groups ?? {}, url);
      send(res, status, body);
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, err.status, { error: err.message });
      } else {
        console.error(`${req.method} ${r.template} failed:`, err.message);
        send(res, 500, { error: 'internal error' });
      }
    }
    return;
  }
  send(res, methodMismatch ? 405 : 404, { error: methodMismatch ? 'method not allowed' : 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error('unhandled error:', err);
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    else res.destroy();
  });
});

// --- WebSocket: ws://<host>:<port>/ws ---------------------------------------------------------

const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 4 * 1024 });
wss.on('connection', (socket) => {
  socket.on('error', () => {}); // a peer that vanishes: the close event follows
  socket.on('message', async (data) => {
    let reply;
    try {
      let message;
      try {
        message = JSON.parse(String(data));
      } catch {
        throw new HttpError(400, 'send JSON such as {"userId": 3}');
      }
      const userId = parseId(message?.userId);
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [userId]);
      reply = { userId, orders: rows[0].n };
    } catch (err) {
      if (!(err instanceof HttpError)) console.error('ws message failed:', err.message);
      reply = { error: err instanceof HttpError ? err.message : 'internal error' };
    }
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(reply));
  });
});

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  // Safety net: if something keeps the event loop alive, do not hang forever.
  setTimeout(() => {
    console.error('still running 10 s after shutdown started; exiting');
    process.exit(1);
  }, 10_000).unref();
  // Open WebSockets would keep server.close() waiting: say goodbye (1001 going away), and cut
  // the ones that do not answer the close handshake within a second.
  for (const socket of wss.clients) socket.close(1001, 'server shutting down');
  setTimeout(() => {
    for (const socket of wss.clients) socket.terminate();
  }, 1000).unref();
  wss.close();
  server.close(() => {
    Promise.allSettled([pool.end(), usersCache.disconnect()]).then(([closed]) => {
      if (closed.status === 'rejected') console.error('error closing the pool:', closed.reason?.message);
      else console.log('stopped');
    });
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

try {
  await migrate();
} catch (err) {
  console.error(`could not prepare the database at ${redact(DATABASE_URL)}: ${err.message}`);
  await pool.end().catch(() => {});
  process.exit(1);
}

if (!stopping) {
  server.listen(PORT, HOST, () => {
    const { address, port } = server.address();
    const host = address.includes(':') ? `[${address}]` : address;
    console.log(`listening on http://${host}:${port}`);
  });
}
server.on('error', (err) => {
  console.error(`cannot listen on ${HOST}:${PORT}: ${err.message}`);
  pool.end().finally(() => process.exit(1));
});

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
