// The rules as issue 16 asks them to behave: no alert from a cold start or a single sample,
// statements told apart by their text, a score that agrees with the alerts, alerts that
// resolve on evidence (or expire without any), memory judged against the old-space limit.
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Attributes } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import type { Alert, Transition } from '../../src/insight/alerts.js';
import { InsightProcessor, type InsightOptions } from '../../src/insight/processor.js';
import { heapGrowth, oldSpaceLimit } from '../../src/insight/runtime.js';

const made: InsightProcessor[] = [];
afterEach(async () => {
  while (made.length) await made.pop()!.shutdown();
});

const MiB = 2 ** 20;

/** An insight processor on a clock the test moves, with helpers that end spans "now". */
function setup(options: InsightOptions = {}) {
  let now = 1_700_000_000_000;
  const insight = new InsightProcessor({ evaluateIntervalMs: 0, warmupMs: 0, now: () => now, ...options });
  made.push(insight);
  const provider = new TracerProvider({ spanProcessors: [insight] });
  const http = provider.getTracer('healthspan-http-server');
  const pg = provider.getTracer('@opentelemetry/instrumentation-pg');
  const events: string[] = [];
  insight.onAlert((a: Alert, t: Transition) => events.push(`${t} ${a.rule} ${a.key} ${a.severity}`));
  const request = (route: string, ms: number, status = 200) => {
    const span = http.startSpan(`GET ${route}`, {
      kind: SpanKind.SERVER,
      startTime: now - ms,
      attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': status },
    });
    span.end(now);
    return span;
  };
  const query = (text: string, summary: string, ms: number, parent?: { traceId: string; spanId: string }, startAt = now - ms) => {
    const attributes: Attributes = { 'db.system.name': 'postgresql', 'db.query.summary': summary, 'db.query.text': text };
    const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, traceFlags: TraceFlags.SAMPLED }) : undefined;
    pg.startSpan(summary, { kind: SpanKind.CLIENT, startTime: startAt, attributes }, ctx).end(startAt + ms);
  };
  /** One request of `route` that runs `n` sequential copies of a query (an N+1 when n ≥ 5). */
  const loop = (route: string, n: number, eachMs: number) => {
    const req = http.startSpan(`GET ${route}`, {
      kind: SpanKind.SERVER,
      startTime: now - n * eachMs - 1,
      attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': 200 },
    });
    const parent = { traceId: req.spanContext().traceId, spanId: req.spanContext().spanId };
    for (let i = 0; i < n; i++) query('SELECT * FROM items WHERE order_id = $1', 'SELECT items', eachMs, parent, now - (n - i) * eachMs);
    req.end(now);
  };
  const tick = (ms: number) => (now += ms);
  return { insight, request, query, loop, events, tick, at: () => now };
}

describe('cold start', () => {
  it('raises nothing from what ended during the warm-up, even once it is over, and judges what follows', () => {
    const { insight, request, query, events, tick } = setup({ warmupMs: 30_000 });
    // A fresh pool: the first connections and plans are slow.
    for (let i = 0; i < 40; i++) query('SELECT * FROM orders WHERE id = $1', 'SELECT orders', i < 10 ? 400 : 3);
    for (let i = 0; i < 40; i++) request('/orders', i < 10 ? 3500 : 20);
    insight.evaluate();
    tick(31_000); // warm-up over: the cold samples are still in the window, but never count
    for (let i = 0; i < 40; i++) query('SELECT * FROM orders WHERE id = $1', 'SELECT orders', 3);
    for (let i = 0; i < 40; i++) request('/orders', 20);
    insight.evaluate();
    expect(events).toEqual([]);
    expect(insight.read.health().score).toBeGreaterThanOrEqual(95);
    // A real slowdown after the warm-up fires.
    for (let i = 0; i < 40; i++) request('/orders', 2500);
    insight.evaluate();
    expect(events).toEqual(['fired slow_request GET /orders high']);
  });

  it('needs 20 samples of a key before judging its p95: one cold statement is not a slow query', () => {
    const { insight, query, events } = setup();
    for (let i = 0; i < 19; i++) query('SELECT pg_sleep(?)', 'SELECT', 400);
    insight.evaluate();
    expect(events).toEqual([]);
    query('SELECT pg_sleep(?)', 'SELECT', 400);
    insight.evaluate();
    expect(events).toEqual(['fired slow_query postgresql SELECT pg_sleep(?) critical']);
  });
});

