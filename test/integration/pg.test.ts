import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { shutdown, start } from '../../src/index.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric, type ReceivedSpan } from '../../scripts/dev/otlp-receiver.mjs';
import { until } from '../preload/child.ts';
import { underParent } from './spans.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLIENT = 3;
const TABLE = `hs_pg_${process.pid}`;

let receiver: OtlpReceiver;
let pg: typeof import('pg');

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  start({
    serviceName: 'pg-test',
    traces: { otlp: { endpoint: `${receiver.url}/v1/traces` }, batch: { scheduledDelayMillis: 50 } },
    metrics: { exporters: ['otlp'], otlp: { endpoint: `${receiver.url}/v1/metrics` }, exportIntervalMillis: 200 },
    instrumentations: ['pg'],
    resourceDetectors: [],
  });
  // After start(): the require hook patches pg as it loads.
  pg = createRequire(import.meta.url)('pg');
  const c = new pg.Client(DATABASE_URL);
  await c.connect();
  await c.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id int PRIMARY KEY, name text, secret text)`);
  await c.end();
});

afterAll(async () => {
  const c = new pg.Client(DATABASE_URL);
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await c.end();
  await shutdown();
  await receiver.close();
});

function summaryOf(s: ReceivedSpan) {
  return {
    name: s.name,
    kind: s.kind,
    text: s.attributes['db.query.text'],
    summary: s.attributes['db.query.summary'],
    operation: s.attributes['db.operation.name'],
    collection: s.attributes['db.collection.name'],
  };
}

describe('pg spans', () => {
  it('names a Client promise query by its summary and sanitizes inline literals', async () => {
    const client = new pg.Client(DATABASE_URL);
    await client.connect();
    const [span] = await underParent(receiver, 'promise', () => client.query(`SELECT id FROM ${TABLE} WHERE name = 'secret-bob' AND id > 41`), 1);
    await client.end();
    expect(summaryOf(span)).toEqual({
      name: `SELECT ${TABLE}`,
      kind: CLIENT,
      text: `SELECT id FROM ${TABLE} WHERE name = ? AND id > ?`,
      summary: `SELECT ${TABLE}`,
      operation: 'SELECT',
      collection: TABLE,
    });
    expect(span.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': 'test', 'server.address': '127.0.0.1', 'server.port': 5432 });
    expect(JSON.stringify(span.attributes)).not.toContain('secret-bob');
  });

  it('traces callback queries and never records bind values', async () => {
    const client = new pg.Client(DATABASE_URL);
    await client.connect();
    const [span] = await underParent(
      receiver,
      'callback',
      () =>
        new Promise<void>((resolve, reject) =>
          client.query(`INSERT INTO ${TABLE} (id, name, secret) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [1, 'ann', 'value-s3cr3t'], (err) =>
            err ? reject(err) : resolve(),
          ),
        ),
      1,
    );
    await client.end();
    expect(summaryOf(span)).toMatchObject({ name: `INSERT ${TABLE}`, operation: 'INSERT', collection: TABLE });
    expect(span.attributes['db.query.text']).toBe(`INSERT INTO ${TABLE} (id, name, secret) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`);
    expect(JSON.stringify(span.attributes)).not.toContain('value-s3cr3t');
  });

  it('traces pool queries, transactions and prepared statements under the caller span', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    const spans = await underParent(
      receiver,
      'pool-tx-prepared',
      async () => {
        await pool.query(`SELECT count(*) FROM ${TABLE}`);
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(`UPDATE ${TABLE} SET name = 'x' WHERE id = 1`);
          await client.query('COMMIT');
          await client.query({ name: 'by-id', text: `SELECT name FROM ${TABLE} WHERE id = $1`, values: [1] });
        } finally {
          client.release();
        }
      },
      5,
    );
    // instrumentation-pg's pool metrics are healthspan's (PgPoolInstrumentation): upstream's
    // recount on every pool event is not attached (instrumentations/pg-lean).
    expect(['connect', 'acquire', 'release', 'remove'].map((e) => pool.listenerCount(e))).toEqual([0, 0, 0, 0]);
    await pool.end();
    expect(spans.map((s) => s.name).sort()).toEqual(['BEGIN', 'COMMIT', `SELECT ${TABLE}`, `SELECT ${TABLE}`, `UPDATE ${TABLE}`].sort());
    expect(spans.every((s) => s.kind === CLIENT)).toBe(true);
    expect(spans.find((s) => s.name === `UPDATE ${TABLE}`)!.attributes['db.query.text']).toBe(`UPDATE ${TABLE} SET name = ? WHERE id = ?`);
    // No connect spans by default.
    expect(receiver.spans.some((s) => s.name.includes('connect'))).toBe(false);
  });

  it('keeps a query that waited for a pooled connection in its own trace, not the releasing one', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const tracer = trace.getTracer('test');
    let holderId = '';
    let waiterId = '';
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holder = tracer.startActiveSpan('holder', async (span) => {
      holderId = span.spanContext().spanId;
      const client = await pool.connect();
      await held;
      client.release();
      span.end();
    });
    await until('the holder to hold the only connection', () => pool.totalCount === 1 && pool.idleCount === 0);
    const waiter = tracer.startActiveSpan('waiter', async (span) => {
      waiterId = span.spanContext().spanId;
      await pool.query(`SELECT count(*) FROM ${TABLE} WHERE id = -7`);
      span.end();
    });
    await until('the waiter to queue for it', () => pool.waitingCount === 1);
    release();
    await Promise.all([holder, waiter]);
    await pool.end();
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.parentSpanId === waiterId));
    const query = spans.find((s) => s.attributes['db.query.text'] === `SELECT count(*) FROM ${TABLE} WHERE id = ?`)!;
    expect(query.parentSpanId).toBe(waiterId);
    expect(query.parentSpanId).not.toBe(holderId);
  });

  it("keeps pg's own error, with error.type = SQLSTATE on the span", async () => {
    const client = new pg.Client(DATABASE_URL);
    await client.connect();
    let caught: (Error & { code?: string }) | undefined;
    const [span] = await underParent(receiver, 'failing', () => client.query('SELECT * FROM hs_no_such_table').catch((e) => (caught = e)), 1);
    // The same query without the instrumentation in the way, for comparison.
    const bare = await client.query({ text: 'SELECT * FROM hs_no_such_table' }).catch((e) => e);
    await client.end();
    expect(caught).toBeInstanceOf(pg.DatabaseError);
    expect(caught!.code).toBe('42P01');
    expect(caught!.message).toBe('relation "hs_no_such_table" does not exist');
    expect(caught!.message).toBe(bare.message);
    expect(caught!.stack!.split('\n')[0]).toBe(bare.stack.split('\n')[0]);
    expect(Object.keys(caught!).sort()).toEqual(Object.keys(bare).sort());
    expect(span.name).toBe('SELECT hs_no_such_table');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('42P01');
    // Server messages quote names and values: the exported status message does not.
    expect(span.status.message).toBe('relation ? does not exist');
  });

  it('calls a failing query callback exactly once with the DatabaseError', async () => {
    const client = new pg.Client(DATABASE_URL);
    await client.connect();
    const calls: unknown[][] = [];
    await new Promise<void>((resolve) => {
      client.query('SELECT * FROM hs_no_such_table', (...args: unknown[]) => {
        calls.push(args);
        setTimeout(resolve, 50);
      });
    });
    await client.end();
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBeInstanceOf(pg.DatabaseError);
    expect((calls[0][0] as { code: string }).code).toBe('42P01');
    expect(calls[0][1]).toBeUndefined();
  });

  it('does not export a bind value quoted by the server in its error message', async () => {
    const client = new pg.Client(DATABASE_URL);
    await client.connect();
    let caught: (Error & { code?: string }) | undefined;
    const [span] = await underParent(receiver, 'bad-input', () => client.query('SELECT $1::int AS n', ['secret-x']).catch((e) => (caught = e)), 1);
    await client.end();
    expect(caught!.message).toBe('invalid input syntax for type integer: "secret-x"');
    expect(span.attributes['error.type']).toBe('22P02');
    expect(JSON.stringify({ a: span.attributes, s: span.status, e: span.events })).not.toContain('secret-x');
  });
});

