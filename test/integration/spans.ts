import { trace } from '@opentelemetry/api';
import type { OtlpReceiver, ReceivedSpan } from '../../scripts/dev/otlp-receiver.mjs';

/** Runs `fn` under a fresh parent span and returns its child spans, in start order. */
export async function underParent(receiver: OtlpReceiver, name: string, fn: () => Promise<unknown>, expected: number): Promise<ReceivedSpan[]> {
  let parentId = '';
  await trace.getTracer('test').startActiveSpan(name, async (span) => {
    parentId = span.spanContext().spanId;
    try {
      await fn();
    } finally {
      span.end();
    }
  });
  const spans = await receiver.waitForSpans((all) => all.filter((s) => s.parentSpanId === parentId).length >= expected);
  return spans.filter((s) => s.parentSpanId === parentId).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
}

/** Everything a span exports, as text, to look for values that must not be there. */
export function exported(span: ReceivedSpan): string {
  return JSON.stringify({ name: span.name, attributes: span.attributes, status: span.status, events: span.events }, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
}
