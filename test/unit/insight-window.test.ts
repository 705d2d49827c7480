import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { classify } from '../../src/insight/classify.js';
import { OTHER_KEY, RollingWindows } from '../../src/insight/window.js';

function windows(options: { maxKeys?: number; cutAt?: number } = {}) {
  let now = 1_000_000;
  const w = new RollingWindows({ windowMs: 60_000, slices: 6, now: () => now, ...options });
  return { w, tick: (ms: number) => (now += ms) };
}

describe('RollingWindows', () => {
  it('gives quantiles within the sketch accuracy, error rate and rate over the window', () => {
    const { w, tick } = windows();
    for (let i = 1; i <= 1000; i++) {
      w.record('GET /a', i, i % 10 === 0);
      if (i % 100 === 0) tick(1000);
    }
    const s = w.summary('GET /a')!;
    expect(s.count).toBe(1000);
    expect(s.errors).toBe(100);
    expect(s.errorRate).toBe(0.1);
    expect(Math.abs(s.p50 - 500) / 500).toBeLessThan(0.03);
    expect(Math.abs(s.p95 - 950) / 950).toBeLessThan(0.03);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.03);
    expect(s.max).toBe(1000);
    expect(s.mean).toBeCloseTo(500.5, 5);
    expect(s.rate).toBeGreaterThan(90);
  });

  it('forgets whole slices as they leave the window', () => {
    const { w, tick } = windows();
    w.record('k', 5000);
    tick(30_000);
    w.record('k', 10);
    expect(w.summary('k')!.count).toBe(2);
    tick(35_000); // the first slice is now older than 60 s
    expect(w.summary('k')).toMatchObject({ count: 1, max: 10 });
    tick(60_000);
    expect(w.summary('k')).toBeUndefined();
    expect(w.activeKeys()).toEqual([]);
    w.prune(); // reads change nothing: the timer forgets what left the window
    expect(w.size).toBe(0);
  });

  it('answers for a shorter window than it keeps', () => {
    const { w, tick } = windows();
    w.record('k', 100);
    tick(40_000);
    w.record('k', 1);
    expect(w.summary('k', 20_000)).toMatchObject({ count: 1 });
    expect(w.summary('k')).toMatchObject({ count: 2 });
  });

  it('keeps 100 000 distinct keys within the cap by folding the rest into _other, counted', () => {
    const { w } = windows({ maxKeys: 50 });
    for (let i = 0; i < 100_000; i++) w.record(`GET /p/${i}`, 1);
    expect(w.size).toBe(51);
    expect(w.folded).toBe(100_000 - 50);
    expect(w.summary(OTHER_KEY)!.count).toBe(100_000 - 50);
  });

  it('ignores values that are not durations instead of throwing', () => {
    const { w } = windows();
    w.record('k', Number.NaN);
    w.record('k', -1, true);
    w.record('k', 3);
    expect(w.summary('k')).toMatchObject({ count: 1, errors: 1 });
  });
});

describe('classify', () => {
  const spans = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const make = (scope: string, name: string, kind: SpanKind, attributes: Attributes, error = false) => {
    const span = provider.getTracer(scope).startSpan(name, { kind, attributes });
    if (error) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    return classify(spans.getFinishedSpans().at(-1)!);
  };

  it.each([
    [
      'a request, by method and route',
      'healthspan-http-server',
      SpanKind.SERVER,
      { 'http.request.method': 'GET', 'http.route': '/users/:id', 'http.response.status_code': 200 },
      false,
      { class: 'request', key: 'GET /users/:id', error: false, status: 200 },
    ],
    [
      'a 5xx request is an error',
      'healthspan-http-server',
      SpanKind.SERVER,
      { 'http.request.method': 'POST', 'http.route': '/o', 'http.response.status_code': 503 },
      false,
      { class: 'request', key: 'POST /o', error: true },
    ],
    [
      'a 4xx request is not',
      'healthspan-http-server',
      SpanKind.SERVER,
      { 'http.request.method': 'GET', 'http.route': '/x', 'http.response.status_code': 404 },
      false,
      { class: 'request', error: false },
    ],
    ['a ws handshake', 'healthspan-ws', SpanKind.SERVER, { 'http.request.method': 'GET', 'http.route': '/chat' }, false, { class: 'ws', key: 'GET /chat' }],
    [
      'a query, by system and summary',
      '@opentelemetry/instrumentation-pg',
      SpanKind.CLIENT,
      { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT users' },
      true,
      { class: 'query', key: 'postgresql SELECT users', summary: 'SELECT users', error: true },
    ],
    [
      'a cache operation',
      'healthspan-cache',
      SpanKind.INTERNAL,
      { 'cache.name': 'users', 'cache.hit': true },
      false,
      { class: 'cache', key: 'users', hit: true },
    ],
    ['anything else', 'app', SpanKind.INTERNAL, {}, false, { class: 'other', key: 'work' }],
  ] as const)('%s', (_name, scope, kind, attributes, error, want) => {
    const c = make(scope, (want as { key?: string }).key === 'work' ? 'work' : 'span', kind, attributes as Attributes, error);
    expect(c).toMatchObject(want);
    expect(c.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('RollingWindows cut (the warm-up end)', () => {
  it('starts a new slice at the cut, so reading since the cut leaves out everything before it', () => {
    // 10 s slices from 1 000 000; the cut falls mid-slice, at 1 004 000.
    const { w, tick } = windows({ cutAt: 1_004_000 });
    w.record('q', 900); // cold, before the cut
    tick(3000);
    w.record('q', 900);
    tick(2000); // 1 005 000: past the cut, same grid slice
    for (let i = 0; i < 4; i++) w.record('q', 5);
    expect(w.summary('q')!.count).toBe(6); // the window still holds everything
    expect(w.summary('q', 60_000, 1_004_000)).toMatchObject({ count: 4, max: expect.closeTo(5, 0) });
    expect(w.totals().count).toBe(6);
    tick(10_000); // the next grid slice: slices go on as before
    w.record('q', 7);
    expect(w.summary('q', 60_000, 1_004_000)!.count).toBe(5);
  });
});
