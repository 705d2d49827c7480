import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, context, createNoopMeter, trace, type Attributes, type Context, type Histogram, type Span } from '@opentelemetry/api';
import { RPCType, setRPCMetadata, suppressTracing, type RPCMetadata } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import { HTTP_DURATION_BUCKETS } from '../shared/buckets.js';
import { VERSION } from '../shared/version.js';
import type { HttpServerInstrumentationConfig } from './types.js';
import { extractParent, incomingRequestAttributes, normalizeMethod, spanName } from './utils.js';

/** The request's context, on `req` and `res`: listeners added to them run in it. */
const CONTEXT = Symbol('healthspan.http.server.context');
const STATE = Symbol('healthspan.http.server.state');

interface RequestState {
  span: Span;
  /**
   * performance.now() at the start, only for a span that records no duration of its own
   * (non-recording) while the duration metric is on; otherwise NaN (the metric takes the
   * span's duration: two clock reads fewer per request).
   */
  start: number;
  method: string;
  scheme: string;
  path: string;
  protocol: string;
  rpc: RPCMetadata;
  done: boolean;
  /** Ends the span; kept here so the shared close listener needs no per-request closure. */
  owner: HttpServerInstrumentation;
}

type Carrier = { [CONTEXT]?: Context; [STATE]?: RequestState };
type Emit = Server['emit'];
type On = (this: unknown, event: string | symbol, listener: (...args: unknown[]) => unknown) => unknown;

/**
 * SERVER spans and `http.server.request.duration` for `node:http` / `node:https` servers,
 * built for a small per-request cost: no URL object, no per-request method patching (the
 * listener binding lives on the prototypes and reads one symbol), propagation extraction
 * only when a propagation header is present, and the route resolved once at the end —
 * after routers (express, koa, fastify) had the chance to set it on the RPC metadata.
 * Outgoing requests stay with the official HttpInstrumentation.
 */
export class HttpServerInstrumentation extends InstrumentationBase<HttpServerInstrumentationConfig> {
  // `declare`: set by _updateMetricInstruments, which the base constructor calls; a class field
  // would be defined again (undefined) after super() returns.
  declare private duration: Histogram;
  /** False while the meter is the API's no-op one: the duration metric is then not computed. */
  declare private recordsDuration: boolean;

  constructor(config: HttpServerInstrumentationConfig = {}) {
    super('healthspan-http-server', VERSION, config);
  }

