import type { Context } from '@opentelemetry/api';

/**
 * A Context with its methods on the prototype. The API's own (`ROOT_CONTEXT` and every context
 * derived from it) gives each instance three new closures (getValue, setValue, deleteValue).
 * A context per request is kept alive for a while by what the request leaves behind (the
 * socket's keep-alive timer captures it, as do the async resources made in it), and V8's
 * young-generation collector keeps such closures, and all they reach (the span, its
 * attributes, ids), alive much longer than plain objects. Under load that makes the young
 * generation grow to its maximum, the largest part of the RSS we added (docs/architecture.md).
 *
 * Same semantics as the API's: immutable, setValue/deleteValue return a new context, keys
 * are compared by identity. A context holds a handful of keys (span, RPC metadata,
 * suppression, baggage), so they are kept in two small arrays: copying those on setValue is
 * cheaper than copying a Map.
 */
export class LeanContext implements Context {
  private readonly keys: readonly symbol[];
  private readonly values: readonly unknown[];

  constructor(keys: readonly symbol[] = [], values: readonly unknown[] = []) {
    this.keys = keys;
    this.values = values;
  }

  getValue(key: symbol): unknown {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.values[i];
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    const i = this.keys.indexOf(key);
    const values = this.values.slice();
    if (i !== -1) {
      values[i] = value;
      return new LeanContext(this.keys, values);
    }
    values.push(value);
    return new LeanContext([...this.keys, key], values);
  }

  deleteValue(key: symbol): Context {
    const i = this.keys.indexOf(key);
    if (i === -1) return this;
    return new LeanContext(this.keys.toSpliced(i, 1), this.values.toSpliced(i, 1));
  }
}

/** The empty context our instrumentations and context manager start from instead of `ROOT_CONTEXT`. */
export const LEAN_ROOT_CONTEXT: Context = new LeanContext();
