// The scenario suite's app: a small shop on node:http + pg + a traced two-tier cache (L1 memory,
// L2 the real Redis), run with `node --import healthspan/register` and healthspan's defaults.
// The suite injects faults by writing one JSON line to stdin (`{"slow":{"d":3500}}`, …); the
// app has no test-only HTTP route, so everything it serves is what a user's app would serve.
// Its own tables live in a schema of its own (hs_scn_<pid>), dropped on exit.
import http from 'node:http';
import readline from 'node:readline';
import pg from 'pg';
import { createAdminHandler, createCache, shutdown } from 'healthspan';

const SCHEMA = `hs_scn_${process.pid}`;
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  max: 10,
  options: `-c search_path=${SCHEMA}`,
});
const cache = createCache({ name: 'products', namespace: `${SCHEMA}-products`, ttl: 60_000, l2: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } });
cache.on('error', () => {}); // counted in its stats; the app does not care
const admin = createAdminHandler();

/** What is broken right now; changed by the suite through stdin. */
const faults = {
  /** Delay (ms) of GET /slow/<tier>; any tier not named answers in 5 ms. */
  slow: {},
  /** Seconds the search statement sleeps in PostgreSQL. */
  searchSleep: 0,
  /** GET /orders/:id loads its 12 items one by one (an N+1) instead of in one query. */
  nPlusOne: false,
  /** Every n-th POST… GET /pay answers 503 (0: never). */
  errorEvery: 0,
  /** Every request to GET /remember keeps this many KiB for ever. */
  retainKiB: 0,
  /** Once a second the loop is blocked this long (ms). */
  blockMs: 0,
  /** GET /products/:id looks up ids that were never asked for: every lookup misses. */
  coldCache: false,
};

const SEARCH = 'SELECT p.id, p.name FROM products p, (SELECT pause($2::float8)) d WHERE p.name ILIKE $1 ORDER BY p.id LIMIT 20';
const kept = [];
let payCount = 0;
let blocker;

async function setUp() {
  const c = await pool.connect();
  try {
    await c.query(`CREATE SCHEMA ${SCHEMA}`);
    await c.query('CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric NOT NULL)');
    await c.query('CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL)');
    await c.query('CREATE TABLE items (id int PRIMARY KEY, order_id int NOT NULL, product_id int NOT NULL, qty int NOT NULL)');
    await c.query(
      "INSERT INTO products SELECT i, 'product ' || i || CASE WHEN i % 7 = 0 THEN ' lamp' ELSE ' chair' END, i % 90 + 9.5 FROM generate_series(1, 2000) i",
    );
    await c.query("INSERT INTO orders SELECT i, 'customer ' || i FROM generate_series(1, 200) i");
    await c.query('INSERT INTO items SELECT i, (i - 1) / 12 + 1, i % 2000 + 1, i % 3 + 1 FROM generate_series(1, 2400) i');
    await c.query('CREATE INDEX ON items (order_id)');
    await c.query('CREATE FUNCTION pause(s float8) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$ BEGIN PERFORM pg_sleep(s); RETURN true; END $$');
  } finally {
    c.release();
  }
}

async function tearDown() {
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  } catch {
    // the next run has its own schema
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const json = (res, status, body) => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://x');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] === 'products' && parts.length === 2) {
    const id = faults.coldCache ? 100_000 + Math.floor(Math.random() * 1e9) : Number(parts[1]);
    const product = await cache.wrap(
      `product:${id}`,
      async () => (await pool.query('SELECT id, name, price FROM products WHERE id = $1', [id])).rows[0] ?? null,
    );
    return json(res, 200, product);
  }
  if (parts[0] === 'search') {
    const { rows } = await pool.query(SEARCH, [`%${url.searchParams.get('q') ?? 'lamp'}%`, faults.searchSleep]);
    return json(res, 200, rows);
  }
  if (parts[0] === 'orders' && parts.length === 2) {
    const id = Number(parts[1]);
    const order = (await pool.query('SELECT id, customer FROM orders WHERE id = $1', [id])).rows[0];
    let items;
    if (faults.nPlusOne) {
      // The N+1 shape: the ids first, then one query per item, one after the other.
      const ids = (await pool.query('SELECT id FROM items WHERE order_id = $1 ORDER BY id', [id])).rows;
      items = [];
      for (const { id: itemId } of ids) items.push((await pool.query('SELECT id, product_id, qty FROM items WHERE id = $1', [itemId])).rows[0]);
    } else {
      items = (await pool.query('SELECT id, product_id, qty FROM items WHERE order_id = $1 ORDER BY id', [id])).rows;
    }
    return json(res, 200, { ...order, items });
  }
  if (parts[0] === 'dashboard') {
    // Three different statements in a row: not an N+1.
    const products = (await pool.query('SELECT count(*)::int AS n FROM products')).rows[0].n;
    const orders = (await pool.query('SELECT count(*)::int AS n FROM orders')).rows[0].n;
    const qty = (await pool.query('SELECT sum(qty)::int AS n FROM items')).rows[0].n;
    return json(res, 200, { products, orders, qty });
  }
  if (parts[0] === 'slow' && parts.length === 2) {
    await sleep(faults.slow[parts[1]] ?? 5);
    return json(res, 200, { tier: parts[1] });
  }
  if (parts[0] === 'pay') {
    payCount++;
    if (faults.errorEvery > 0 && payCount % faults.errorEvery === 0) return json(res, 503, { error: 'payment provider unavailable' });
    return json(res, 200, { paid: true });
  }
  if (parts[0] === 'remember') {
    // Plain JS numbers on the V8 heap (a Buffer would live outside it).
    if (faults.retainKiB > 0) kept.push(Array.from({ length: (faults.retainKiB * 1024) / 8 }, (_, i) => i + 0.5));
    return json(res, 200, { kept: kept.length });
  }
  return json(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  if (admin.matches(req)) return admin(req, res);
  handle(req, res).catch((err) => {
    if (!res.headersSent) json(res, 500, { error: String(err?.message ?? err) });
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    Object.assign(faults, JSON.parse(line));
  } catch {
    return;
  }
  clearInterval(blocker);
  if (faults.blockMs > 0) {
    blocker = setInterval(() => {
      const end = Date.now() + faults.blockMs;
      while (Date.now() < end);
    }, 1000);
  }
  process.stdout.write(`faults ${JSON.stringify(faults)}\n`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(blocker);
  server.close();
  server.closeAllConnections();
  await tearDown();
  await cache.disconnect().catch(() => {});
  await pool.end().catch(() => {});
  // An app that exits in its own SIGTERM handler flushes telemetry first (docs/exporters.md).
  await shutdown();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await setUp();
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
