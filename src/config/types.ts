/**
 * The one typed configuration of healthspan. `readConfigFromEnv()` and
 * `start(options)` both produce an {@link SdkConfig}; nothing else reads `process.env`.
 */

import type {
  DURATION_BUCKETS,
  HEALTH_COMPONENTS,
  LOG_LEVELS,
  LOGS_EXPORTERS,
  METRICS_EXPORTERS,
  OTLP_COMPRESSIONS,
  OTLP_PROTOCOLS,
  PROPAGATORS,
  RESOURCE_DETECTORS,
  SAMPLERS,
  TRACES_EXPORTERS,
} from './values.js';

// The unions come from the arrays in values.ts, which the parsers use: written once.
export type TracesExporterName = (typeof TRACES_EXPORTERS)[number];
export type MetricsExporterName = (typeof METRICS_EXPORTERS)[number];
export type LogsExporterName = (typeof LOGS_EXPORTERS)[number];
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export type OtlpCompression = (typeof OTLP_COMPRESSIONS)[number];
export type SamplerName = (typeof SAMPLERS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Local resource detectors only: none of them makes a network call. */
export type ResourceDetectorName = (typeof RESOURCE_DETECTORS)[number];
export type PropagatorName = (typeof PROPAGATORS)[number];

export interface OtlpSignalConfig {
  /**
   * Full URL the exporter sends to (`…/v1/traces` for HTTP, `http://host:4317` for gRPC).
   * @default 'http://localhost:4318/v1/<signal>' (HTTP) or 'http://localhost:4317' (gRPC)
   */
  endpoint: string;
  /** @default 'http/protobuf' */
  protocol: OtlpProtocol;
  /** Sent with every export (e.g. an API key). Values are never logged. @default {} */
  headers: Record<string, string>;
  /** Per-export timeout. @default 10000 */
  timeoutMillis: number;
  /** @default 'none' */
  compression: OtlpCompression;
}

export interface BatchConfig {
  /** Delay between two exports. @default 5000 */
  scheduledDelayMillis: number;
  /** An export that takes longer is abandoned and its spans counted as dropped. @default 30000 */
  exportTimeoutMillis: number;
  /** Spans waiting for export; past this bound new spans are dropped and counted. @default 2048 */
  maxQueueSize: number;
  /** @default 512 */
  maxExportBatchSize: number;
}

export interface TracesConfig {
  /** @default 'otlp' */
  exporter: TracesExporterName;
  otlp: OtlpSignalConfig;
  /** @default 'parentbased_always_on' */
  sampler: SamplerName;
  /** Ratio for the `*traceidratio` samplers, 0..1. @default 1 */
  samplerArg: number;
  batch: BatchConfig;
}

/** The batch settings of the log record export (OTEL_BLRP_*). */
export interface LogBatchConfig {
  /** Delay between two exports. @default 1000 */
  scheduledDelayMillis: number;
  /** An export that takes longer is abandoned and its log records counted as dropped. @default 30000 */
  exportTimeoutMillis: number;
  /** Log records waiting for export; past this bound new ones are dropped and counted. @default 2048 */
  maxQueueSize: number;
  /** @default 512 */
  maxExportBatchSize: number;
}

/**
 * OpenTelemetry log records. healthspan emits only its own (one per alert transition, when
 * insight is on); it never installs a global LoggerProvider, so other libraries' logs are
 * not captured.
 */
export interface LogsConfig {
  /** @default 'otlp' when traces.exporter is 'otlp', else 'none' */
  exporter: LogsExporterName;
  otlp: OtlpSignalConfig;
  batch: LogBatchConfig;
}

export interface PrometheusConfig {
  /** Interface the scrape endpoint binds to. Loopback unless you say otherwise. @default '127.0.0.1' */
  host: string;
  /** @default 9464 */
  port: number;
  /** @default '/metrics' */
  path: string;
  /**
   * Open a listener of our own. Set to false to mount `createPrometheusHandler()` on the
   * app's server instead. @default true
   */
  serve: boolean;
}

export interface MetricsConfig {
  /** Several at once are allowed. @default ['prometheus'] */
  exporters: MetricsExporterName[];
  otlp: OtlpSignalConfig;
  /** Interval of the periodic (OTLP, console) readers. @default 60000 */
  exportIntervalMillis: number;
  /** @default 30000 */
  exportTimeoutMillis: number;
  /**
   * Bucket boundaries of the semantic-convention duration histograms: `semconv`, the
   * conventions' advice (HTTP 5 ms … 10 s, database 1 ms … 10 s); `fine`, healthspan's 16
   * bounds from 1 ms to 10 s (finer below 100 ms). @default 'semconv'
   */
  durationBuckets: (typeof DURATION_BUCKETS)[number];
  prometheus: PrometheusConfig;
}

export interface HttpConfig {
  /** Incoming/outgoing request headers recorded as span attributes (allow-list, lower case). @default [] */
  requestHeaders: string[];
  /** Response headers recorded as span attributes (allow-list, lower case). @default [] */
  responseHeaders: string[];
  /**
   * Distinct route templates derived from raw paths on servers without a router; later
   * ones are reported as `_other`. @default 200
   */
  routeTemplateLimit: number;
  /**
   * Query parameters whose values are replaced by `REDACTED` in exported URLs, in addition
   * to every name containing token, key, secret, password, passwd, pwd, auth, signature,
   * sig, credential, session or code. @default []
   */
  redactQueryParams: string[];
}

export interface DbConfig {
  /**
   * Replace literals in `db.query.text` by `?`, collapse `IN (…)` lists and drop comments.
   * Turning this off exports the statements as the app wrote them, literals included: unsafe.
   * @default true
   */
  sanitize: boolean;
  /** A span for every new pg connection (`pg.connect`, `pg-pool.connect`). @default false */
  connectSpans: boolean;
}

export interface WsConfig {
  /** A CONSUMER/PRODUCER span per WebSocket message, linked to the handshake span. @default false */
  messageSpans: boolean;
  /** Message spans per connection; later messages are only counted. @default 100 */
  messageSpansPerConnection: number;
}

export interface InsightConfig {
  /** Alerts and the health score, computed in the process from the spans. @default true */
  enabled: boolean;
  /** p95 of a route above this (ms) fires slow_request. @default 1000 */
  slowRequestMs: number;
  /** p95 of a statement above this (ms) fires slow_query. @default 100 */
  slowQueryMs: number;
  /** Share of failed requests of a route above this fires error_rate. @default 0.05 */
  errorRate: number;
  /** How often the rules are evaluated. @default 5000 */
  intervalMs: number;
  /**
   * After start, this long (ms) no latency or event-loop alert fires and what ended meanwhile
   * never counts for one: a cold pool and cold plans must not page anyone. @default 30000
   */
  warmupMs: number;
  /**
   * Health score weights per component (the others keep their default; 0 leaves one out).
   * @default { responseTime: 30, errors: 25, resources: 20, database: 15, cache: 10 }
   */
  healthWeights: Partial<Record<(typeof HEALTH_COMPONENTS)[number], number>>;
  /** Apdex T of request durations for the health score (ms). @default 500 */
  apdexMs: number;
  /**
   * Memory the process may use (MiB): RSS above 90 % of it fires the memory alert.
   * @default the cgroup memory limit when there is one; otherwise RSS is not judged
   */
  memoryLimitMb?: number;
  /** Every alert transition is POSTed here as JSON. @default none */
  webhookUrl?: string;
}

export interface AdminConfig {
  /**
   * Bearer token for the admin API and status page. Without one, the API answers reads from
   * loopback only and refuses every change. @default none
   */
  token?: string;
  /** Port of a standalone admin server; unset keeps it off (mount `createAdminHandler()` instead). @default off */
  port?: number;
  /** Interface the standalone admin server binds to. @default '127.0.0.1' */
  host: string;
}

export interface SdkConfig {
  /** Turns the whole SDK into a no-op. @default false */
  disabled: boolean;
  /** `service.name`. @default the app's package.json name, else 'unknown_service:node' */
  serviceName: string;
  /** Extra resource attributes. @default {} */
  resourceAttributes: Record<string, string>;
  /** @default ['env', 'host', 'os', 'process', 'serviceinstance', 'container'] */
  resourceDetectors: ResourceDetectorName[];
  /** @default ['tracecontext', 'baggage'] */
  propagators: PropagatorName[];
  traces: TracesConfig;
  metrics: MetricsConfig;
  logs: LogsConfig;
  http: HttpConfig;
  db: DbConfig;
  ws: WsConfig;
  insight: InsightConfig;
  admin: AdminConfig;
  /**
   * Instrumentations to enable, by short name (`http`, `undici`, `ws`, `socket.io`, `pg`,
   * `mysql2`, `redis`, `ioredis`, `express`, `fastify`, `koa`, `runtime-node`). @default all of them
   */
  instrumentations: string[];
  /** @default 'info' */
  logLevel: LogLevel;
  /** Longest time spent flushing on SIGTERM/SIGINT/shutdown(). @default 5000 */
  shutdownTimeoutMillis: number;
  /**
   * Longest flush when the process ends on its own (`beforeExit`: a CLI, a cron job, a test
   * run), without retries; what is still unsent is counted as dropped. Kept shorter than
   * the shutdown timeout so a missing or slow collector barely delays the exit. @default 1000
   */
  exitFlushTimeoutMillis: number;
  /** Minimum time between two repeats of the same warning. @default 60000 */
  warnIntervalMillis: number;
  /** Turn configuration problems into a startup error. @default false */
  strict: boolean;
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends Record<string, string> ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/** What `start(options)` accepts: any part of {@link SdkConfig}; the rest comes from env. */
export type HealthspanOptions = DeepPartial<SdkConfig>;

export interface ConfigProblem {
  /** The env var (`OTEL_BSP_MAX_QUEUE_SIZE`) or option path (`options.traces.sampler`). */
  source: string;
  /** The bad value as written (strings quoted). */
  value: string;
  expected: string;
  /** What is used instead, as shown (`2048`, `none (the default)`); empty when {@link leftOut}. */
  used: string;
  /** The value was one entry of a list, and that entry is left out. */
  leftOut?: boolean;
}
