// express, fastify and koa: the same app behaviours bare and preloaded (one child process per
// mode per library), plus the cases of issue 12 asserted on their own: express `next` is
// `req.next` with its name and length, res.format() hands `req.next` to `.default`, koa's
// `app.use(<not a function>)` throws koa's own error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../scripts/dev/otlp-receiver.mjs';
import { expectEquivalent, runApp } from './run.ts';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

/** Both runs; the preloaded one exports to the receiver (flushed when the app ends on its own). */
async function both(name: string, path: string) {
  const service = `eq-${name}`;
  const [bare, preloaded] = await Promise.all([
    runApp(name, false),
    runApp(name, true, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: 'none', OTEL_SERVICE_NAME: service }),
  ]);
  expect(bare.code).toBe(0);
  expect(preloaded.code).toBe(0);
  const spans = receiver.spans.filter((s) => s.resource['service.name'] === service);
  const server = spans.find((s) => s.kind === 2 && s.attributes['url.path'] === path);
  return { bare: bare.result, preloaded: preloaded.result, spans: new Set(spans.map((s) => `${s.name} ${s.kind}`)), route: server?.attributes['http.route'] };
}

describe('express', () => {
  it('behaves the same, with next === req.next, res.format() and the spans kept', async () => {
    const { bare, preloaded, spans, route } = await both('express', '/api/items/seven');
    const seen = bare.seen as Record<string, unknown>;
    expect(seen.middlewareNext).toEqual({ isReqNext: true, name: 'next', length: 1 });
    expect(seen.nestedNext).toEqual({ isReqNext: true, name: 'next', length: 1 });
    expect(seen.formatDefault).toEqual({ req: true, res: true, nextIsReqNext: true, nextIsNext: true });
    expect(bare.requests).toMatchObject({ formatDefault: { status: 406, type: 'text/x-default; charset=utf-8', body: 'default' } });
    expectEquivalent(bare, preloaded);
    // The spans upstream makes are still there, and the route comes from the router
    // (`seven` is no id our own fallback would template).
    expect(route).toBe('/api/items/:id');
    for (const name of ['GET /api/items/:id 2', 'middleware - identity 1', 'router - /api 1', 'middleware - nested 1', 'request handler 1'])
      expect(spans).toContain(name);
  });
});

describe('koa', () => {
  it("behaves the same, with koa's own error for app.use(<not a function>) and the spans kept", async () => {
    const { bare, preloaded, spans, route } = await both('koa', '/items/seven');
    const errors = bare.useErrors as Record<string, unknown>;
    for (const v of ['null', '0', 'false', '"x"', 'undefined', '{}'])
      expect(errors[v], v).toEqual({ error: 'TypeError', message: 'middleware must be a function!' });
    expectEquivalent(bare, preloaded);
    expect(route).toBe('/items/:id');
    for (const name of ['GET /items/:id 2', 'middleware - timing 1', 'router - /items/:id 1']) expect(spans).toContain(name);
  });
});

describe('fastify', () => {
  it('behaves the same, with the spans kept', async () => {
    const { bare, preloaded, spans, route } = await both('fastify', '/items/seven');
    expectEquivalent(bare, preloaded, {
      known: [
        { path: 'signatures.addHook', preloaded: { name: 'addHookPatched', length: 2 }, why: '@fastify/otel replaces addHook by a function of another name' },
      ],
    });
    expect(route).toBe('/items/:id');
    for (const name of ['GET /items/:id 2', 'handler - fastify -> @fastify/otel 1']) expect(spans).toContain(name);
  });
});
