// OTLP request bodies (protobuf or JSON) into the Received* shapes of otlp-receiver.d.mts.
// Protobuf bodies (HTTP and gRPC alike) are first turned into the OTLP/JSON object shape by a
// small wire reader driven by the table below, so one set of mappers serves both encodings.
// The table is the OTLP .proto field numbering, checked against opentelemetry-proto and against
// the hand-written serializers of @opentelemetry/otlp-transformer 0.301 that the exporters use.
// Only fields the Received* types use are listed; the rest are skipped like unknown fields.

// Value kinds: s string, id bytes as hex, b bytes, u uint varint, i int64 varint, bool,
// t fixed64 as bigint, c fixed64 as number, d double, sf sfixed64, x32 fixed32,
// pc/pd packed fixed64/double lists, skip (counted, never decoded); anything else is a message.
const KV = ['attributes', 'KeyValue', 1];
/** @type {Record<string, Record<number, [key: string, kind: string, repeated?: 1]>>} */
const SCHEMA = {
  traces: { 1: ['resourceSpans', 'ResourceSpans', 1] },
  ResourceSpans: { 1: ['resource', 'Resource'], 2: ['scopeSpans', 'ScopeSpans', 1] },
  ScopeSpans: { 1: ['scope', 'Scope'], 2: ['spans', 'Span', 1] },
  Span: {
    1: ['traceId', 'id'],
    2: ['spanId', 'id'],
    3: ['traceState', 's'],
    4: ['parentSpanId', 'id'],
    5: ['name', 's'],
    6: ['kind', 'u'],
    7: ['startTimeUnixNano', 't'],
    8: ['endTimeUnixNano', 't'],
    9: KV,
    11: ['events', 'Event', 1],
    13: ['links', 'Link', 1],
    15: ['status', 'Status'],
    16: ['flags', 'x32'],
  },
  Event: { 2: ['name', 's'], 3: KV },
  Link: { 1: ['traceId', 'id'], 2: ['spanId', 'id'], 4: KV },
  Status: { 2: ['message', 's'], 3: ['code', 'u'] },
  Resource: { 1: KV },
  Scope: { 1: ['name', 's'], 2: ['version', 's'] },
  KeyValue: { 1: ['key', 's'], 2: ['value', 'AnyValue'] },
  AnyValue: {
    1: ['stringValue', 's'],
    2: ['boolValue', 'bool'],
    3: ['intValue', 'i'],
    4: ['doubleValue', 'd'],
    5: ['arrayValue', 'ArrayValue'],
    6: ['kvlistValue', 'KeyValueList'],
    7: ['bytesValue', 'b'],
  },
  ArrayValue: { 1: ['values', 'AnyValue', 1] },
  KeyValueList: { 1: ['values', 'KeyValue', 1] },
  metrics: { 1: ['resourceMetrics', 'ResourceMetrics', 1] },
  ResourceMetrics: { 1: ['resource', 'Resource'], 2: ['scopeMetrics', 'ScopeMetrics', 1] },
  ScopeMetrics: { 1: ['scope', 'Scope'], 2: ['metrics', 'Metric', 1] },
  Metric: {
    1: ['name', 's'],
    2: ['description', 's'],
    3: ['unit', 's'],
    5: ['gauge', 'Gauge'],
    7: ['sum', 'Sum'],
    9: ['histogram', 'Histogram'],
    10: ['exponentialHistogram', 'ExponentialHistogram'],
    11: ['summary', 'Summary'],
  },
  Gauge: { 1: ['dataPoints', 'NumberDataPoint', 1] },
  Sum: { 1: ['dataPoints', 'NumberDataPoint', 1], 2: ['aggregationTemporality', 'u'], 3: ['isMonotonic', 'bool'] },
  Histogram: { 1: ['dataPoints', 'HistogramDataPoint', 1], 2: ['aggregationTemporality', 'u'] },
  ExponentialHistogram: { 1: ['dataPoints', 'ExponentialHistogramDataPoint', 1], 2: ['aggregationTemporality', 'u'] },
  Summary: { 1: ['dataPoints', 'SummaryDataPoint', 1] },
  NumberDataPoint: { 7: KV, 4: ['asDouble', 'd'], 6: ['asInt', 'sf'] },
  HistogramDataPoint: {
    9: KV,
    4: ['count', 'c'],
    5: ['sum', 'd'],
    6: ['bucketCounts', 'pc'],
    7: ['explicitBounds', 'pd'],
    11: ['min', 'd'],
    12: ['max', 'd'],
  },
  ExponentialHistogramDataPoint: { 1: KV, 4: ['count', 'c'], 5: ['sum', 'd'], 12: ['min', 'd'], 13: ['max', 'd'] },
  SummaryDataPoint: { 7: KV, 4: ['count', 'c'], 5: ['sum', 'd'], 6: ['quantileValues', 'ValueAtQuantile', 1] },
  ValueAtQuantile: { 1: ['quantile', 'd'], 2: ['value', 'd'] },
  logs: { 1: ['resourceLogs', 'ResourceLogs', 1] },
  ResourceLogs: { 1: ['resource', 'Resource'], 2: ['scopeLogs', 'ScopeLogs', 1] },
  ScopeLogs: { 1: ['scope', 'Scope'], 2: ['logRecords', 'LogRecord', 1] },
  LogRecord: {
    2: ['severityNumber', 'u'],
    3: ['severityText', 's'],
    5: ['body', 'AnyValue'],
    6: KV,
    9: ['traceId', 'id'],
    10: ['spanId', 'id'],
    12: ['eventName', 's'],
  },
  // countOnly: spans are skipped over, never decoded; this is the benchmark's hot path.
  countTraces: { 1: ['resourceSpans', 'CountResourceSpans', 1] },
  CountResourceSpans: { 2: ['scopeSpans', 'CountScopeSpans', 1] },
  CountScopeSpans: { 2: ['spans', 'skip', 1] },
};
export const UTF8 = new TextDecoder('utf-8', { fatal: true });
const WIRE = { s: 2, id: 2, b: 2, u: 0, i: 0, bool: 0, t: 1, c: 1, d: 1, sf: 1, x32: 5 };

