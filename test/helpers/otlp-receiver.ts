// A local OTLP receiver (HTTP json/protobuf, or gRPC) for end-to-end tests and the benchmark sink.
// Erasable TypeScript only: bench/*.mjs imports this file directly through Node's type stripping.
import http from 'node:http';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import grpc from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';

// AnyValue flattened: string | number | boolean | null | array | object | Uint8Array; int64 as number.
type Attrs = Record<string, unknown>;
export interface ReceivedScope { name: string; version?: string }
export interface ReceivedSpan {
  traceId: string; spanId: string; // 32 / 16 lowercase hex
  parentSpanId?: string; // undefined for roots (empty or all-zero bytes)
  traceState?: string; flags?: number;
  name: string;
  kind: number; // OTLP enum: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER (SDK SpanKind + 1)
  attributes: Attrs;
  status: { code: number; message?: string }; // 0 unset, 1 ok, 2 error
  startTimeUnixNano: bigint; endTimeUnixNano: bigint;
  events: { name: string; attributes: Attrs }[];
  links: { traceId: string; spanId: string; attributes: Attrs }[];
  resource: Attrs; scope: ReceivedScope;
}
export type MetricType = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
export interface ReceivedPoint {
  attributes: Attrs;
  value?: number; // sum and gauge
  count?: number; sum?: number; min?: number; max?: number; // the histogram kinds and summary
  bucketCounts?: number[]; explicitBounds?: number[]; // histogram
  quantiles?: { quantile: number; value: number }[]; // summary
}
export interface ReceivedMetric {
  name: string; unit?: string; description?: string; type: MetricType;
  temporality?: number; // OTLP enum: 1 delta, 2 cumulative; undefined for gauge and summary
  isMonotonic?: boolean; // sum only
  resource: Attrs; scope: ReceivedScope; points: ReceivedPoint[];
}
export interface ReceivedLog {
  body: unknown; severityText?: string; severityNumber?: number; eventName?: string; attributes: Attrs;
  traceId?: string; spanId?: string; resource: Attrs; scope: ReceivedScope;
}
export type ReceivedProtocol = 'http/json' | 'http/protobuf' | 'grpc';
export interface ReceivedRequest {
  path: string; contentType: string; headers: Record<string, string | string[] | undefined>; protocol: ReceivedProtocol;
}
// http503 answers 503 over HTTP and UNAVAILABLE over gRPC; reset drops the connection unanswered.
export type FailureMode = 'none' | 'http503' | 'reset';
export interface OtlpReceiver {
  url: string; // base, e.g. http://127.0.0.1:43123 (append /v1/traces for the HTTP exporters)
  port: number;
  protocol: 'http' | 'grpc';
  spans: ReceivedSpan[]; metrics: ReceivedMetric[]; logs: ReceivedLog[];
  requests: ReceivedRequest[]; // every export attempt on a known path, failed ones included
  errors: string[]; // bodies that failed to decode (answered 400 / INVALID_ARGUMENT) or were refused
  spanCount: number; // total spans received; the only thing kept in countOnly mode
  waitForSpans(predicate: ((spans: ReceivedSpan[]) => boolean) | number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  waitForMetric(name: string, timeoutMs?: number): Promise<ReceivedMetric>; // the latest one with that name
  waitForLogs(predicate: ((logs: ReceivedLog[]) => boolean) | number, timeoutMs?: number): Promise<ReceivedLog[]>;
  setFailure(mode: FailureMode): void;
  clear(): void;
  close(): Promise<void>;
}
export interface OtlpReceiverOptions { protocol?: 'http' | 'grpc'; countOnly?: boolean; port?: number; host?: string }
type Signal = 'traces' | 'metrics' | 'logs';

// ---- protobuf -> OTLP/JSON shape ---------------------------------------------------------
// Protobuf bodies (HTTP and gRPC alike) are turned into the OTLP/JSON object shape by a small
// wire reader driven by the table below, so one set of mappers serves both encodings. The table
// is the OTLP .proto field numbering, checked against opentelemetry-proto and against the
// hand-written serializers of @opentelemetry/otlp-transformer 0.301 that the exporters use.
// Only fields the Received* types use are listed; the rest are skipped like unknown fields.
// Value kinds: s string, id bytes as hex, b bytes, u uint varint, i int64 varint, bool,
// t fixed64 as bigint, c fixed64 as number, d double, sf sfixed64, x32 fixed32,
// pc/pd packed fixed64/double lists, skip (counted, never decoded); anything else is a message.
type FieldSpec = [key: string, kind: string, repeated?: 1];
const KV: FieldSpec = ['attributes', 'KeyValue', 1];
const SCHEMA: Record<string, Record<number, FieldSpec>> = {
  traces: { 1: ['resourceSpans', 'ResourceSpans', 1] },
  ResourceSpans: { 1: ['resource', 'Resource'], 2: ['scopeSpans', 'ScopeSpans', 1] },
  ScopeSpans: { 1: ['scope', 'Scope'], 2: ['spans', 'Span', 1] },
  Span: {
    1: ['traceId', 'id'], 2: ['spanId', 'id'], 3: ['traceState', 's'], 4: ['parentSpanId', 'id'], 5: ['name', 's'], 6: ['kind', 'u'],
    7: ['startTimeUnixNano', 't'], 8: ['endTimeUnixNano', 't'], 9: KV, 11: ['events', 'Event', 1], 13: ['links', 'Link', 1],
    15: ['status', 'Status'], 16: ['flags', 'x32'],
  },
  Event: { 2: ['name', 's'], 3: KV },
  Link: { 1: ['traceId', 'id'], 2: ['spanId', 'id'], 4: KV },
  Status: { 2: ['message', 's'], 3: ['code', 'u'] },
  Resource: { 1: KV },
  Scope: { 1: ['name', 's'], 2: ['version', 's'] },
  KeyValue: { 1: ['key', 's'], 2: ['value', 'AnyValue'] },
  AnyValue: {
    1: ['stringValue', 's'], 2: ['boolValue', 'bool'], 3: ['intValue', 'i'], 4: ['doubleValue', 'd'],
    5: ['arrayValue', 'ArrayValue'], 6: ['kvlistValue', 'KeyValueList'], 7: ['bytesValue', 'b'],
  },
  ArrayValue: { 1: ['values', 'AnyValue', 1] },
  KeyValueList: { 1: ['values', 'KeyValue', 1] },
  metrics: { 1: ['resourceMetrics', 'ResourceMetrics', 1] },
  ResourceMetrics: { 1: ['resource', 'Resource'], 2: ['scopeMetrics', 'ScopeMetrics', 1] },
  ScopeMetrics: { 1: ['scope', 'Scope'], 2: ['metrics', 'Metric', 1] },
  Metric: {
    1: ['name', 's'], 2: ['description', 's'], 3: ['unit', 's'], 5: ['gauge', 'Gauge'], 7: ['sum', 'Sum'],
    9: ['histogram', 'Histogram'], 10: ['exponentialHistogram', 'ExponentialHistogram'], 11: ['summary', 'Summary'],
  },
  Gauge: { 1: ['dataPoints', 'NumberDataPoint', 1] },
  Sum: { 1: ['dataPoints', 'NumberDataPoint', 1], 2: ['aggregationTemporality', 'u'], 3: ['isMonotonic', 'bool'] },
  Histogram: { 1: ['dataPoints', 'HistogramDataPoint', 1], 2: ['aggregationTemporality', 'u'] },
  ExponentialHistogram: { 1: ['dataPoints', 'ExponentialHistogramDataPoint', 1], 2: ['aggregationTemporality', 'u'] },
  Summary: { 1: ['dataPoints', 'SummaryDataPoint', 1] },
  NumberDataPoint: { 7: KV, 4: ['asDouble', 'd'], 6: ['asInt', 'sf'] },
  HistogramDataPoint: {
    9: KV, 4: ['count', 'c'], 5: ['sum', 'd'], 6: ['bucketCounts', 'pc'], 7: ['explicitBounds', 'pd'], 11: ['min', 'd'], 12: ['max', 'd'],
  },
  ExponentialHistogramDataPoint: { 1: KV, 4: ['count', 'c'], 5: ['sum', 'd'], 12: ['min', 'd'], 13: ['max', 'd'] },
  SummaryDataPoint: { 7: KV, 4: ['count', 'c'], 5: ['sum', 'd'], 6: ['quantileValues', 'ValueAtQuantile', 1] },
  ValueAtQuantile: { 1: ['quantile', 'd'], 2: ['value', 'd'] },
  logs: { 1: ['resourceLogs', 'ResourceLogs', 1] },
  ResourceLogs: { 1: ['resource', 'Resource'], 2: ['scopeLogs', 'ScopeLogs', 1] },
  ScopeLogs: { 1: ['scope', 'Scope'], 2: ['logRecords', 'LogRecord', 1] },
  LogRecord: {
    2: ['severityNumber', 'u'], 3: ['severityText', 's'], 5: ['body', 'AnyValue'], 6: KV,
    9: ['traceId', 'id'], 10: ['spanId', 'id'], 12: ['eventName', 's'],
  },
  // countOnly: spans are skipped over, never decoded; this is the benchmark's hot path.
  countTraces: { 1: ['resourceSpans', 'CountResourceSpans', 1] },
  CountResourceSpans: { 2: ['scopeSpans', 'CountScopeSpans', 1] },
  CountScopeSpans: { 2: ['spans', 'skip', 1] },
};
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const WIRE: Record<string, number> = { s: 2, id: 2, b: 2, u: 0, i: 0, bool: 0, t: 1, c: 1, d: 1, sf: 1, x32: 5 };

/** Decodes one protobuf message of SCHEMA `type` into a plain object; throws on malformed input. */
export function decodeOtlpProtobuf(buf: Uint8Array, type: string): Json {
  const fields = SCHEMA[type];
  const data = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Json = {};
  let pos = 0;
  const byte = (): number => {
    if (pos >= buf.length) throw new Error(`truncated protobuf ${type}`);
    return buf[pos++];
  };
  const small = (): number => { // tags and lengths: a number is exact up to 2^53
    let v = 0;
    for (let shift = 0; shift < 49; shift += 7) {
      const b = byte();
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    throw new Error(`protobuf varint too long in ${type}`);
  };
  const big = (): bigint => { // varint values: bigint keeps int64 exact until it is flattened
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, v);
    }
    throw new Error(`protobuf varint too long in ${type}`);
  };
  while (pos < buf.length) {
    const tag = small();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error(`invalid protobuf field number 0 in ${type}`);
    let varint = 0n;
    let len = 0;
    if (wire === 0) varint = big();
    else if (wire === 1) len = 8;
    else if (wire === 2) len = small();
    else if (wire === 5) len = 4;
    else throw new Error(`unsupported protobuf wire type ${wire} (field ${field} of ${type})`);
    if (len > buf.length - pos) throw new Error(`truncated protobuf ${type}`);
    const at = pos;
    pos += len;
    const spec = fields[field];
    if (!spec) continue; // unknown fields are skipped, as protobuf requires
    const [key, kind, repeated] = spec;
    if (kind === 'skip') {
      (out[key] ??= []).push(true);
      continue;
    }
    const packed = kind === 'pc' || kind === 'pd';
    const expected = packed && wire === 1 ? 1 : (WIRE[kind] ?? 2);
    if (wire !== expected) throw new Error(`${type}.${key}: wire type ${wire}, expected ${expected}`);
    if (packed) {
      if (len % 8) throw new Error(`${type}.${key}: packed length ${len} is not a multiple of 8`);
      out[key] ??= [];
      for (let o = at; o < at + len; o += 8) out[key].push(kind === 'pd' ? data.getFloat64(o, true) : Number(data.getBigUint64(o, true)));
      continue;
    }
    const value =
      kind === 's' ? UTF8.decode(buf.subarray(at, at + len))
      : kind === 'id' ? Buffer.from(buf.buffer, buf.byteOffset + at, len).toString('hex')
      : kind === 'b' ? new Uint8Array(buf.subarray(at, at + len)) // a copy: Buffer#slice would share memory
      : kind === 'u' ? Number(varint)
      : kind === 'i' ? Number(BigInt.asIntN(64, varint))
      : kind === 'bool' ? varint !== 0n
      : kind === 't' ? data.getBigUint64(at, true)
      : kind === 'c' ? Number(data.getBigUint64(at, true))
      : kind === 'd' ? data.getFloat64(at, true)
      : kind === 'sf' ? Number(data.getBigInt64(at, true))
      : kind === 'x32' ? data.getUint32(at, true)
      : decodeOtlpProtobuf(buf.subarray(at, at + len), kind);
    if (repeated) (out[key] ??= []).push(value);
    else out[key] = value; // last one wins, as protobuf requires
  }
  return out;
}

