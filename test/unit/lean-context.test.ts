import { ROOT_CONTEXT, createContextKey, isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { LEAN_ROOT_CONTEXT, LeanContext } from '../../instrumentations/shared/context.js';

const A = createContextKey('a');
const B = createContextKey('b');

describe('LeanContext', () => {
  it('is immutable: setValue and deleteValue return new contexts and leave the original as it was', () => {
    const one = LEAN_ROOT_CONTEXT.setValue(A, 1);
    const two = one.setValue(B, 2);
    expect([LEAN_ROOT_CONTEXT.getValue(A), one.getValue(A), one.getValue(B), two.getValue(A), two.getValue(B)]).toEqual([undefined, 1, undefined, 1, 2]);
    const without = two.deleteValue(A);
    expect([without.getValue(A), without.getValue(B), two.getValue(A)]).toEqual([undefined, 2, 1]);
    expect(without).toBeInstanceOf(LeanContext);
    expect(one.deleteValue(B)).toBe(one);
  });

  it('answers as the API root does for the same operations (keys from createContextKey included)', () => {
    const ops = (root: typeof ROOT_CONTEXT) => {
      const c = root.setValue(A, 1).setValue(B, 2).setValue(A, 3).deleteValue(B);
      return [c.getValue(A), c.getValue(B), c.getValue(createContextKey('a')), c.getValue(Symbol('a'))];
    };
    expect(ops(LEAN_ROOT_CONTEXT)).toEqual(ops(ROOT_CONTEXT));
    expect(ops(LEAN_ROOT_CONTEXT)).toEqual([3, undefined, 3, undefined]);
  });

  it('works with the API and core helpers: spans, remote parents, suppression', () => {
    const span = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED });
    const ctx = trace.setSpan(LEAN_ROOT_CONTEXT, span);
    expect(trace.getSpan(ctx)).toBe(span);
    expect(trace.getSpan(trace.deleteSpan(ctx))).toBeUndefined();
    expect(isTracingSuppressed(LEAN_ROOT_CONTEXT)).toBe(false);
    expect(isTracingSuppressed(suppressTracing(ctx))).toBe(true);

    const remote = new W3CTraceContextPropagator().extract(
      LEAN_ROOT_CONTEXT,
      { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` },
      { get: (c, k) => (c as Record<string, string>)[k], keys: (c) => Object.keys(c as object) },
    );
    const parent = trace.getSpanContext(remote);
    expect(parent && isSpanContextValid(parent)).toBe(true);
    expect(parent).toMatchObject({ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), isRemote: true });
    expect(remote).toBeInstanceOf(LeanContext);
  });

  it('has its methods on the prototype: a derived context owns no function (unlike the API root)', () => {
    const ownFunctions = (c: object) => Object.values(c).filter((v) => typeof v === 'function').length;
    expect(ownFunctions(ROOT_CONTEXT.setValue(A, 1))).toBe(3);
    expect(ownFunctions(LEAN_ROOT_CONTEXT.setValue(A, 1).setValue(B, 2).deleteValue(A))).toBe(0);
  });
});