describe('statement keys', () => {
  it('tells a slow search from fast lookups with the same summary, and says which in the alert', () => {
    const { insight, query, events } = setup();
    for (let i = 0; i < 650; i++) query('SELECT * FROM products WHERE id = $1', 'SELECT products', 2);
    for (let i = 0; i < 30; i++) query("SELECT * FROM products WHERE name ILIKE '%lamp%'", 'SELECT products', 350);
    insight.evaluate();
    expect(events).toEqual(['fired slow_query postgresql SELECT * FROM products WHERE name ILIKE ? critical']);
    const [alert] = insight.read.alerts();
    expect(alert.message).toMatch(
      /^slow query postgresql SELECT \* FROM products WHERE name ILIKE \?: p95 3[45]\d ms over 100 ms, 30 queries in the last 60 s$/,
    );
    expect(insight.read.queries().map((q) => [q.query, q.summary, q.count])).toEqual([
      ['postgresql SELECT * FROM products WHERE name ILIKE ?', 'SELECT products', 30],
      ['postgresql SELECT * FROM products WHERE id = $1', 'SELECT products', 650],
    ]);
  });
});

describe('the score agrees with the alerts', () => {
  it.each([
    ['critical', 3500, 60],
    ['high', 2500, 75],
  ] as const)('a %s slow route (%i ms) keeps the score under %i, and its component under the alert', (severity, ms, below) => {
    const { insight, request, events } = setup();
    for (let i = 0; i < 400; i++) request('/fast', 20);
    for (let i = 0; i < 40; i++) request('/slow', ms);
    insight.evaluate();
    expect(events).toEqual([`fired slow_request GET /slow ${severity}`]);
    const h = insight.read.health();
    expect(h.score).toBeLessThan(below);
    expect(h.cappedBy).toEqual({ severity, cap: severity === 'critical' ? 45 : 70 });
    expect(h.components.find((c) => c.name === 'responseTime')!.detail).toMatch(new RegExp(`capped at \\d+ by a firing ${severity} alert$`));
  });

  it('a critical error rate on one route of many brings the score down, not to 99', () => {
    const { insight, request, events } = setup();
    for (let i = 0; i < 2000; i++) request('/fine', 10);
    for (let i = 0; i < 100; i++) request('/pay', 10, i % 6 === 0 ? 503 : 200); // 17 %: 3.3× the 5 %
    insight.evaluate();
    expect(events).toEqual(['fired error_rate GET /pay critical']);
    expect(insight.read.health().score).toBeLessThan(60);
  });

  it('a healthy service scores 95 or more, and a cold cache alone does not make it unhealthy', () => {
    const { insight, request } = setup();
    const provider = new TracerProvider({ spanProcessors: [insight] });
    const cache = provider.getTracer('healthspan-cache');
    for (let i = 0; i < 400; i++) request('/a', 30);
    insight.evaluate();
    expect(insight.read.health().score).toBeGreaterThanOrEqual(95);
    for (let i = 0; i < 100; i++) cache.startSpan('cache.get users', { attributes: { 'cache.name': 'users', 'cache.hit': false } }).end();
    insight.evaluate();
    const h = insight.read.health();
    expect(h.components.find((c) => c.name === 'cache')!.score).toBe(0);
    expect(h.score).toBeGreaterThanOrEqual(85); // the cache weighs 10 of 85 here, nothing caps it
    expect(h.status).toBe('healthy');
  });

  it('RSS over its limit is a critical memory alert and shows in the resources component', () => {
    const rss = process.memoryUsage.rss();
    const { insight, events } = setup({ memoryLimitBytes: Math.round(rss / 1.02) });
    insight.evaluate();
    expect(events).toContain('fired memory rss critical');
    const h = insight.read.health();
    expect(h.components.find((c) => c.name === 'resources')!.detail).toMatch(/RSS 10\d(\.\d)?% of the memory limit/);
    expect(h.score).toBeLessThan(60);
  });
});