function latestPoints(metric: ReceivedMetric | undefined, pool: string) {
  return (metric?.points ?? []).filter((p) => p.attributes['db.client.connection.pool.name'] === pool);
}

async function waitForMetricValue(name: string, pool: string, predicate: (points: ReturnType<typeof latestPoints>) => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metric = [...receiver.metrics].reverse().find((m) => m.name === name);
    const points = latestPoints(metric, pool);
    if (predicate(points)) return points;
    if (Date.now() > deadline) throw new Error(`${name} for ${pool}: ${JSON.stringify(points)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pool metrics', () => {
  it('show pending requests and the wait for a connection when the pool is exhausted, per pool', async () => {
    const busy = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const other = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
    await other.query('SELECT 1');
    const held = await busy.connect();
    const waiting = [busy.query('SELECT 1'), busy.query('SELECT 2'), busy.query('SELECT 3')];
    // Named in the order of first use: `other` ran a query first.
    const otherName = '127.0.0.1:5432/test';
    const busyName = '127.0.0.1:5432/test#2';
    const pending = await waitForMetricValue('db.client.connection.pending_requests', busyName, (p) => p[0]?.value === 3);
    expect(pending).toHaveLength(1);
    const counts = await waitForMetricValue('db.client.connection.count', busyName, (p) => p.length === 2);
    expect(Object.fromEntries(counts.map((p) => [p.attributes['db.client.connection.state'], p.value]))).toEqual({ idle: 0, used: 1 });
    expect((await waitForMetricValue('db.client.connection.max', busyName, (p) => p.length === 1))[0].value).toBe(1);
    // The second pool to the same database is told apart, with its own numbers.
    expect((await waitForMetricValue('db.client.connection.max', otherName, (p) => p.length === 1))[0].value).toBe(3);
    expect((await waitForMetricValue('db.client.connection.pending_requests', otherName, (p) => p.length === 1))[0].value).toBe(0);

    await new Promise((r) => setTimeout(r, 300));
    held.release();
    await Promise.all(waiting);
    const waits = await waitForMetricValue('db.client.connection.wait_time', busyName, (p) => (p[0]?.count ?? 0) >= 4);
    // Three of the four connects waited at least the 300 ms the connection was held.
    expect(waits[0].count).toBe(4);
    expect(waits[0].sum!).toBeGreaterThan(0.3 * 3);
    await waitForMetricValue('db.client.connection.pending_requests', busyName, (p) => p[0]?.value === 0);
    await Promise.all([busy.end(), other.end()]);
  });

  it('records db.client.operation.duration with the summary and without raw text', async () => {
    const metric = await receiver.waitForMetric('db.client.operation.duration');
    const point = metric.points.find((p) => p.attributes['db.query.summary'] === `INSERT ${TABLE}`)!;
    expect(point.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'db.operation.name': 'INSERT',
      'db.collection.name': TABLE,
      'db.query.summary': `INSERT ${TABLE}`,
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
    expect(metric.scope.name).toBe('healthspan');
    // Only healthspan's copy: the official instrumentation's own histogram is dropped.
    expect(new Set(receiver.metrics.filter((m) => m.name === 'db.client.operation.duration').map((m) => m.scope.name))).toEqual(new Set(['healthspan']));
    expect(new Set(receiver.metrics.filter((m) => m.name.startsWith('db.client.connection.')).map((m) => m.scope.name))).toEqual(
      new Set(['healthspan-pg-pool']),
    );
    const waits = receiver.metrics.filter((m) => m.name === 'db.client.connection.wait_time').at(-1)!;
    // The semantic conventions' advisory buckets (instrumentations/shared/buckets.ts).
    expect(waits.points[0].explicitBounds).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
    expect(metric.points.some((p) => 'db.query.text' in p.attributes)).toBe(false);
    const failed = metric.points.find((p) => p.attributes['error.type'] === '42P01');
    expect(failed?.attributes['db.query.summary']).toBe('SELECT hs_no_such_table');
  });
});
