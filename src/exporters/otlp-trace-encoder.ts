// OTLP/protobuf encoding of an ExportTraceServiceRequest, straight from the SDK's spans.
//
// Why not the transformer's own serializer: it walks every span twice (a size-estimating
// pass, then the write), allocates a Uint8Array per trace and span id, and reads every
// string twice. Serialising is the largest single cost healthspan adds to a request (about
// a third of it on a hello-world endpoint), so this encoder does one pass into a buffer
// sized from the previous export (protobuf-writer.ts). Its output is byte for byte what
// the transformer's serializer writes (same fields, same order, minimal varints):
// test/unit/otlp-trace-encoder.test.ts checks that on spans with every kind of value.
//
// A span can also be encoded as it ends (encodeSpan, called by ExportSpanProcessor), and the
// request made later from those bytes. The queue then holds a few hundred bytes per span,
// outside the JS heap, instead of the span objects: a span held in the queue for the tens of
// milliseconds a batch takes to fill outlives several young-generation collections, and that
// survival is what makes V8 grow the young generation (the largest part of the added RSS).
import type { Attributes, AttributeValue, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { FIXED32, FIXED64, LEN, MAX_CACHED_KEYS, VARINT, Writer } from './protobuf-writer.js';

// Span.flags bits (trace.proto, SpanFlags).
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;
// Bounds of the first allocation of a request (it grows by doubling past it).
const MIN_INITIAL_BYTES = 4 * 1024;
const MAX_INITIAL_BYTES = 4 * 1024 * 1024;

// The next request's buffer is sized from the last one, so a steady stream of batches
// writes each into one allocation and hands it over without a copy.
let nextSize = 64 * 1024;

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** A span encoded as it ended: its ScopeSpans.spans field (tag, length, Span), in a shared chunk. */
export class EncodedSpan {
  constructor(
    readonly resource: Resource,
    readonly instrumentationScope: Scope,
    readonly chunk: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}
}

/** What a request is made of: spans, or spans already encoded by {@link encodeSpan}. */
export type TraceItem = ReadableSpan | EncodedSpan;

// Encoded spans are copied into chunks of this size (a larger span gets a chunk of its own); a
// chunk is freed once every span in it has been exported or dropped.
const CHUNK_BYTES = 64 * 1024;
// The scratch writer is dropped after a span larger than this, not kept at that size.
const MAX_SCRATCH_BYTES = 1024 * 1024;
let scratch: Writer | undefined;
let chunk: Buffer | undefined;
let chunkPos = 0;

/** Encodes one ended span now, for a request made later by {@link encodeTraceRequest}. */
export function encodeSpan(span: ReadableSpan): EncodedSpan {
  const w = (scratch ??= new Writer(4096));
  w.pos = 0;
  writeSpan(w, span);
  const n = w.pos;
  if (chunk === undefined || chunkPos + n > chunk.length) {
    chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, n));
    chunkPos = 0;
  }
  w.buf.copy(chunk, chunkPos, 0, n);
  const encoded = new EncodedSpan(span.resource, span.instrumentationScope, chunk, chunkPos, chunkPos + n);
  chunkPos += n;
  if (w.buf.length > MAX_SCRATCH_BYTES) scratch = undefined;
  return encoded;
}

/**
 * Encodes spans as an OTLP ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1),
 * grouped by resource and instrumentation scope in the order they first appear. Spans
 * encoded by {@link encodeSpan} are copied as they are.
 */
export function encodeTraceRequest(spans: readonly TraceItem[]): Uint8Array {
  const w = new Writer(nextSize);
  for (const [resource, scopes] of groupSpans(spans)) {
    w.tag(1, LEN);
    const rs = w.begin(3);
    w.tag(1, LEN);
    const r = w.begin(2);
    writeAttributes(w, resource.attributes, 1);
    w.tag(2, VARINT);
    w.varint(0);
    w.end(r);
    for (const list of scopes.values()) writeScopeSpans(w, list);
    if (resource.schemaUrl) {
      w.tag(3, LEN);
      w.string(resource.schemaUrl);
    }
    w.end(rs);
  }
  nextSize = Math.min(MAX_INITIAL_BYTES, Math.max(MIN_INITIAL_BYTES, w.pos + (w.pos >>> 3)));
  return w.buf.subarray(0, w.pos);
}