describe('resolving', () => {
  it('a slow route resolves within two minutes of its last slow request, and the score climbs back', () => {
    const { insight, request, events, tick } = setup();
    for (let i = 0; i < 60; i++) request('/r', 2500);
    insight.evaluate();
    expect(events).toEqual(['fired slow_request GET /r high']);
    const during = insight.read.health().score!;
    let resolvedAfter = 0;
    for (let s = 5; s <= 300 && !events.includes('resolved slow_request GET /r high'); s += 5) {
      tick(5000);
      for (let i = 0; i < 20; i++) request('/r', 20);
      insight.evaluate();
      resolvedAfter = s;
    }
    // The rule window (30–60 s) forgets the slow requests, then 60 s under 0.9 × the threshold.
    expect(resolvedAfter).toBeGreaterThanOrEqual(60);
    expect(resolvedAfter).toBeLessThanOrEqual(125);
    expect(insight.read.health().score!).toBeGreaterThan(during + 20);
  });

  it('an N+1 resolves once its route runs without it, and has the same length and severity every time', () => {
    const { insight, loop, request, events, tick } = setup();
    for (let i = 0; i < 10; i++) loop('/orders', 12, 8);
    insight.evaluate();
    expect(events).toEqual(['fired n_plus_one GET /orders → postgresql SELECT * FROM items WHERE order_id = $1 high']);
    expect(insight.read.alerts()[0]).toMatchObject({ observed: 12, ratio: 2.4 });
    for (let s = 0; s < 200 && insight.read.alerts().length > 0; s += 5) {
      tick(5000);
      for (let i = 0; i < 10; i++) request('/orders', 5); // fixed: one query per request
      insight.evaluate();
    }
    expect(insight.read.alerts('resolved')[0]).toMatchObject({ rule: 'n_plus_one', resolvedBy: 'signal' });
  });

  it('a fast N+1 (12 × 0.5 ms) is reported, as low', () => {
    const { insight, loop, events } = setup();
    loop('/fast-n1', 12, 0.5);
    insight.evaluate();
    expect(events).toEqual(['fired n_plus_one GET /fast-n1 → postgresql SELECT * FROM items WHERE order_id = $1 low']);
  });

  it('an alert with no new evidence expires instead of firing for ever', () => {
    const { insight, request, events, tick } = setup();
    for (let i = 0; i < 30; i++) request('/rare', 2500);
    insight.evaluate();
    expect(events).toEqual(['fired slow_request GET /rare high']);
    // No request at all any more: nothing to judge it on.
    for (let s = 0; s < 600 && insight.read.alerts().length > 0; s += 5) {
      tick(5000);
      insight.evaluate();
    }
    expect(insight.read.alerts('resolved')[0]).toMatchObject({ rule: 'slow_request', resolvedBy: 'expired' });
  });
});

