import { ROOT_CONTEXT, createContextKey, isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { EventEmitter } from 'node:events';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { LEAN_ROOT_CONTEXT, LeanContext } from '../../instrumentations/shared/context.js';
import { LeanRootContextManager } from '../../src/sdk/globals.js';

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

describe('LeanRootContextManager.bind', () => {
  const K = createContextKey('bound');
  const ours = new LeanRootContextManager().enable();
  const upstream = new AsyncLocalStorageContextManager().enable();

  /** What a function bound by `manager` sees and gives back, called as `call` calls it. */
  function observe(manager: AsyncLocalStorageContextManager, target: (...a: unknown[]) => unknown, call: (f: (...a: unknown[]) => unknown) => unknown) {
    const seen: unknown[] = [];
    const probe = function (this: unknown, ...args: unknown[]) {
      seen.push({ ctx: manager.active().getValue(K), self: this, args });
      return target.apply(this, args);
    };
    Object.defineProperty(probe, 'length', { value: target.length });
    const bound = manager.bind(ROOT_CONTEXT.setValue(K, 'ctx'), probe);
    const result = call(bound);
    return { result, seen, length: bound.length, outside: manager.active().getValue(K) };
  }

  const targets: [string, (...a: unknown[]) => unknown][] = [
    ['no parameter', () => 'r0'],
    ['one', (a) => `r1${a}`],
    ['two', (a, b) => `r2${a}${b}`],
    ['three', (a, b, c) => `r3${a}${b}${c}`],
    ['four (upstream wrapper)', (a, b, c, d) => `r4${a}${b}${c}${d}`],
  ];
  const self = { name: 'receiver' };
  const calls: [string, (f: (...a: unknown[]) => unknown) => unknown][] = [
    ['with no argument', (f) => f()],
    ['with fewer arguments than declared', (f) => f(1)],
    ['with more', (f) => f(1, 2, 3, 4, 5)],
    ['as a method', (f) => f.call(self, 'x', 'y')],
  ];

  for (const [what, target] of targets)
    for (const [how, call] of calls)
      it(`runs a function of ${what} in the bound context, ${how}, as upstream's bind does`, () => {
        const got = observe(ours, target, call);
        expect(got).toEqual(observe(upstream, target, call));
        expect(got.length).toBe(target.length);
        expect(got.seen).toHaveLength(1);
        expect((got.seen[0] as { ctx: unknown }).ctx).toBe('ctx');
        expect(got.outside).toBeUndefined();
      });

  it('passes a throw through, and leaves event emitters and non-functions to upstream', () => {
    const bound = ours.bind(ROOT_CONTEXT, () => {
      throw new Error('from target');
    });
    expect(() => bound()).toThrow('from target');
    const ee = new EventEmitter();
    expect(ours.bind(ROOT_CONTEXT, ee)).toBe(ee);
    const value = { not: 'a function' };
    expect(ours.bind(ROOT_CONTEXT, value)).toBe(value);
  });
});
