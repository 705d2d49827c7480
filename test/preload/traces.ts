import { expect } from 'vitest';
import type { OtlpReceiver, ReceivedSpan } from '../../scripts/dev/otlp-receiver.mjs';

export const SERVER = 2;
export const CLIENT = 3;

/** Waits for the full trace of one GET /users/:id request and checks its exact shape. */
export async function expectUserTrace(receiver: OtlpReceiver, serviceName: string, id: number): Promise<ReceivedSpan[]> {
  const byService = (s: ReceivedSpan) => s.resource['service.name'] === serviceName;
  const spans = await receiver.waitForSpans((all) => {
    const root = all.find((s) => byService(s) && s.name === 'GET /users/:id' && s.attributes['url.path'] === `/users/${id}`);
    return !!root && all.filter((s) => s.traceId === root.traceId).length >= 4;
  }, 15_000);
  const root = spans.find((s) => byService(s) && s.name === 'GET /users/:id' && s.attributes['url.path'] === `/users/${id}`)!;
  const trace = spans.filter((s) => s.traceId === root.traceId);
  const shape = trace
    .map((s) => {
      const parent = trace.find((p) => p.spanId === s.parentSpanId);
      return `${s.name} [${s.kind}] <- ${parent ? parent.name : s.parentSpanId ? '?' : 'root'}`;
    })
    .sort();
  expect(shape).toEqual(
    [`GET /users/:id [${SERVER}] <- root`, `GET [${CLIENT}] <- GET /users/:id`, `GET /hello [${SERVER}] <- GET`, `SELECT [${CLIENT}] <- GET /users/:id`].sort(),
  );
  expect(root.attributes['http.route']).toBe('/users/:id');
  expect(root.attributes['http.response.status_code']).toBe(200);
  const fetchSpan = trace.find((s) => s.kind === CLIENT && s.name === 'GET')!;
  expect(fetchSpan.scope.name).toBe('@opentelemetry/instrumentation-undici');
  // The secret query parameter never leaves the process.
  expect(fetchSpan.attributes['url.full']).toMatch(/\/hello\?token=REDACTED$/);
  const inner = trace.find((s) => s.name === 'GET /hello')!;
  expect(inner.attributes['url.query']).toBe('token=REDACTED');
  const query = trace.find((s) => s.name === 'SELECT' && s.kind === CLIENT)!;
  expect(query.scope.name).toBe('@opentelemetry/instrumentation-pg');
  // The statement is exported with its placeholder; bind values never are.
  expect(query.attributes['db.query.text']).toBe('SELECT $1::int + ? AS n');
  expect(Object.keys(query.attributes).filter((k) => /param|value|binding/i.test(k))).toEqual([]);
  expect(root.resource['telemetry.distro.name']).toBe('healthspan');
  return trace;
}
