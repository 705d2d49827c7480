import { ROOT_CONTEXT, context, diag, metrics, propagation, trace, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator, setGlobalErrorHandler } from '@opentelemetry/core';
import { LEAN_ROOT_CONTEXT } from '../../instrumentations/shared/context.js';
import type { SdkConfig } from '../config/types.js';
import { createDiagLogger, DIAG_LEVEL, type Logger } from '../log.js';

/**
 * Outside any context, `context.active()` is our closure-free empty context (see LeanContext),
 * so that the contexts instrumentations derive from it (a pg query, a fetch, a timer outside a
 * request) are closure-free too. It holds no value, like `ROOT_CONTEXT`.
 */
export class LeanRootContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    const active = super.active();
    return active === ROOT_CONTEXT ? LEAN_ROOT_CONTEXT : active;
  }

  /**
   * A function bound to a context, as upstream's bind makes it (the same `this`, arguments,
   * result and `length`), without its two costs: a `defineProperty` of `length` on every bound
   * function (instrumentation-pg binds the callback of every query), and a closure per call.
   * A wrapper of up to three declared parameters has its `length` by declaration; others get
   * upstream's.
   */
  override bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function' || target instanceof EventEmitter || target.length >= BOUND.length) return super.bind(ctx, target);
    return BOUND[target.length]!(this, ctx, target as unknown as AnyFunction) as T;
  }
}

type AnyFunction = (...args: unknown[]) => unknown;
type Manager = AsyncLocalStorageContextManager;
// Each runs `Reflect.apply(target, this, arguments)` in `ctx`: the target gets the caller's
// `this` (undefined stays undefined, where `with(ctx, target)` would give null) and exactly the
// arguments it was given (`arguments`, not rest parameters: a rest parameter after declared ones
// would pass undefined for the missing ones).
/* biome-ignore-start lint/complexity/noArguments: see above */
const BOUND: ((m: Manager, ctx: Context, target: AnyFunction) => AnyFunction)[] = [
  (m, ctx, target) =>
    function (this: unknown) {
      return m.with(ctx, Reflect.apply, undefined, target, this, arguments);
    },
  (m, ctx, target) =>
    function (this: unknown, _a: unknown) {
      return m.with(ctx, Reflect.apply, undefined, target, this, arguments);
    },
  (m, ctx, target) =>
    function (this: unknown, _a: unknown, _b: unknown) {
      return m.with(ctx, Reflect.apply, undefined, target, this, arguments);
    },
  (m, ctx, target) =>
    function (this: unknown, _a: unknown, _b: unknown, _c: unknown) {
      return m.with(ctx, Reflect.apply, undefined, target, this, arguments);
    },
];
/* biome-ignore-end lint/complexity/noArguments: see above */

/** Routes OpenTelemetry's diagnostics and errors to our logger; sets the context manager and propagator. */
export function installGlobals(config: SdkConfig, log: Logger): void {
  diag.setLogger(createDiagLogger(log), { logLevel: DIAG_LEVEL[config.logLevel], suppressOverrideMessage: true });
  setGlobalErrorHandler((err) => log.error(`[otel] ${err instanceof Error ? err.message : String(err)}`, 'otel-global-error'));

  context.setGlobalContextManager(new LeanRootContextManager().enable());
  const propagators: TextMapPropagator[] = [];
  if (config.propagators.includes('tracecontext')) propagators.push(new W3CTraceContextPropagator());
  if (config.propagators.includes('baggage')) propagators.push(new W3CBaggagePropagator());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators }));
}

/** Takes back every global the SDK registered (tracer and meter providers, propagator, context manager). */
export function disableGlobals(): void {
  for (const api of [trace, metrics, propagation, context]) {
    try {
      api.disable();
    } catch {
      // nothing registered yet
    }
  }
}