// ---- OTLP/JSON shape -> Received* ----------------------------------------------------------
// Accepts what the OTLP/JSON spec allows (lowerCamelCase keys, hex ids, enums as ints or names,
// int64 as strings) and what decodeOtlpProtobuf produces (bigint times, Uint8Array bytes).
type Json = any;
const optionalId = (id: string) => (id && !/^0+$/.test(id) ? id : undefined); // roots: empty or all-zero
const orUndef = <T>(v: T) => (v ? v : undefined); // '' and 0 are protobuf defaults: "not set"
function setKey(o: Attrs, key: string, value: unknown) {
  // A plain assignment of "__proto__" would replace the prototype instead of adding a key.
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
const jList = (x: Json): Json[] => {
  if (x == null) return [];
  if (!Array.isArray(x)) throw new Error(`expected a JSON array, got ${typeof x}`);
  return x;
};
function jValue(v: Json): unknown {
  if (v == null || typeof v !== 'object') return null;
  if ('stringValue' in v) return String(v.stringValue);
  if ('boolValue' in v) return v.boolValue === true || v.boolValue === 'true';
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue); // also covers "NaN" / "Infinity"
  if ('arrayValue' in v) return jList(v.arrayValue?.values).map(jValue);
  if ('kvlistValue' in v) return jAttrs(v.kvlistValue?.values);
  if ('bytesValue' in v) return v.bytesValue instanceof Uint8Array ? v.bytesValue : new Uint8Array(Buffer.from(String(v.bytesValue), 'base64'));
  return null; // an empty AnyValue: what the SDK sends for a null attribute
}
function jAttrs(list: Json): Attrs {
  const out: Attrs = {};
  for (const kv of jList(list)) setKey(out, String(kv?.key ?? ''), jValue(kv?.value));
  return out;
}
const jId = (v: Json): string =>
  typeof v !== 'string' ? '' : /^[0-9a-f]*$/i.test(v) ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex');
