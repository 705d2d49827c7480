import type { Span, Tracer } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';

/** The class exported by `@opentelemetry/instrumentation-mysql2` (loaded on demand). */
export type MySQL2InstrumentationClass = new (config?: object) => Instrumentation;

type EndSpan = (err?: unknown, results?: unknown) => void;
type CallbackPatch = (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;

/** Upstream internals used here: the tracer it starts query spans with, and its callback patch factory. */
interface MySQL2Internals {
  tracer: Tracer;
  _patchCallbackQuery(endSpan: EndSpan): CallbackPatch;
}

/** What mysql2 puts on a server error (`Query.onResult(err)`, also what the promise API rejects with). */
interface MysqlError {
  errno?: unknown;
  sqlState?: unknown;
}

/**
 * `@opentelemetry/instrumentation-mysql2` ends a failed query's span with the message alone:
 * no `db.response.status_code` (conditionally required on failure), no `error.type`.
 * The returned class runs the same instrumentation and, before upstream ends the span,
 * reads the server's error number from the error object mysql2 hands to the query's
 * callback (the promise API goes through the same callback): `db.response.status_code` =
 * `error.type` = `"1062"` (ER_DUP_ENTRY), as the conventions ask for MySQL. Errors that are
 * not the server's (a lost connection: no errno) get neither; DbProcessor then sets
 * `error.type` from the exception or `_OTHER`.
 *
 * Upstream starts the span and creates the callback patch in one synchronous call, so the
 * span started last is the one the callback patch belongs to.
 */
export function withMysqlErrorCodes(Base: MySQL2InstrumentationClass): MySQL2InstrumentationClass {
  const base = Base.prototype as unknown as MySQL2Internals;
  if (typeof base._patchCallbackQuery !== 'function') return Base;
  const tracerGetter = Object.getOwnPropertyDescriptor(findOwner(Base.prototype, 'tracer'), 'tracer')?.get;
  if (tracerGetter === undefined) return Base;

  class MySQL2ErrorCodeInstrumentation extends Base {
    private lastSpan: Span | undefined;
    private wrapped: { tracer: Tracer; proxy: Tracer } | undefined;

    get tracer(): Tracer {
      const tracer = tracerGetter!.call(this) as Tracer;
      if (this.wrapped?.tracer === tracer) return this.wrapped.proxy;
      const self = this;
      const proxy: Tracer = {
        startSpan(...args: Parameters<Tracer['startSpan']>) {
          const span = tracer.startSpan(...args);
          self.lastSpan = span;
          return span;
        },
        startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
      };
      this.wrapped = { tracer, proxy };
      return proxy;
    }

    _patchCallbackQuery(endSpan: EndSpan): CallbackPatch {
      const span = this.lastSpan;
      this.lastSpan = undefined;
      const annotated: EndSpan = (err, results) => {
        if (err && span) {
          try {
            const errno = (err as MysqlError).errno;
            if (typeof errno === 'number' && Number.isInteger(errno)) {
              span.setAttribute('db.response.status_code', String(errno));
              span.setAttribute('error.type', String(errno));
            }
          } catch {
            // The app's error and the span end as upstream makes them.
          }
        }
        return endSpan(err, results);
      };
      return base._patchCallbackQuery.call(this, annotated);
    }
  }
  return MySQL2ErrorCodeInstrumentation;
}

function findOwner(proto: object | null, key: string): object {
  for (let p = proto; p; p = Object.getPrototypeOf(p)) if (Object.getOwnPropertyDescriptor(p, key)) return p;
  return {};
}
