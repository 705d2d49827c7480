import type { Instrumentation } from '@opentelemetry/instrumentation';
import { copySignature } from '../shared/signature.js';

type Use = (this: unknown, ...args: unknown[]) => unknown;

/** The class exported by `@opentelemetry/instrumentation-koa` (loaded on demand). */
export type KoaInstrumentationClass = new (config?: object) => Instrumentation;

/** Upstream's factory of the patched `Application.prototype.use`, given koa's own. */
interface KoaInternals {
  _getKoaUsePatch(original: Use): Use;
}

/**
 * `@opentelemetry/instrumentation-koa` patches `Application.prototype.use` and reads
 * `middleware.router` (then sets a symbol on it) before koa checks its argument, so
 * `app.use(null)` throws `Cannot read properties of null (reading 'router')` and
 * `app.use(0 | false | 'x')` `Cannot create property 'Symbol(koa-layer-patched)'…` instead of
 * koa's `TypeError: middleware must be a function!`.
 *
 * The returned class runs the same instrumentation; its patched `use` hands a function to
 * upstream's patch (spans, `http.route`) and anything else straight to koa's own `use`,
 * which throws its own error. Upstream still wraps and unwraps `use` itself.
 */
export function withKoaUseValidation(Base: KoaInstrumentationClass): KoaInstrumentationClass {
  const base = Base.prototype as unknown as KoaInternals;
  if (typeof base._getKoaUsePatch !== 'function') return Base;

  class KoaUseInstrumentation extends Base {
    _getKoaUsePatch(koaUse: Use): Use {
      const traced = base._getKoaUsePatch.call(this, koaUse);
      const use = function use(this: unknown, middleware: unknown) {
        // biome-ignore lint/complexity/noArguments: the named parameter gives the wrapper koa's `length`; `arguments` forwards exactly what was passed.
        return Reflect.apply(typeof middleware === 'function' ? traced : koaUse, this, arguments);
      };
      copySignature(use, koaUse);
      return use;
    }
  }
  return KoaUseInstrumentation;
}