const jNano = (v: Json): bigint =>
  (v == null ? 0n : typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : BigInt(String(v)));
const jNum = (v: Json): number | undefined => (v == null ? undefined : Number(v));
function jEnum(v: Json, names: string[]): number {
  if (v == null) return 0;
  if (typeof v === 'number' || /^\d+$/.test(String(v))) return Number(v);
  const i = names.indexOf(String(v));
  if (i < 0) throw new Error(`unknown enum value ${JSON.stringify(v)}`);
  return i;
}
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].map((k) => `SPAN_KIND_${k}`);
const STATUS = ['UNSET', 'OK', 'ERROR'].map((k) => `STATUS_CODE_${k}`);
const TEMPORALITY = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'].map((k) => `AGGREGATION_TEMPORALITY_${k}`);
const SEVERITY = ['UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((l) => [l, `${l}2`, `${l}3`, `${l}4`])]
  .map((s) => `SEVERITY_NUMBER_${s}`);
const jScope = (s: Json): ReceivedScope => ({ name: String(s?.name ?? ''), version: orUndef(s?.version) });

function jWalk<T>(root: Json, keys: [string, string, string], item: (x: Json, resource: Attrs, scope: ReceivedScope) => T): T[] {
  if (root == null || typeof root !== 'object' || Array.isArray(root)) throw new Error('OTLP/JSON body must be an object');
  const out: T[] = [];
  for (const r of jList(root[keys[0]])) {
    const resource = jAttrs(r?.resource?.attributes);
    for (const s of jList(r?.[keys[1]])) {
      const scope = jScope(s?.scope);
      for (const x of jList(s?.[keys[2]])) out.push(item(x, resource, scope));
    }
  }
  return out;
}
const jSpan = (s: Json, resource: Attrs, scope: ReceivedScope): ReceivedSpan => ({
  traceId: jId(s.traceId), spanId: jId(s.spanId), parentSpanId: optionalId(jId(s.parentSpanId)), traceState: orUndef(s.traceState),
  name: String(s.name ?? ''), kind: jEnum(s.kind, KINDS), flags: jNum(s.flags),
  startTimeUnixNano: jNano(s.startTimeUnixNano), endTimeUnixNano: jNano(s.endTimeUnixNano),
  attributes: jAttrs(s.attributes),
  events: jList(s.events).map((e) => ({ name: String(e?.name ?? ''), attributes: jAttrs(e?.attributes) })),
  links: jList(s.links).map((l) => ({ traceId: jId(l?.traceId), spanId: jId(l?.spanId), attributes: jAttrs(l?.attributes) })),
  status: { code: jEnum(s.status?.code, STATUS), message: orUndef(s.status?.message) },
  resource, scope,
});
const JSON_METRIC_TYPES: MetricType[] = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];
function jPoint(type: MetricType, p: Json): ReceivedPoint {
  const base = { attributes: jAttrs(p?.attributes), count: jNum(p?.count), sum: jNum(p?.sum), min: jNum(p?.min), max: jNum(p?.max) };
  if (type === 'gauge' || type === 'sum') return { attributes: base.attributes, value: jNum(p?.asInt ?? p?.asDouble) };
  if (type === 'histogram') {
    return { ...base, bucketCounts: p?.bucketCounts && jList(p.bucketCounts).map(Number), explicitBounds: p?.explicitBounds && jList(p.explicitBounds).map(Number) };
  }
  if (type === 'summary') {
    return { ...base, quantiles: jList(p?.quantileValues).map((q) => ({ quantile: Number(q?.quantile ?? 0), value: Number(q?.value ?? 0) })) };
  }
  return base;
}
const jMetric = (m: Json, resource: Attrs, scope: ReceivedScope): ReceivedMetric => {
  const type = JSON_METRIC_TYPES.find((t) => m?.[t] != null);
  if (!type) throw new Error(`metric ${m?.name} has no data`);
  const data = m[type];
  return {
    name: String(m.name ?? ''), description: orUndef(m.description), unit: orUndef(m.unit), type,
    temporality: type === 'gauge' || type === 'summary' ? undefined : jEnum(data.aggregationTemporality, TEMPORALITY),
    isMonotonic: type === 'sum' ? Boolean(data.isMonotonic) : undefined,
    resource, scope, points: jList(data.dataPoints).map((p) => jPoint(type, p)),
  };
};
const jLog = (r: Json, resource: Attrs, scope: ReceivedScope): ReceivedLog => ({
  body: r.body === undefined ? undefined : jValue(r.body), severityNumber: orUndef(jEnum(r.severityNumber, SEVERITY)),
  severityText: orUndef(r.severityText), attributes: jAttrs(r.attributes),
  traceId: optionalId(jId(r.traceId)), spanId: optionalId(jId(r.spanId)), eventName: orUndef(r.eventName), resource, scope,
});
const JSON_KEYS: Record<Signal, [string, string, string]> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'], metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'], logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
};

