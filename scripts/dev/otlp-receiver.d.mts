// Types of otlp-receiver.mjs.

// AnyValue flattened: string | number | boolean | null | array | object | Uint8Array; int64 as number.
type Attrs = Record<string, unknown>;
export interface ReceivedScope {
  name: string;
  version?: string;
}
export interface ReceivedSpan {
  traceId: string;
  spanId: string; // 32 / 16 lowercase hex
  parentSpanId?: string; // undefined for roots (empty or all-zero bytes)
  traceState?: string;
  flags?: number;
  name: string;
  kind: number; // OTLP enum: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER (SDK SpanKind + 1)
  attributes: Attrs;
  status: { code: number; message?: string }; // 0 unset, 1 ok, 2 error
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  events: { name: string; attributes: Attrs }[];
  links: { traceId: string; spanId: string; attributes: Attrs }[];
  resource: Attrs;
  scope: ReceivedScope;
}
export type MetricType = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
export interface ReceivedPoint {
  attributes: Attrs;
  value?: number; // sum and gauge
  count?: number;
  sum?: number;
  min?: number;
  max?: number; // the histogram kinds and summary
  bucketCounts?: number[];
  explicitBounds?: number[]; // histogram
  quantiles?: { quantile: number; value: number }[]; // summary
}
export interface ReceivedMetric {
  name: string;
  unit?: string;
  description?: string;
  type: MetricType;
  temporality?: number; // OTLP enum: 1 delta, 2 cumulative; undefined for gauge and summary
  isMonotonic?: boolean; // sum only
  resource: Attrs;
  scope: ReceivedScope;
  points: ReceivedPoint[];
}
export interface ReceivedLog {
  body: unknown;
  severityText?: string;
  severityNumber?: number;
  eventName?: string;
  attributes: Attrs;
  traceId?: string;
  spanId?: string;
  resource: Attrs;
  scope: ReceivedScope;
}
export type ReceivedProtocol = 'http/json' | 'http/protobuf' | 'grpc';
export interface ReceivedRequest {
  path: string;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  protocol: ReceivedProtocol;
}
// http503 answers 503 over HTTP and UNAVAILABLE over gRPC; reset drops the connection unanswered.
export type FailureMode = 'none' | 'http503' | 'reset';
export interface OtlpReceiver {
  url: string; // base, e.g. http://127.0.0.1:43123 (append /v1/traces for the HTTP exporters)
  port: number;
  protocol: 'http' | 'grpc';
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  logs: ReceivedLog[];
  requests: ReceivedRequest[]; // every export attempt on a known path, failed ones included
  errors: string[]; // bodies that failed to decode (answered 400 / INVALID_ARGUMENT) or were refused
  spanCount: number; // total spans received, kept or not; the only thing kept in countOnly mode
  waitForSpans(predicate: ((spans: ReceivedSpan[]) => boolean) | number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  waitForMetric(name: string, timeoutMs?: number): Promise<ReceivedMetric>; // the latest one with that name
  waitForLogs(predicate: ((logs: ReceivedLog[]) => boolean) | number, timeoutMs?: number): Promise<ReceivedLog[]>;
  setFailure(mode: FailureMode): void;
  clear(): void;
  close(): Promise<void>;
}
export interface OtlpReceiverOptions {
  /** @default 'http' */
  protocol?: 'http' | 'grpc';
  /** Count spans without decoding them (the benchmark sink); metrics and logs are ignored. @default false */
  countOnly?: boolean;
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * The most spans, metrics, logs, requests and errors kept, each; later ones are not kept
   * (spanCount still counts every span). @default Infinity
   */
  limit?: number;
}
export function startOtlpReceiver(options?: OtlpReceiverOptions): Promise<OtlpReceiver>;
/** Decodes one protobuf message of the OTLP schema `type` (e.g. 'traces') into the OTLP/JSON object shape. */
// biome-ignore lint/suspicious/noExplicitAny: the decoded shape depends on `type`; callers cast it to what they read.
export function decodeOtlpProtobuf(buf: Uint8Array, type: string): any;
