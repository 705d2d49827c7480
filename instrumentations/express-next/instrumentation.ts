import type { Instrumentation, InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { isWrapped } from '@opentelemetry/instrumentation';
import { copySignature } from '../shared/signature.js';

type Handler = (this: unknown, ...args: unknown[]) => unknown;
interface Layer {
  handle?: Handler;
}
interface ExpressRequest {
  next?: unknown;
}
type Wrapped = Handler & { __original?: Handler };

/** The class exported by `@opentelemetry/instrumentation-express` (loaded on demand). */
export type ExpressInstrumentationClass = new (config?: object) => Instrumentation;

/** What `withExpressNext` relies on: upstream's per-layer patch and its module definitions. */
interface ExpressInternals {
  _applyPatch(layer: Layer, layerPath?: string): void;
  init(): InstrumentationModuleDefinition | InstrumentationModuleDefinition[];
}

/**
 * `@opentelemetry/instrumentation-express` hands every router-level layer an anonymous
 * wrapper instead of the router's `next` (to end the layer's span when it is called), so
 * inside a middleware `next !== req.next`, `next.name === ''` and `next.length === 0`.
 * Express itself relies on the identity: `res.format()` and `res.download()` call `req.next`.
 *
 * The returned class runs the same instrumentation (same spans, same `http.route`) and
 * puts a shim between upstream's wrapper and the app's handler: the handler receives a
 * `next` that *is* `req.next` while it runs (restored to the router's own when called), with
 * the router's `name` and `length`, and that calls upstream's wrapper. It also gives
 * upstream's wrappers of `use`, `route` and each layer's `handle` the original `name` and
 * `length` (the router skips handlers with more than three parameters by their `length`).
 */
export function withExpressNext(Base: ExpressInstrumentationClass): ExpressInstrumentationClass {
  const base = Base.prototype as unknown as ExpressInternals;
  if (typeof base._applyPatch !== 'function' || typeof base.init !== 'function') return Base;

  class ExpressNextInstrumentation extends Base {
    init(): InstrumentationModuleDefinition | InstrumentationModuleDefinition[] {
      const defs = base.init.call(this);
      for (const def of Array.isArray(defs) ? defs : [defs]) {
        const patch = def.patch;
        if (!patch) continue;
        def.patch = (exports, version) => {
          const patched = patch(exports, version);
          fixRouterSignatures(exports);
          return patched;
        };
      }
      return defs;
    }

    _applyPatch(layer: Layer, layerPath?: string): void {
      const handle = layer?.handle;
      // Error handlers (four parameters) are left alone upstream; a wrapped handle is patched already.
      if (typeof handle !== 'function' || handle.length === 4 || isWrapped(handle)) {
        base._applyPatch.call(this, layer, layerPath);
        return;
      }
      const shim = sameNextShim(handle);
      layer.handle = shim;
      base._applyPatch.call(this, layer, layerPath);
      const traced = layer.handle;
      if (typeof traced === 'function' && traced !== shim) copySignature(traced, handle);
      forwardProperties(typeof traced === 'function' ? traced : shim, handle);
    }
  }
  return ExpressNextInstrumentation;
}

/**
 * Wraps `handle` so that, when upstream replaced the router's `next` by its own wrapper, the
 * handler gets a `next` that is `req.next` and looks like the router's. Upstream patches
 * router-level layers only, where the router set `req.next` to the very `next` it passes.
 */
function sameNextShim(handle: Handler): Handler {
  const shim = function (this: unknown, req: unknown, res: unknown, next: unknown) {
    const r = req as ExpressRequest | undefined;
    const routerNext = r?.next;
    // biome-ignore lint/complexity/noArguments: named parameters give the wrapper the router's `length`; `arguments` forwards exactly what was passed.
    if (typeof next !== 'function' || typeof routerNext !== 'function' || next === routerNext || arguments.length !== 3) {
      // biome-ignore lint/complexity/noArguments: named parameters give the wrapper the router's `length`; `arguments` forwards exactly what was passed.
      return Reflect.apply(handle, this, arguments);
    }
    const traced = next as Handler;
    const sameNext = function next(this: unknown) {
      if (r!.next === sameNext) r!.next = routerNext;
      // biome-ignore lint/complexity/noArguments: named parameters give the wrapper the router's `length`; `arguments` forwards exactly what was passed.
      return Reflect.apply(traced, this, arguments);
    };
    copySignature(sameNext, routerNext);
    r!.next = sameNext;
    return Reflect.apply(handle, this, [req, res, sameNext]);
  };
  copySignature(shim, handle);
  return shim;
}

/**
 * Makes a mounted router's or sub-app's properties (`stack`, `params`, its methods…) readable
 * and writable through the wrapper, own ones enumerable as on the original (upstream
 * forwards them through non-enumerable getters, so `Object.keys(layer.handle)` came back empty).
 * The shim it wraps has no properties of its own, so upstream forwards nothing itself.
 */
function forwardProperties(target: Handler, source: Handler): void {
  const from = source as unknown as Record<string, unknown>;
  for (const key in source) {
    if (Object.hasOwn(target, key)) continue;
    Object.defineProperty(target, key, {
      enumerable: Object.prototype.propertyIsEnumerable.call(source, key),
      configurable: true,
      get: () => from[key],
      set: (value) => (from[key] = value),
    });
  }
}

/** `Router.prototype.route` / `.use` and `application.use` keep their name and length once wrapped. */
function fixRouterSignatures(exports: unknown): void {
  const m = exports as { Router?: { prototype?: Record<string, unknown> } & Record<string, unknown>; application?: Record<string, unknown> } | undefined;
  const routerProto = typeof m?.Router?.prototype?.route === 'function' ? m.Router.prototype : m?.Router;
  for (const [target, name] of [
    [routerProto, 'route'],
    [routerProto, 'use'],
    [m?.application, 'use'],
  ] as const) {
    const fn = target?.[name] as Wrapped | undefined;
    if (isWrapped(fn) && fn.__original) copySignature(fn, fn.__original);
  }
}
