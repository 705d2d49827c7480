import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Span,
  type SpanContext,
  type UpDownCounter,
} from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import { extractParent, incomingRequestAttributes } from '../http-server/utils.js';
import { DURATION_BUCKETS } from '../shared/buckets.js';
import { LEAN_ROOT_CONTEXT } from '../shared/context.js';
import { copySignature } from '../shared/signature.js';
import { VERSION } from '../shared/version.js';
import type { WsInstrumentationConfig } from './types.js';

/** Per-connection state, on the server-side WebSocket. */
const CONNECTION = Symbol('healthspan.ws.connection');

interface Connection {
  ctx: Context;
  handshake: SpanContext;
  route: string | undefined;
  attrs: Attributes;
  /** Message metric attributes by direction and type, built once per connection. */
  message: Record<'receive' | 'transmit', Record<'text' | 'binary', Attributes>>;
  opened: number;
  messageSpans: number;
  closed: boolean;
}

interface Handshake {
  span: Span;
  started: number;
  status?: number;
  done: boolean;
  /** The request's path without its query. */
  path: string;
  /** The server's `path` option: the route the app declared, when the request is for it. */
  declared: string | undefined;
  /** Set when the handshake ends: the declared route, else a template for an accepted upgrade. */
  route: string | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: ws calls emit/send with its own receiver; `this` is whatever ws passes.
type Fn = (this: any, ...args: unknown[]) => unknown;
type WsLike = { [CONNECTION]?: Connection; emit: Fn; send: Fn };

const isEngineIo = (req: IncomingMessage) => (req.url ?? '').includes('EIO=');

type WsClass = { prototype: Record<string, Fn> };
type WsExports = WsClass & { WebSocket?: WsClass; WebSocketServer?: WsClass; Server?: WsClass; default?: WsExports };

/** The WebSocket and WebSocketServer classes from ws' CommonJS exports or its ESM namespace. */
function classes(exports: WsExports | undefined): { server?: WsClass; socket?: WsClass } {
  if (!exports) return {};
  const root = exports.default ?? exports;
  const socket = exports.WebSocket ?? root.WebSocket ?? (typeof root === 'function' ? root : undefined);
  const server = exports.WebSocketServer ?? root.WebSocketServer ?? root.Server;
  return { server, socket };
}

/**
 * `ws` the OpenTelemetry way. Server: a SERVER span per upgrade handshake (`GET <route>`,
 * HTTP conventions, status 101 or the real refusal status, parent extracted from the request
 * headers); the app's `connection` and `message` handlers run in the handshake's context —
 * or, with message spans on, in a CONSUMER `receive <route>` span linked (not parented) to
 * it. Sent messages get PRODUCER `send <route>` spans likewise. Metrics: active connections,
 * connection duration (with the close code), messages and their sizes, errors.
 * Clients (`new WebSocket(url)`) open the handshake with node:http, whose instrumentation
 * makes the CLIENT span and injects `traceparent`, so both sides join one trace.
 */
export class WsInstrumentation extends InstrumentationBase<WsInstrumentationConfig> {
  declare private active: UpDownCounter;
  declare private duration: Histogram;
  declare private messages: Counter;
  declare private size: Histogram;
  declare private errors: Counter;
  declare private capped: Counter;

  constructor(config: WsInstrumentationConfig = {}) {
    super('healthspan-ws', VERSION, config);
  }