  protected override _updateMetricInstruments(): void {
    this.duration = this.meter.createHistogram('http.server.request.duration', {
      unit: 's',
      description: 'Duration of HTTP server requests.',
      advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS },
    });
    this.recordsDuration = this.meter !== createNoopMeter();
  }

  protected init() {
    return (['http', 'https'] as const).map(
      (name) =>
        new InstrumentationNodeModuleDefinition(
          name,
          ['*'],
          (exports) => this.patch(exports, name),
          (exports) => this.unpatch(exports),
        ),
    );
  }

  private patch(exports: typeof import('node:http'), scheme: 'http' | 'https') {
    if (!exports?.Server) return exports;
    const proto = exports.Server.prototype;
    if (isWrapped(proto.emit)) this._unwrap(proto, 'emit');
    this._wrap(proto, 'emit', (original: Emit) => this.wrapEmit(original, scheme) as Emit);
    // IncomingMessage/ServerResponse come from node:http (https reuses them).
    for (const cls of [exports.IncomingMessage, exports.ServerResponse]) {
      if (!cls?.prototype) continue;
      for (const method of ['on', 'addListener', 'prependListener'] as const) {
        if (isWrapped(cls.prototype[method])) continue;
        this._wrap(cls.prototype, method, bindListeners as never);
      }
    }
    return exports;
  }

  private unpatch(exports: typeof import('node:http')) {
    if (!exports?.Server) return;
    this._unwrap(exports.Server.prototype, 'emit');
    for (const cls of [exports.IncomingMessage, exports.ServerResponse]) {
      if (!cls?.prototype) continue;
      for (const method of ['on', 'addListener', 'prependListener'] as const) {
        if (isWrapped(cls.prototype[method])) this._unwrap(cls.prototype, method);
      }
    }
  }

  private wrapEmit(original: Emit, scheme: string) {
    const instrumentation = this;
    return function emit(this: Server, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'request') return original.apply(this, [event, ...args] as Parameters<Emit>);
      return instrumentation.traceRequest(this, original, args as [IncomingMessage, ServerResponse], scheme);
    };
  }

  private traceRequest(server: Server, original: Emit, args: [IncomingMessage, ServerResponse], scheme: string): boolean {
    const [req, res] = args;
    const emit = () => (original as (this: Server, event: string, ...a: unknown[]) => boolean).call(server, 'request', req, res);
    const config = this._config;
    let ignored = false;
    try {
      ignored = config.ignoreIncomingRequest?.(req) === true;
    } catch (err) {
      this._diag.error('ignoreIncomingRequest threw', err);
    }
    if (ignored) return context.with(suppressTracing(context.active()), emit);

    const headers = req.headers;
    const method = normalizeMethod(req.method);
    const { attributes, path } = incomingRequestAttributes(req, scheme, method);
    for (const name of config.requestHeaders ?? []) {
      const v = headers[name];
      if (v !== undefined) attributes[`http.request.header.${name}`] = Array.isArray(v) ? v : [v];
    }

    const parent = extractParent(headers);
    const span = this.tracer.startSpan(spanName(method), { kind: SpanKind.SERVER, attributes }, parent);
    const rpc: RPCMetadata = { type: RPCType.HTTP, span };
    const ctx = setRPCMetadata(trace.setSpan(parent, span), rpc);
    const start = this.recordsDuration && !span.isRecording() ? performance.now() : Number.NaN;
    const state: RequestState = { span, start, method, scheme, path, protocol: req.httpVersion, rpc, done: false, owner: this };
    (req as Carrier)[CONTEXT] = ctx;
    (res as Carrier)[CONTEXT] = ctx;
    (res as Carrier)[STATE] = state;
    // 'close' follows 'finish', and also comes when the client goes away first.
    originalOn(res).call(res, 'close', onResponseClose);
    return context.with(ctx, () => {
      try {
        return emit();
      } catch (err) {
        this.finish(res, state, err as Error);
        throw err;
      }
    });
  }

  /**
   * The route of a request no router named: never for a 404 (a path the server does not know
   * is not a route, and a scanner's junk must not take the templates real routes need).
   */
  fallbackRoute(path: string, status: number, req?: IncomingMessage): string | undefined {
    if (status === 404 || this._config.routeFallback === undefined) return undefined;
    try {
      return this._config.routeFallback(path, status, req);
    } catch (err) {
      this._diag.error('routeFallback threw', err);
      return undefined;
    }
  }

  /** Ends the span and records the duration; runs once per request. */
  finish(res: ServerResponse, state: RequestState, error?: Error): void {
    if (state.done) return;
    state.done = true;
    const { span } = state;
    const status = res.statusCode;
    const route = state.rpc.route ?? this.fallbackRoute(state.path, status, res.req);
    span.setAttribute('http.response.status_code', status);
    if (route !== undefined) {
      span.setAttribute('http.route', route);
      span.updateName(spanName(state.method, route));
    }
    for (const name of this._config.responseHeaders ?? []) {
      const v = res.getHeader(name);
      if (v !== undefined) span.setAttribute(`http.response.header.${name}`, Array.isArray(v) ? v : [String(v)]);
    }
    let errorType: string | undefined;
    if (error) {
      errorType = error.name || 'Error';
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else if (status >= 500) {
      errorType = String(status);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (errorType !== undefined) span.setAttribute('error.type', errorType);
    span.end();
    if (!this.recordsDuration) return;

    // The SDK's span measured the same interval (performance.now() at start and end).
    const spanDuration = (span as { duration?: [number, number] }).duration;
    const seconds = Number.isNaN(state.start) ? (spanDuration ? spanDuration[0] + spanDuration[1] / 1e9 : undefined) : (performance.now() - state.start) / 1000;
    if (seconds === undefined) return;
    const metricAttributes: Attributes = {
      'http.request.method': state.method,
      'url.scheme': state.scheme,
      'network.protocol.version': state.protocol,
      'http.response.status_code': status,
    };
    if (route !== undefined) metricAttributes['http.route'] = route;
    if (errorType !== undefined) metricAttributes['error.type'] = errorType;
    this.duration.record(seconds, metricAttributes);
  }
}

function onResponseClose(this: ServerResponse): void {
  const state = (this as Carrier)[STATE];
  state?.owner.finish(this, state);
}

/** The `on` our prototype wrapper delegates to, so our own listener is not bound. */
function originalOn(res: ServerResponse): On {
  const on = res.on as On & { __original?: On };
  return on.__original ?? on;
}

/**
 * Prototype wrapper for on/addListener/prependListener: a listener added to a traced
 * request or response runs in that request's context (events such as 'data', 'end' and
 * 'finish' are emitted from the socket, outside it). `listener` on the bound function keeps
 * removeListener(original) and listeners() working.
 */
function bindListeners(original: On): On {
  return function (this: unknown, event, listener) {
    const ctx = (this as Carrier)[CONTEXT];
    if (ctx === undefined || typeof listener !== 'function') return original.call(this, event, listener);
    const bound = function (this: unknown, ...args: unknown[]) {
      return context.with(ctx, listener, this, ...args);
    } as typeof listener & { listener?: unknown };
    bound.listener = listener;
    return original.call(this, event, bound);
  };
}
