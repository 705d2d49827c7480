// node:http, fetch (undici) and ws: the same app behaviours bare and preloaded (one child
// process per mode per library). On the wire, the preloaded run adds exactly one request
// header, `traceparent` (context propagation); responses carry the same headers.
import { describe, expect, it } from 'vitest';
import { expectEquivalent, runApp } from './run.ts';

async function both(name: string) {
  const [bare, preloaded] = await Promise.all([runApp(name, false), runApp(name, true, { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' })]);
  expect(bare.code).toBe(0);
  expect(preloaded.code).toBe(0);
  return { bare: bare.result, preloaded: preloaded.result };
}

describe('node:http and fetch', () => {
  it('behave the same, with traceparent the only header added on the wire', async () => {
    const { bare, preloaded } = await both('http');
    expect(bare.http).toMatchObject({ refused: { error: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:PORT', code: 'ECONNREFUSED' } });
    expect(bare.fetch).toMatchObject({ refused: { error: 'TypeError', message: 'fetch failed', cause: { code: 'ECONNREFUSED' } } });
    expectEquivalent(bare, preloaded, {
      propagated: [
        'received./json-http',
        'received./post-http',
        'received./fail-http',
        'received./ignored-http',
        'received./json-fetch',
        'received./fail-fetch',
      ],
      known: [
        {
          path: 'http.requestReturns.headerNames',
          preloaded: ['traceparent', 'host'],
          why: 'the propagation header is set on the ClientRequest before it is returned',
        },
        {
          path: 'signatures.request',
          preloaded: { name: 'outgoingRequest', length: 1 },
          why: '@opentelemetry/instrumentation-http wraps http.request as outgoingRequest(options, ...args)',
        },
        {
          path: 'signatures.get',
          preloaded: { name: 'outgoingGetRequest', length: 1 },
          why: '@opentelemetry/instrumentation-http wraps http.get as outgoingGetRequest(options, ...args)',
        },
      ],
    });
  });
});

describe('ws', () => {
  it('behaves the same, with traceparent the only header added to the handshake', async () => {
    const { bare, preloaded } = await both('ws');
    expect(bare.session).toMatchObject({
      value: {
        close: { code: 4001, reason: 'asked to' },
        messages: [
          { isBinary: false, data: 'hello' },
          { isBinary: true, data: [1, 2, 3] },
        ],
      },
    });
    expectEquivalent(bare, preloaded, { propagated: ['handshakes.0'] });
  });
});