/** Decodes one protobuf message of SCHEMA `type` into a plain object; throws on malformed input. */
export function decodeOtlpProtobuf(buf, type) {
  const fields = SCHEMA[type];
  const data = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = {};
  let pos = 0;
  const byte = () => {
    if (pos >= buf.length) throw new Error(`truncated protobuf ${type}`);
    return buf[pos++];
  };
  const small = () => {
    // tags and lengths: a number is exact up to 2^53
    let v = 0;
    for (let shift = 0; shift < 49; shift += 7) {
      const b = byte();
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    throw new Error(`protobuf varint too long in ${type}`);
  };
  const big = () => {
    // varint values: bigint keeps int64 exact until it is flattened
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
      kind === 's'
        ? UTF8.decode(buf.subarray(at, at + len))
        : kind === 'id'
          ? Buffer.from(buf.buffer, buf.byteOffset + at, len).toString('hex')
          : kind === 'b'
            ? new Uint8Array(buf.subarray(at, at + len)) // a copy: Buffer#slice would share memory
            : kind === 'u'
              ? Number(varint)
              : kind === 'i'
                ? Number(BigInt.asIntN(64, varint))
                : kind === 'bool'
                  ? varint !== 0n
                  : kind === 't'
                    ? data.getBigUint64(at, true)
                    : kind === 'c'
                      ? Number(data.getBigUint64(at, true))
                      : kind === 'd'
                        ? data.getFloat64(at, true)
                        : kind === 'sf'
                          ? Number(data.getBigInt64(at, true))
                          : kind === 'x32'
                            ? data.getUint32(at, true)
                            : decodeOtlpProtobuf(buf.subarray(at, at + len), kind);
    if (repeated) (out[key] ??= []).push(value);
    else out[key] = value; // last one wins, as protobuf requires
  }
  return out;
}

// ---- OTLP/JSON shape -> Received* ----------------------------------------------------------
// Accepts what the OTLP/JSON spec allows (lowerCamelCase keys, hex ids, enums as ints or names,
// int64 as strings) and what decodeOtlpProtobuf produces (bigint times, Uint8Array bytes).
const optionalId = (id) => (id && !/^0+$/.test(id) ? id : undefined); // roots: empty or all-zero
const orUndef = (v) => (v ? v : undefined); // '' and 0 are protobuf defaults: "not set"
function setKey(o, key, value) {
  // A plain assignment of "__proto__" would replace the prototype instead of adding a key.
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
const jList = (x) => {
  if (x == null) return [];
  if (!Array.isArray(x)) throw new Error(`expected a JSON array, got ${typeof x}`);
  return x;
};
function jValue(v) {
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
function jAttrs(list) {
  const out = {};
  for (const kv of jList(list)) setKey(out, String(kv?.key ?? ''), jValue(kv?.value));
  return out;
}
const jId = (v) => (typeof v !== 'string' ? '' : /^[0-9a-f]*$/i.test(v) ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex'));
const jNano = (v) => (v == null ? 0n : typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : BigInt(String(v)));
const jNum = (v) => (v == null ? undefined : Number(v));
function jEnum(v, names) {
  if (v == null) return 0;
  if (typeof v === 'number' || /^\d+$/.test(String(v))) return Number(v);
  const i = names.indexOf(String(v));
  if (i < 0) throw new Error(`unknown enum value ${JSON.stringify(v)}`);
  return i;
}
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].map((k) => `SPAN_KIND_${k}`);
const STATUS = ['UNSET', 'OK', 'ERROR'].map((k) => `STATUS_CODE_${k}`);
const TEMPORALITY = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'].map((k) => `AGGREGATION_TEMPORALITY_${k}`);
const SEVERITY = ['UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((l) => [l, `${l}2`, `${l}3`, `${l}4`])].map(
  (s) => `SEVERITY_NUMBER_${s}`,
);
const jScope = (s) => ({ name: String(s?.name ?? ''), version: orUndef(s?.version) });

function jWalk(root, keys, item) {
  if (root == null || typeof root !== 'object' || Array.isArray(root)) throw new Error('OTLP/JSON body must be an object');
  const out = [];
  for (const r of jList(root[keys[0]])) {
    const resource = jAttrs(r?.resource?.attributes);
    for (const s of jList(r?.[keys[1]])) {
      const scope = jScope(s?.scope);
      for (const x of jList(s?.[keys[2]])) out.push(item(x, resource, scope));
    }
  }
  return out;
}
const jSpan = (s, resource, scope) => ({
  traceId: jId(s.traceId),
  spanId: jId(s.spanId),
  parentSpanId: optionalId(jId(s.parentSpanId)),
  traceState: orUndef(s.traceState),
  name: String(s.name ?? ''),
  kind: jEnum(s.kind, KINDS),
  flags: jNum(s.flags),
  startTimeUnixNano: jNano(s.startTimeUnixNano),
  endTimeUnixNano: jNano(s.endTimeUnixNano),
  attributes: jAttrs(s.attributes),
  events: jList(s.events).map((e) => ({ name: String(e?.name ?? ''), attributes: jAttrs(e?.attributes) })),
  links: jList(s.links).map((l) => ({ traceId: jId(l?.traceId), spanId: jId(l?.spanId), attributes: jAttrs(l?.attributes) })),
  status: { code: jEnum(s.status?.code, STATUS), message: orUndef(s.status?.message) },
  resource,
  scope,
});
const JSON_METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];
function jPoint(type, p) {
  const base = { attributes: jAttrs(p?.attributes), count: jNum(p?.count), sum: jNum(p?.sum), min: jNum(p?.min), max: jNum(p?.max) };
  if (type === 'gauge' || type === 'sum') return { attributes: base.attributes, value: jNum(p?.asInt ?? p?.asDouble) };
  if (type === 'histogram') {
    return {
      ...base,
      bucketCounts: p?.bucketCounts && jList(p.bucketCounts).map(Number),
      explicitBounds: p?.explicitBounds && jList(p.explicitBounds).map(Number),
    };
  }
  if (type === 'summary') {
    return { ...base, quantiles: jList(p?.quantileValues).map((q) => ({ quantile: Number(q?.quantile ?? 0), value: Number(q?.value ?? 0) })) };
  }
  return base;
}
const jMetric = (m, resource, scope) => {
  const type = JSON_METRIC_TYPES.find((t) => m?.[t] != null);
  if (!type) throw new Error(`metric ${m?.name} has no data`);
  const data = m[type];
  return {
    name: String(m.name ?? ''),
    description: orUndef(m.description),
    unit: orUndef(m.unit),
    type,
    temporality: type === 'gauge' || type === 'summary' ? undefined : jEnum(data.aggregationTemporality, TEMPORALITY),
    isMonotonic: type === 'sum' ? Boolean(data.isMonotonic) : undefined,
    resource,
    scope,
    points: jList(data.dataPoints).map((p) => jPoint(type, p)),
  };
};
const jLog = (r, resource, scope) => ({
  body: r.body === undefined ? undefined : jValue(r.body),
  severityNumber: orUndef(jEnum(r.severityNumber, SEVERITY)),
  severityText: orUndef(r.severityText),
  attributes: jAttrs(r.attributes),
  traceId: optionalId(jId(r.traceId)),
  spanId: optionalId(jId(r.spanId)),
  eventName: orUndef(r.eventName),
  resource,
  scope,
});
const JSON_KEYS = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
};

/**
 * Decodes a whole export request body of one signal. With `countOnly`, traces come back as a
 * count and other signals as nothing, without decoding a span.
 * @returns {{ spans?: object[], metrics?: object[], logs?: object[], count?: number }}
 */
export function decodeOtlpRequest(signal, json, body, countOnly = false) {
  if (countOnly && signal !== 'traces') return {};
  const root = json ? JSON.parse(UTF8.decode(body)) : decodeOtlpProtobuf(body, countOnly ? 'countTraces' : signal);
  if (countOnly) return { count: jWalk(root, JSON_KEYS.traces, () => 1).length };
  if (signal === 'traces') return { spans: jWalk(root, JSON_KEYS.traces, jSpan) };
  if (signal === 'metrics') return { metrics: jWalk(root, JSON_KEYS.metrics, jMetric) };
  return { logs: jWalk(root, JSON_KEYS.logs, jLog) };
}