describe('memory', () => {
  it.each([
    [448 * MiB, [], 24, 256 * MiB], // --max-old-space-size=256 under Node 24: 3 × 64 MiB of young generation
    [304 * MiB, [], 22, 256 * MiB], // the same under Node 22: 3 × 16 MiB
    [304 * MiB, ['--max-semi-space-size=16'], 24, 256 * MiB],
    [4288 * MiB, [], 24, 4096 * MiB],
    [100 * MiB, [], 24, 100 * MiB], // a guess that would leave under a quarter is not used
  ] as const)('old-space limit of heap_size_limit %i with %j on Node %i is %i', (heapSizeLimit, argv, major, expected) => {
    expect(oldSpaceLimit(heapSizeLimit, argv, major)).toBe(expected);
  });

  it('heap growth is the rise of the floor: garbage between collections is not growth, retained memory is', () => {
    const at = (i: number) => i * 5000;
    const sawtooth = Array.from({ length: 24 }, (_, i) => ({ t: at(i), used: (100 + (i % 4) * 20) * MiB }));
    expect(heapGrowth(sawtooth)).toBe(0);
    const leak = Array.from({ length: 24 }, (_, i) => ({ t: at(i), used: (100 + i * 10 + (i % 4) * 20) * MiB }));
    expect(heapGrowth(leak)! * 1000).toBeCloseTo((10 * MiB) / 5, -3); // 10 MiB every 5 s
    expect(heapGrowth(leak.slice(0, 5))).toBeUndefined(); // too few samples to tell
  });

  it('a heap at its old-space limit is critical', () => {
    // 120 % of the limit when measured: a major GC between the measurement and evaluate() may
    // free some of the old generation, and critical needs only 95 %.
    const { insight, events } = setup({ heapLimitBytes: Math.round(insight0HeapUsed() / 1.2) });
    insight.evaluate();
    expect(events).toContain('fired memory heap critical');
  });
});

describe('event loop', () => {
  it('reads each evaluation interval on its own: a block fires, a quiet interval after it reads low again', async () => {
    const insight = new InsightProcessor({ evaluateIntervalMs: 0, warmupMs: 0, eventLoopWindowMs: 0 });
    made.push(insight);
    const events: string[] = [];
    insight.onAlert((a, t) => events.push(`${t} ${a.rule} ${a.severity}`));
    insight.evaluate(); // starts a fresh interval
    await new Promise((r) => setTimeout(r, 100));
    const end = Date.now() + 260;
    while (Date.now() < end);
    await new Promise((r) => setTimeout(r, 100));
    insight.evaluate();
    // The histogram samples every 20 ms (RESOLUTION_MS in src/insight/runtime.ts): a 260 ms
    // block reads 260 ms less the part of a sampling period that had run when it began, so
    // 240–260 ms (it read 249.9 twice): above the 200 ms threshold, never below it.
    expect(insight.read.runtime().eventLoopDelayP99Ms).toBeGreaterThanOrEqual(240);
    expect(events).toEqual([expect.stringMatching(/^fired event_loop (low|medium)$/)]);
    await new Promise((r) => setTimeout(r, 1000));
    insight.evaluate();
    // The block is not in this interval (the histogram was reset): a 1 s quiet interval reads
    // far under the threshold unless this worker was itself frozen for 200 ms.
    expect(insight.read.runtime().eventLoopDelayP99Ms).toBeLessThan(200);
  });
});

/** The old-generation heap this process uses now, as the processor measures it. */
function insight0HeapUsed(): number {
  const p = new InsightProcessor({ evaluateIntervalMs: 0 });
  made.push(p);
  return p.read.runtime().heapUsed;
}

describe('event loop over a short evaluation interval', () => {
  it('reads the p99 over 5 s at least: one stall in that time is not the p99', async () => {
    let now = Date.now();
    const insight = new InsightProcessor({ evaluateIntervalMs: 0, warmupMs: 0, now: () => now });
    made.push(insight);
    const events: string[] = [];
    insight.onAlert((a, t) => events.push(`${t} ${a.rule} ${a.severity}`));
    insight.evaluate(); // the first interval runs from the start: it closes here
    // One 300 ms stall, then a second of quiet; evaluated every second as the clock moves.
    const end = Date.now() + 300;
    while (Date.now() < end);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      now += 1000;
      insight.evaluate();
    }
    // ~250 ticks of 20 ms over the 5 s, one of them 300 ms: the p99 is an ordinary tick.
    expect(insight.read.runtime().eventLoopDelayP99Ms).toBeLessThan(200);
    expect(events).toEqual([]);
  }, 15_000);
});