  protected override _updateMetricInstruments(): void {
    const m = this.meter;
    this.active = m.createUpDownCounter('healthspan.ws.connections.active', { unit: '{connection}', description: 'Open WebSocket connections.' });
    this.duration = m.createHistogram('healthspan.ws.connection.duration', {
      unit: 's',
      description: 'How long WebSocket connections stayed open.',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS, 30, 60, 300, 900, 3600] },
    });
    this.messages = m.createCounter('healthspan.ws.messages', { unit: '{message}', description: 'WebSocket messages received and sent.' });
    this.size = m.createHistogram('healthspan.ws.message.size', {
      unit: 'By',
      description: 'Size of WebSocket message payloads.',
      advice: { explicitBucketBoundaries: [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] },
    });
    this.errors = m.createCounter('healthspan.ws.errors', { unit: '{error}', description: 'Errors emitted by WebSocket connections.' });
    this.capped = m.createCounter('healthspan.ws.message.spans.capped', {
      unit: '{message}',
      description: 'Messages without a span because their connection reached the per-connection span cap.',
    });
  }

  protected init() {
    // Prototypes are shared by every way of loading ws (require, import, its ESM wrapper),
    // so patching them through the package's exports covers all of them.
    return new InstrumentationNodeModuleDefinition(
      'ws',
      ['>=7 <9'],
      (exports: WsExports) => {
        const { server, socket } = classes(exports);
        if (server && !isWrapped(server.prototype.handleUpgrade)) {
          this.wrapMethod(server.prototype, 'handleUpgrade', (original) => this.wrapHandleUpgrade(original));
        }
        if (socket && !isWrapped(socket.prototype.emit)) {
          this.wrapMethod(socket.prototype, 'emit', (original) => this.wrapEmit(original));
          this.wrapMethod(socket.prototype, 'send', (original) => this.wrapSend(original));
        }
        return exports;
      },
      (exports: WsExports) => {
        const { server, socket } = classes(exports);
        if (server && isWrapped(server.prototype.handleUpgrade)) this._unwrap(server.prototype, 'handleUpgrade');
        if (socket && isWrapped(socket.prototype.emit)) {
          this._unwrap(socket.prototype, 'emit');
          this._unwrap(socket.prototype, 'send');
        }
      },
    );
  }

  private wrapMethod<T extends object>(target: T, name: string, wrapper: (original: Fn) => Fn): void {
    // The wrapped method keeps its `length` (and name) for code that inspects it.
    this._wrap(target as Record<string, Fn>, name, ((original: Fn) => {
      const wrapped = wrapper(original);
      copySignature(wrapped, original);
      return wrapped;
    }) as never);
  }

  private wrapHandleUpgrade(original: Fn): Fn {
    const inst = this;
    return function handleUpgrade(this: unknown, ...args: unknown[]) {
      const [req, socket, , cb] = args as [IncomingMessage, Duplex, Buffer, Fn];
      const ignore = inst._config.ignoreUpgrade ?? isEngineIo;
      let skip = true;
      try {
        skip = !req?.headers || ignore(req);
      } catch (err) {
        inst._diag.error('ignoreUpgrade threw', err);
      }
      if (skip || typeof cb !== 'function') return original.apply(this, args);
      return inst.traceHandshake(this, original, args, req, socket, cb);
    };
  }

  private traceHandshake(server: unknown, original: Fn, args: unknown[], req: IncomingMessage, socket: Duplex, cb: Fn): unknown {
    const scheme = (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    const { attributes, path } = incomingRequestAttributes(req, scheme, 'GET');
    const option = (server as { options?: { path?: unknown } } | undefined)?.options?.path;
    const declared = typeof option === 'string' && option === path ? option : undefined;
    if (declared !== undefined) attributes['http.route'] = declared;
    const parent = extractParent(req.headers);
    // Named by the route once it is known (at the end); never by the raw path.
    const span = this.tracer.startSpan(declared === undefined ? 'GET' : `GET ${declared}`, { kind: SpanKind.SERVER, attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    const handshake: Handshake = { span, started: performance.now(), done: false, path, declared, route: declared };
    captureStatus(socket, handshake);
    socket.once('close', () => this.endHandshake(handshake));

    const inst = this;
    const wrappedCb = function (this: unknown, ws: WsLike, ...rest: unknown[]) {
      handshake.status ??= 101;
      inst.endHandshake(handshake);
      inst.openConnection(ws, ctx, span.spanContext(), handshake.route);
      return context.with(ctx, () => cb.call(this, ws, ...rest));
    };
    const callArgs = [...args];
    callArgs[3] = wrappedCb;
    return context.with(ctx, () => original.apply(server, callArgs));
  }

  private endHandshake(h: Handshake): void {
    if (h.done) return;
    h.done = true;
    const { span } = h;
    // A WebSocketServer without a `path` option accepts any path: an accepted upgrade gets a
    // template of it (capped, like a bare node:http server's); a refused one has no route.
    if (h.route === undefined && h.status === 101) {
      try {
        h.route = this._config.routeFallback?.(h.path);
      } catch {
        h.route = undefined;
      }
      if (h.route !== undefined) {
        span.setAttribute('http.route', h.route);
        span.updateName(`GET ${h.route}`);
      }
    }
    if (h.status !== undefined) {
      span.setAttribute('http.response.status_code', h.status);
      if (h.status >= 500) {
        span.setAttribute('error.type', String(h.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } else {
      // The socket closed before any answer: the client went away or the app destroyed it.
      span.setAttribute('error.type', 'closed');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'socket closed before the handshake completed' });
    }
    span.end();
  }

  private openConnection(ws: WsLike, ctx: Context, handshake: SpanContext, route: string | undefined): void {
    if (!ws || typeof ws !== 'object') return;
    const attrs: Attributes = route === undefined ? {} : { 'http.route': route };
    const of = (dir: string, type: string) => ({ ...attrs, 'network.io.direction': dir, 'healthspan.ws.message.type': type });
    const message = {
      receive: { text: of('receive', 'text'), binary: of('receive', 'binary') },
      transmit: { text: of('transmit', 'text'), binary: of('transmit', 'binary') },
    };
    ws[CONNECTION] = { ctx, handshake, route, attrs, message, opened: performance.now(), messageSpans: 0, closed: false };
    this.active.add(1, attrs);
  }

  private wrapEmit(original: Fn): Fn {
    const inst = this;
    return function emit(this: WsLike, ...args: unknown[]) {
      const conn = this[CONNECTION];
      if (conn === undefined) return original.apply(this, args);
      const event = args[0];
      if (event === 'message') return inst.onMessage(this, conn, original, args);
      if (event === 'close' && !conn.closed) {
        conn.closed = true;
        inst.active.add(-1, conn.attrs);
        inst.duration.record((performance.now() - conn.opened) / 1000, { ...conn.attrs, 'healthspan.ws.close.code': Number(args[1]) || 1005 });
      } else if (event === 'error') {
        const err = args[1] as { code?: unknown; name?: unknown } | undefined;
        const type = typeof err?.code === 'string' ? err.code : typeof err?.name === 'string' ? err.name : 'Error';
        inst.errors.add(1, { ...conn.attrs, 'error.type': type });
      }
      return context.with(conn.ctx, () => original.apply(this, args));
    };
  }

  private onMessage(ws: WsLike, conn: Connection, original: Fn, args: unknown[]): unknown {
    const data = args[1];
    const binary = args.length > 2 ? args[2] === true : typeof data !== 'string';
    const attrs = conn.message.receive[binary ? 'binary' : 'text'];
    const bytes = byteLength(data);
    this.messages.add(1, attrs);
    this.size.record(bytes, attrs);
    const span = this.messageSpan(conn, SpanKind.CONSUMER, 'receive', bytes);
    if (!span) return context.with(conn.ctx, () => original.apply(ws, args));
    try {
      return context.with(trace.setSpan(LEAN_ROOT_CONTEXT, span), () => original.apply(ws, args));
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  private wrapSend(original: Fn): Fn {
    const inst = this;
    return function send(this: WsLike, ...args: unknown[]) {
      const conn = this[CONNECTION];
      if (conn === undefined) return original.apply(this, args);
      const [data, options] = args;
      const binaryOption = typeof options === 'object' && options !== null ? (options as { binary?: boolean }).binary : undefined;
      const binary = binaryOption ?? typeof data !== 'string';
      const attrs = conn.message.transmit[binary ? 'binary' : 'text'];
      const bytes = byteLength(data);
      inst.messages.add(1, attrs);
      inst.size.record(bytes, attrs);
      const span = inst.messageSpan(conn, SpanKind.PRODUCER, 'send', bytes);
      if (!span) return original.apply(this, args);
      // The span lasts until ws hands the frame to the socket (the app's callback), or the
      // call returns when there is none.
      const cbIndex = args.findIndex((a) => typeof a === 'function');
      if (cbIndex !== -1) {
        const cb = args[cbIndex] as Fn;
        args[cbIndex] = function (this: unknown, err?: unknown) {
          if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error).message ?? err) });
          span.end();
          return cb.apply(this, [err]);
        };
      }
      try {
        return context.with(trace.setSpan(LEAN_ROOT_CONTEXT, span), () => original.apply(this, args));
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw err;
      } finally {
        if (cbIndex === -1) span.end();
      }
    };
  }

  /** A message span linked to the handshake, unless off or over the per-connection cap. */
  private messageSpan(conn: Connection, kind: SpanKind, verb: 'receive' | 'send', bytes: number): Span | undefined {
    if (!this._config.messageSpans) return undefined;
    if (conn.messageSpans >= (this._config.messageSpansPerConnection ?? 100)) {
      this.capped.add(1, conn.attrs);
      return undefined;
    }
    conn.messageSpans++;
    return this.tracer.startSpan(
      conn.route === undefined ? verb : `${verb} ${conn.route}`,
      {
        kind,
        links: [{ context: conn.handshake }],
        attributes: { ...conn.attrs, 'messaging.operation.type': verb === 'receive' ? 'receive' : 'send', 'messaging.message.body.size': bytes },
      },
      LEAN_ROOT_CONTEXT,
    );
  }
}

/** Records the status line the server writes on the upgrade socket (101, or a refusal). */
function captureStatus(socket: Duplex, h: Handshake): void {
  const s = socket as unknown as { write: Fn; end: Fn };
  const ownWrite = Object.hasOwn(s, 'write');
  const ownEnd = Object.hasOwn(s, 'end');
  const write = s.write;
  const end = s.end;
  const restore = () => {
    if (!ownWrite) delete (s as Partial<typeof s>).write;
    else s.write = write;
    if (!ownEnd) delete (s as Partial<typeof s>).end;
    else s.end = end;
  };
  const look = (chunk: unknown) => {
    if (h.status === undefined) {
      const text = typeof chunk === 'string' ? chunk.slice(0, 16) : Buffer.isBuffer(chunk) ? chunk.subarray(0, 16).toString('latin1') : '';
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (m) h.status = Number(m[1]);
    }
    // Only the first write matters: frames that follow go straight to the socket again.
    restore();
  };
  s.write = function (this: unknown, ...args: unknown[]) {
    look(args[0]);
    return write.apply(this, args);
  };
  s.end = function (this: unknown, ...args: unknown[]) {
    if (typeof args[0] !== 'function') look(args[0]);
    return end.apply(this, args);
  };
}

function byteLength(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (Buffer.isBuffer(data)) return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((n: number, d) => n + byteLength(d), 0);
  return 0;
}
