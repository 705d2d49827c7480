import { ROOT_CONTEXT, context, diag, metrics, propagation, trace, type Context, type TextMapPropagator } from '@opentelemetry/api';
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
class LeanRootContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    const active = super.active();
    return active === ROOT_CONTEXT ? LEAN_ROOT_CONTEXT : active;
  }
}

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