function groupSpans(spans: readonly TraceItem[]): Map<Resource, Map<Scope, TraceItem[]>> {
  const resources = new Map<Resource, Map<Scope, TraceItem[]>>();
  let lastResource: Resource | undefined;
  let lastScopes: Map<Scope, TraceItem[]> | undefined;
  for (const span of spans) {
    if (span.resource !== lastResource) {
      lastResource = span.resource;
      lastScopes = resources.get(lastResource);
      if (!lastScopes) resources.set(lastResource, (lastScopes = new Map()));
    }
    const list = lastScopes!.get(span.instrumentationScope);
    if (list) list.push(span);
    else lastScopes!.set(span.instrumentationScope, [span]);
  }
  return resources;
}

function writeScopeSpans(w: Writer, spans: TraceItem[]): void {
  const scope = spans[0]!.instrumentationScope;
  w.tag(2, LEN);
  const ss = w.begin(3);
  w.tag(1, LEN);
  const sc = w.begin(1);
  w.tag(1, LEN);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, LEN);
    w.string(scope.version);
  }
  const scopeWithAttributes = scope as Scope & { attributes?: Attributes; droppedAttributesCount?: number };
  if (scopeWithAttributes.attributes) writeAttributes(w, scopeWithAttributes.attributes, 3);
  if (scopeWithAttributes.droppedAttributesCount) {
    w.tag(4, VARINT);
    w.varint(scopeWithAttributes.droppedAttributesCount);
  }
  w.end(sc);
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    if (span instanceof EncodedSpan) {
      const n = span.end - span.start;
      w.ensure(n);
      span.chunk.copy(w.buf, w.pos, span.start, span.end);
      w.pos += n;
    } else {
      writeSpan(w, span);
    }
  }
  if (scope.schemaUrl) {
    w.tag(3, LEN);
    w.string(scope.schemaUrl);
  }
  w.end(ss);
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote ? FLAGS_IS_REMOTE : 0);
}

/** Fields 1–3 of a Span and of a Span.Link alike: trace id, span id, trace state. */
function writeContext(w: Writer, ctx: SpanContext): void {
  w.tag(1, LEN);
  w.hexBytes(ctx.traceId);
  w.tag(2, LEN);
  w.hexBytes(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, LEN);
    w.string(traceState);
  }
}

function writeSpan(w: Writer, span: ReadableSpan): void {
  w.tag(2, LEN);
  const s = w.begin(2);
  const ctx = span.spanContext();
  writeContext(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, LEN);
    w.hexBytes(parent.spanId);
  }
  w.tag(5, LEN);
  w.string(span.name);
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.tag(6, VARINT);
    w.varint(kind);
  }
  w.tag(7, FIXED64);
  w.time(span.startTime);
  w.tag(8, FIXED64);
  w.time(span.endTime);
  if (span.attributes) writeAttributes(w, span.attributes, 9);
  w.tag(10, VARINT);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) writeEvent(w, event);
  w.tag(12, VARINT);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) writeLink(w, link);
  w.tag(14, VARINT);
  w.varint(span.droppedLinksCount);
  w.tag(15, LEN);
  const st = w.begin(1);
  if (span.status.message) {
    w.tag(2, LEN);
    w.string(span.status.message);
  }
  w.tag(3, VARINT);
  w.varint(span.status.code);
  w.end(st);
  w.tag2(16, FIXED32);
  w.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  w.end(s);
}

function writeEvent(w: Writer, event: TimedEvent): void {
  w.tag(11, LEN);
  const e = w.begin(1);
  w.tag(1, FIXED64);
  w.time(event.time);
  w.tag(2, LEN);
  w.string(event.name);
  if (event.attributes) writeAttributes(w, event.attributes, 3);
  w.tag(4, VARINT);
  w.varint(event.droppedAttributesCount || 0);
  w.end(e);
}