// ---- servers -----------------------------------------------------------------------------
const HTTP_PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };
const GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const PAST = new Date(0).toUTCString();
const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const protocol = options.protocol ?? 'http';
  const host = options.host ?? '127.0.0.1';
  const countOnly = options.countOnly ?? false;
  let failure: FailureMode = 'none';
  const waiters = new Set<() => boolean>();
  const notify = () => { for (const w of waiters) if (w()) waiters.delete(w); };
  function waitUntil<T>(probe: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (): boolean => {
        try {
          const v = probe();
          if (v === undefined) return false;
          resolve(v);
        } catch (e) { reject(e); }
        clearTimeout(timer);
        return true;
      };
      const timer = setTimeout(() => { waiters.delete(settle); reject(new Error(describe())); }, timeoutMs);
      if (!settle()) waiters.add(settle);
    });
  }
  // Resolves with the whole list once `count` reaches the wanted number or the predicate holds.
  function waitForList<T>(list: T[], count: () => number, want: ((xs: T[]) => boolean) | number, timeoutMs: number, what: string, seen: () => string) {
    const done = typeof want === 'number' ? () => count() >= want : () => want(list);
    const wanted = typeof want === 'number' ? `${want} ${what}(s)` : `${what}s matching the predicate`;
    return waitUntil(() => (done() ? list : undefined), timeoutMs,
      () => `Timed out after ${timeoutMs}ms waiting for ${wanted}; received ${count()}: [${seen()}]${errorsNote()}`);
  }
  const errorsNote = () => (r.errors.length ? `; decode errors: ${r.errors.slice(-3).join(' | ')}` : '');
  const names = (xs: { name: string }[]) => {
    const all = [...new Set(xs.map((x) => x.name))];
    return all.length > 50 ? `${all.slice(0, 50).join(', ')}, ...` : all.join(', ');
  };

  // Decodes a whole body before recording anything, so a bad body never leaves half a request behind.
  function ingest(signal: Signal, json: boolean, body: Uint8Array) {
    if (countOnly && signal !== 'traces') return;
    const root: Json = json ? JSON.parse(UTF8.decode(body)) : decodeOtlpProtobuf(body, countOnly ? 'countTraces' : signal);
    if (countOnly) {
      r.spanCount += jWalk(root, JSON_KEYS.traces, () => 1).length;
    } else if (signal === 'traces') {
      const spans = jWalk(root, JSON_KEYS.traces, jSpan);
      for (const s of spans) r.spans.push(s); // not push(...spans): huge batches would overflow the stack
      r.spanCount += spans.length;
    } else if (signal === 'metrics') {
      for (const m of jWalk(root, JSON_KEYS.metrics, jMetric)) r.metrics.push(m);
    } else {
      for (const l of jWalk(root, JSON_KEYS.logs, jLog)) r.logs.push(l);
    }
    notify();
  }

  async function onHttp(req: IncomingMessage, res: ServerResponse) {
    const reply = (status: number, body: string, type = 'text/plain', headers: Record<string, string> = {}) => {
      if (!res.headersSent && !res.destroyed) res.writeHead(status, { 'content-type': type, ...headers }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    const signal = HTTP_PATHS[path];
    if (!signal) return reply(404, `no OTLP endpoint at ${path}`);
    if (req.method !== 'POST') return reply(405, 'POST only');
    const contentType = String(req.headers['content-type'] ?? '');
    const mime = contentType.split(';')[0].trim().toLowerCase();
    const json = mime === 'application/json';
    if (!json && mime !== 'application/x-protobuf') {
      r.errors.push(`${path}: unsupported content-type ${JSON.stringify(contentType)}`);
      return reply(415, 'unsupported content-type');
    }
    r.requests.push({ path, contentType, headers: req.headers, protocol: json ? 'http/json' : 'http/protobuf' });
    if (failure === 'reset') return void req.socket.destroy();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    // A Retry-After date in the past makes the exporters retry at once instead of backing off for
    // seconds ("0" works too, but the 0.301 exporters turn it into setTimeout(-1) and Node warns).
    if (failure === 'http503') return reply(503, 'receiver is failing on purpose', 'text/plain', { 'retry-after': PAST });
    try {
      const raw = Buffer.concat(chunks);
      const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
      const body = encoding === 'gzip' ? await gunzip(raw) : encoding === 'deflate' ? await inflate(raw) : encoding === 'identity' ? raw : undefined;
      if (!body) throw new Error(`unsupported content-encoding ${encoding}`);
      ingest(signal, json, body);
    } catch (e) {
      r.errors.push(`${path} (${mime}): ${errorMessage(e)}`);
      return reply(400, errorMessage(e));
    }
    // An empty Export*ServiceResponse in the request's encoding.
    return json ? reply(200, '{}', 'application/json') : reply(200, '', 'application/x-protobuf');
  }

  function onGrpc(signal: Signal) {
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const headers: Record<string, string> = { 'content-type': 'application/grpc' };
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      r.requests.push({ path: GRPC_PATHS[signal], contentType: 'application/grpc', headers, protocol: 'grpc' });
      if (failure === 'reset' && destroyGrpcConnection(call)) return;
      if (failure !== 'none') return callback({ code: grpc.status.UNAVAILABLE, details: 'receiver is failing on purpose' });
      try {
        ingest(signal, false, call.request);
      } catch (e) {
        r.errors.push(`${GRPC_PATHS[signal]}: ${errorMessage(e)}`);
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: errorMessage(e) });
      }
      callback(null, Buffer.alloc(0));
    };
  }

  let port: number;
  let stop: () => Promise<void>;
  if (protocol === 'grpc') {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const raw = (b: Buffer) => b; // the exporters send pre-serialized bytes; decode ourselves
    for (const signal of Object.keys(GRPC_PATHS) as Signal[]) {
      const method = { path: GRPC_PATHS[signal], requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
      server.addService({ Export: method }, { Export: onGrpc(signal) });
    }
    const address = host.includes(':') ? `[${host}]:${options.port ?? 0}` : `${host}:${options.port ?? 0}`;
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    stop = async () => server.forceShutdown();
  } else {
    const server = http.createServer((req, res) => {
      onHttp(req, res).catch((e) => { r.errors.push(`${req.url}: ${errorMessage(e)}`); res.destroy(); });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => { server.off('error', reject); resolve(); });
    });
    port = (server.address() as AddressInfo).port;
    stop = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  }

  const r: OtlpReceiver = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, protocol,
    spans: [], metrics: [], logs: [], requests: [], errors: [], spanCount: 0,
    waitForSpans: (predicate, timeoutMs = 10_000) => waitForList(r.spans, () => r.spanCount, predicate, timeoutMs, 'span', () => names(r.spans)),
    waitForLogs: (predicate, timeoutMs = 10_000) =>
      waitForList(r.logs, () => r.logs.length, predicate, timeoutMs, 'log', () => names(r.logs.map((l) => ({ name: JSON.stringify(l.body) })))),
    waitForMetric(name, timeoutMs = 10_000) {
      return waitUntil(() => r.metrics.findLast((m) => m.name === name), timeoutMs,
        () => `Timed out after ${timeoutMs}ms waiting for metric ${name}; received: [${names(r.metrics)}]${errorsNote()}`);
    },
    setFailure(mode) { failure = mode; },
    clear() {
      r.spans.length = 0; r.metrics.length = 0; r.logs.length = 0; r.requests.length = 0; r.errors.length = 0;
      r.spanCount = 0;
    },
    // Pending waits are left to their own timeouts, which reject with what was received.
    close: () => stop(),
  };
  return r;
}

// grpc-js has no public way to drop a connection mid-call; its base call object holds the HTTP/2
// stream, so walk the interceptor chain to it. Returns false (caller answers UNAVAILABLE) if absent.
function destroyGrpcConnection(call: object): boolean {
  let c: any = (call as any).call;
  for (let i = 0; c && i < 10; i++, c = c.nextCall) {
    if (c.stream?.session) {
      c.stream.session.destroy();
      return true;
    }
  }
  return false;
}