function writeLink(w: Writer, link: Link & { droppedAttributesCount?: number }): void {
  w.tag(13, LEN);
  const l = w.begin(1);
  const ctx: SpanContext = link.context;
  writeContext(w, ctx);
  if (link.attributes) writeAttributes(w, link.attributes, 4);
  w.tag(5, VARINT);
  w.varint(link.droppedAttributesCount || 0);
  w.tag(6, FIXED32);
  w.fixed32(spanFlags(ctx.traceFlags, ctx.isRemote));
  w.end(l);
}

/**
 * The last primitive value encoded for each attribute key, with its KeyValue body (key and
 * value fields): most attributes of a service repeat from span to span (method, scheme,
 * server address, status code, db system, query summary...), and copying ~30 bytes is about a
 * third of encoding them anew. Bounded like the key cache; a value that changes only costs a
 * copy of its body into the slot, no allocation.
 */
interface CachedKeyValue {
  value: string | number | boolean;
  /** Body bytes, `length` of them used (0: nothing cached yet). */
  body: Buffer;
  length: number;
}
const KEY_VALUES = new Map<string, CachedKeyValue>();
/** Bodies longer than this are not cached (and so always below 128: a one-byte length). */
const MAX_CACHED_BODY = 96;

/**
 * True when a for-in over a plain object can only see its own keys: Object.prototype holds
 * no enumerable property (nothing added one). Checked per call, by a for-in over an empty object.
 */
function noInheritedEnumerables(): boolean {
  for (const _ in EMPTY) return false;
  return true;
}
const EMPTY = {};

function writeAttributes(w: Writer, attributes: Attributes, field: number): void {
  const proto = Object.getPrototypeOf(attributes);
  const ownOnly = (proto === Object.prototype || proto === null) && noInheritedEnumerables();
  for (const key in attributes) {
    if (!ownOnly && !Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') {
      w.tag(field, LEN);
      const kv = w.begin(1);
      w.key(key);
      w.tag(2, LEN);
      const v = w.begin(1);
      writeAnyValue(w, value);
      w.end(v);
      w.end(kv);
      continue;
    }
    const primitive = value as string | number | boolean;
    let cached = KEY_VALUES.get(key);
    w.tag(field, LEN);
    if (cached !== undefined && cached.value === primitive && cached.length > 0) {
      w.shortBytes(cached.body, cached.length);
      continue;
    }
    const kv = w.begin(1);
    const start = w.pos;
    w.key(key);
    w.tag(2, LEN);
    const v = w.begin(1);
    writeAnyValue(w, primitive);
    w.end(v);
    const n = w.pos - start;
    w.end(kv);
    if (n > MAX_CACHED_BODY) continue;
    if (cached === undefined) {
      if (KEY_VALUES.size >= MAX_CACHED_KEYS) continue;
      cached = { value: primitive, body: Buffer.allocUnsafeSlow(MAX_CACHED_BODY), length: 0 };
      KEY_VALUES.set(key, cached);
    }
    // The body ends where the writer is now (its one-byte length did not move it).
    w.buf.copy(cached.body, 0, w.pos - n, w.pos);
    cached.value = primitive;
    cached.length = n;
  }
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

function writeAnyValue(w: Writer, value: AttributeValue | Attributes | Uint8Array | undefined | null): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, LEN);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, VARINT);
        w.varint(value);
      } else {
        w.tag(4, FIXED64);
        w.double(value);
      }
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null) return;
  if (value instanceof Uint8Array) {
    w.tag(7, LEN);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, LEN);
    const arr = w.begin(1);
    for (const item of value) {
      w.tag(1, LEN);
      const it = w.begin(1);
      writeAnyValue(w, item);
      w.end(it);
    }
    w.end(arr);
  } else {
    w.tag(6, LEN);
    const list = w.begin(1);
    writeAttributes(w, value as Attributes, 1);
    w.end(list);
  }
}
