import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SettingReader,
  describeProblem,
  hostName,
  httpUrl,
  intIn,
  adminToken,
  healthWeights,
  keyValueList,
  listOf,
  nonEmptyString,
  numberIn,
  oneOf,
  parseBool,
  stringList,
  urlPath,
} from './parse.js';
import type {
  BatchConfig,
  ConfigProblem,
  HealthspanOptions,
  LogLevel,
  MetricsExporterName,
  OtlpSignalConfig,
  SdkConfig,
} from './types.js';

/** Every instrumentation healthspan knows, by the short name used in OTEL_NODE_*_INSTRUMENTATIONS. */
export const INSTRUMENTATION_NAMES = ['http', 'undici', 'ws', 'socket.io', 'pg', 'mysql2', 'redis', 'ioredis', 'express', 'fastify', 'koa', 'runtime-node'] as const;

const LOG_LEVELS: readonly LogLevel[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];
const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
const LOGS_EXPORTERS = ['otlp', 'console', 'none'] as const;
const METRICS_EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;
const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
const DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container'] as const;
const PROPAGATORS = ['tracecontext', 'baggage', 'none'] as const;
/** Credentials are never recorded, even when listed. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

export interface ResolvedConfig {
  config: SdkConfig;
  problems: ConfigProblem[];
}

export interface ResolveContext {
  /** Folder whose package.json name is the default service name. @default process.cwd() */
  cwd?: string;
}

/** The configuration the environment alone describes. */
export function readConfigFromEnv(env: Record<string, string | undefined>, ctx: ResolveContext = {}): ResolvedConfig {
  return resolveConfig({}, env, ctx);
}

/**
 * Merges defaults, env and `start()` options (options win) into one validated
 * {@link SdkConfig}. Bad values never throw here: each becomes a {@link ConfigProblem}
 * and the default is used; `strict` decides later whether that is fatal.
 */
export function resolveConfig(
  options: HealthspanOptions,
  env: Record<string, string | undefined>,
  ctx: ResolveContext = {},
): ResolvedConfig {
  const r = new SettingReader(env);
  const o = options ?? {};
  const opt = (path: string, value: unknown) => ({ path, value });

  const disabled = r.pick(opt('disabled', o.disabled), ['OTEL_SDK_DISABLED'], parseBool, 'true or false', false);
  const strict = r.pick(opt('strict', o.strict), ['HEALTHSPAN_STRICT'], parseBool, 'true or false', false);
  const logLevel = r.pick(opt('logLevel', o.logLevel), ['OTEL_LOG_LEVEL'], oneOf(LOG_LEVELS), LOG_LEVELS.join('|'), 'info');

  const resourceAttributes = {
    ...r.pick(undefined, ['OTEL_RESOURCE_ATTRIBUTES'], keyValueList, 'key=value pairs separated by commas', {}),
    ...(r.pick(opt('resourceAttributes', o.resourceAttributes), [], keyValueList, 'an object of strings', {}) ?? {}),
  };
  const serviceName = r.pick(
    opt('serviceName', o.serviceName),
    ['OTEL_SERVICE_NAME'],
    nonEmptyString,
    'a non-empty name',
    resourceAttributes['service.name'] ?? packageName(ctx.cwd ?? process.cwd()) ?? 'unknown_service:node',
  );

  const resourceDetectors = r.pick(
    opt('resourceDetectors', o.resourceDetectors),
    ['OTEL_NODE_RESOURCE_DETECTORS'],
    (v) => {
      const list = stringList(v)?.map((s) => s.toLowerCase());
      if (!list) return undefined;
      if (list.includes('none')) return [];
      if (list.includes('all')) return [...DETECTORS];
      return listOf(DETECTORS)(list);
    },
    `a comma list of ${DETECTORS.join(', ')}, all or none; no cloud detector is available`,
    [...DETECTORS],
  );
  const propagators = r.pick(
    opt('propagators', o.propagators),
    ['OTEL_PROPAGATORS'],
    listOf(PROPAGATORS),
    `a comma list of ${PROPAGATORS.join(', ')}`,
    ['tracecontext', 'baggage'],
  );

  const sampler = r.pick(opt('traces.sampler', o.traces?.sampler), ['OTEL_TRACES_SAMPLER'], oneOf(SAMPLERS), SAMPLERS.join('|'), 'parentbased_always_on');
  const samplerArg = r.pick(opt('traces.samplerArg', o.traces?.samplerArg), ['OTEL_TRACES_SAMPLER_ARG'], numberIn(0, 1), 'a number from 0 to 1', 1);

  const metricsExporters = r.pick(
    opt('metrics.exporters', o.metrics?.exporters),
    ['OTEL_METRICS_EXPORTER'],
    listOf(METRICS_EXPORTERS),
    `a comma list of ${METRICS_EXPORTERS.join(', ')}`,
    ['prometheus'] as MetricsExporterName[],
  );

  const tracesExporter = r.pick(opt('traces.exporter', o.traces?.exporter), ['OTEL_TRACES_EXPORTER'], oneOf(TRACES_EXPORTERS), TRACES_EXPORTERS.join('|'), 'otlp');

  const config: SdkConfig = {
    disabled,
    serviceName,
    resourceAttributes,
    resourceDetectors,
    propagators: propagators.includes('none') ? [] : (propagators as SdkConfig['propagators']),
    traces: {
      exporter: tracesExporter,
      otlp: otlpSignal(r, 'traces', o.traces?.otlp),
      sampler,
      samplerArg,
      batch: batchSettings(r, 'traces', 'OTEL_BSP', o.traces?.batch, 5000),
    },
    metrics: {
      exporters: metricsExporters.includes('none') ? [] : metricsExporters,
      otlp: otlpSignal(r, 'metrics', o.metrics?.otlp),
      exportIntervalMillis: r.pick(opt('metrics.exportIntervalMillis', o.metrics?.exportIntervalMillis), ['OTEL_METRIC_EXPORT_INTERVAL'], intIn(100, 86_400_000), 'milliseconds from 100 to 86400000', 60000),
      exportTimeoutMillis: r.pick(opt('metrics.exportTimeoutMillis', o.metrics?.exportTimeoutMillis), ['OTEL_METRIC_EXPORT_TIMEOUT'], intIn(1, 3_600_000), 'milliseconds from 1 to 3600000', 30000),
      durationBuckets: r.pick(opt('metrics.durationBuckets', o.metrics?.durationBuckets), ['HEALTHSPAN_METRICS_DURATION_BUCKETS'], oneOf(['semconv', 'fine'] as const), 'semconv|fine', 'semconv'),
      prometheus: {
        host: r.pick(opt('metrics.prometheus.host', o.metrics?.prometheus?.host), ['HEALTHSPAN_PROMETHEUS_HOST'], hostName, 'a host name or IP address', '127.0.0.1'),
        port: r.pick(opt('metrics.prometheus.port', o.metrics?.prometheus?.port), ['HEALTHSPAN_PROMETHEUS_PORT'], intIn(1, 65535), 'a port from 1 to 65535', 9464),
        path: r.pick(opt('metrics.prometheus.path', o.metrics?.prometheus?.path), ['HEALTHSPAN_PROMETHEUS_PATH'], urlPath, 'a path starting with /', '/metrics'),
        serve: r.pick(opt('metrics.prometheus.serve', o.metrics?.prometheus?.serve), ['HEALTHSPAN_PROMETHEUS_SERVE'], parseBool, 'true or false', true),
      },
    },
    logs: {
      // Alert log records follow the traces by default: a setup that sends traces over OTLP
      // (to a Collector) gets them; one that prints or drops its traces gets none.
      exporter: r.pick(opt('logs.exporter', o.logs?.exporter), ['OTEL_LOGS_EXPORTER'], oneOf(LOGS_EXPORTERS), LOGS_EXPORTERS.join('|'), tracesExporter === 'otlp' ? 'otlp' : 'none'),
      otlp: otlpSignal(r, 'logs', o.logs?.otlp),
      batch: batchSettings(r, 'logs', 'OTEL_BLRP', o.logs?.batch, 1000),
    },
    http: {
      requestHeaders: headerList(r, 'http.requestHeaders', o.http?.requestHeaders, 'HEALTHSPAN_HTTP_REQUEST_HEADERS'),
      responseHeaders: headerList(r, 'http.responseHeaders', o.http?.responseHeaders, 'HEALTHSPAN_HTTP_RESPONSE_HEADERS'),
      routeTemplateLimit: r.pick(opt('http.routeTemplateLimit', o.http?.routeTemplateLimit), ['HEALTHSPAN_HTTP_ROUTE_LIMIT'], intIn(1, 10_000), 'an integer from 1 to 10000', 200),
      redactQueryParams: r.pick(opt('http.redactQueryParams', o.http?.redactQueryParams), ['HEALTHSPAN_REDACT_QUERY_PARAMS'], stringList, 'a comma list of parameter names', []),
    },
    db: {
      sanitize: r.pick(opt('db.sanitize', o.db?.sanitize), ['HEALTHSPAN_DB_SANITIZE'], parseBool, 'true or false', true),
      connectSpans: r.pick(opt('db.connectSpans', o.db?.connectSpans), ['HEALTHSPAN_DB_CONNECT_SPANS'], parseBool, 'true or false', false),
    },
    ws: {
      messageSpans: r.pick(opt('ws.messageSpans', o.ws?.messageSpans), ['HEALTHSPAN_WS_MESSAGE_SPANS'], parseBool, 'true or false', false),
      messageSpansPerConnection: r.pick(opt('ws.messageSpansPerConnection', o.ws?.messageSpansPerConnection), ['HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT'], intIn(0, 1_000_000), 'an integer from 0 to 1000000', 100),
    },
    insight: {
      enabled: r.pick(opt('insight.enabled', o.insight?.enabled), ['HEALTHSPAN_INSIGHT'], parseBool, 'true or false', true),
      slowRequestMs: r.pick(opt('insight.slowRequestMs', o.insight?.slowRequestMs), ['HEALTHSPAN_SLOW_REQUEST_MS'], numberIn(1, 3_600_000), 'milliseconds from 1 to 3600000', 1000),
      slowQueryMs: r.pick(opt('insight.slowQueryMs', o.insight?.slowQueryMs), ['HEALTHSPAN_SLOW_QUERY_MS'], numberIn(1, 3_600_000), 'milliseconds from 1 to 3600000', 100),
      errorRate: r.pick(opt('insight.errorRate', o.insight?.errorRate), ['HEALTHSPAN_ERROR_RATE'], numberIn(0.0001, 1), 'a share from 0.0001 to 1', 0.05),
      intervalMs: r.pick(opt('insight.intervalMs', o.insight?.intervalMs), ['HEALTHSPAN_INSIGHT_INTERVAL_MS'], intIn(100, 600_000), 'milliseconds from 100 to 600000', 5000),
      warmupMs: r.pick(opt('insight.warmupMs', o.insight?.warmupMs), ['HEALTHSPAN_INSIGHT_WARMUP_MS'], intIn(0, 3_600_000), 'milliseconds from 0 to 3600000', 30000),
      healthWeights: r.pick(opt('insight.healthWeights', o.insight?.healthWeights), ['HEALTHSPAN_HEALTH_WEIGHTS'], healthWeights, 'name=weight pairs of responseTime, errors, resources, database, cache, with weights from 0 to 1000', {}),
      apdexMs: r.pick(opt('insight.apdexMs', o.insight?.apdexMs), ['HEALTHSPAN_APDEX_MS'], numberIn(1, 600_000), 'milliseconds from 1 to 600000', 500),
      memoryLimitMb: r.pick(opt('insight.memoryLimitMb', o.insight?.memoryLimitMb), ['HEALTHSPAN_MEMORY_LIMIT_MB'], intIn(16, 4_194_304), 'MiB from 16 to 4194304', undefined as number | undefined),
      webhookUrl: r.pick(opt('insight.webhookUrl', o.insight?.webhookUrl), ['HEALTHSPAN_ALERT_WEBHOOK_URL'], httpUrl, 'an http(s) URL', undefined as string | undefined),
    },
    admin: {
      token: r.pick(opt('admin.token', o.admin?.token), ['HEALTHSPAN_ADMIN_TOKEN'], adminToken, 'a token of 16 to 512 visible ASCII characters without spaces', undefined as string | undefined),
      port: r.pick(opt('admin.port', o.admin?.port), ['HEALTHSPAN_ADMIN_PORT'], intIn(1, 65535), 'a port from 1 to 65535', undefined as number | undefined),
      host: r.pick(opt('admin.host', o.admin?.host), ['HEALTHSPAN_ADMIN_HOST'], hostName, 'a host name or IP address', '127.0.0.1'),
    },
    instrumentations: instrumentationList(r, o.instrumentations),
    logLevel,
    shutdownTimeoutMillis: r.pick(opt('shutdownTimeoutMillis', o.shutdownTimeoutMillis), ['HEALTHSPAN_SHUTDOWN_TIMEOUT'], intIn(0, 600_000), 'milliseconds from 0 to 600000', 5000),
    exitFlushTimeoutMillis: r.pick(opt('exitFlushTimeoutMillis', o.exitFlushTimeoutMillis), ['HEALTHSPAN_EXIT_FLUSH_TIMEOUT'], intIn(0, 60_000), 'milliseconds from 0 to 60000', 1000),
    warnIntervalMillis: r.pick(opt('warnIntervalMillis', o.warnIntervalMillis), ['HEALTHSPAN_WARN_INTERVAL'], intIn(0, 86_400_000), 'milliseconds from 0 to 86400000', 60000),
    strict,
  };
  return { config, problems: r.problems };
}

/**
 * The batch settings of one signal: OTEL_BSP_* for spans, OTEL_BLRP_* for log records, with
 * the same rules and defaults except the delay (the spec's 5000 ms for spans, 1000 ms for logs).
 */
function batchSettings(r: SettingReader, signal: 'traces' | 'logs', prefix: 'OTEL_BSP' | 'OTEL_BLRP', o: Partial<BatchConfig> | undefined, defaultDelay: number): BatchConfig {
  const path = (field: keyof BatchConfig) => ({ path: `${signal}.batch.${field}`, value: o?.[field] });
  const maxQueueSize = r.pick(path('maxQueueSize'), [`${prefix}_MAX_QUEUE_SIZE`], intIn(1, 1_000_000), 'an integer from 1 to 1000000', 2048);
  const batchSizeSet = o?.maxExportBatchSize !== undefined || r.raw(`${prefix}_MAX_EXPORT_BATCH_SIZE`) !== undefined;
  let maxExportBatchSize = r.pick(path('maxExportBatchSize'), [`${prefix}_MAX_EXPORT_BATCH_SIZE`], intIn(1, 1_000_000), 'an integer from 1 to 1000000', 512);
  if (maxExportBatchSize > maxQueueSize) {
    // Only a problem when someone asked for it; the default simply follows a small queue.
    if (batchSizeSet) r.problem(`${prefix}_MAX_EXPORT_BATCH_SIZE`, String(maxExportBatchSize), `at most ${prefix}_MAX_QUEUE_SIZE, which is ${maxQueueSize}`, maxQueueSize);
    maxExportBatchSize = maxQueueSize;
  }
  return {
    scheduledDelayMillis: r.pick(path('scheduledDelayMillis'), [`${prefix}_SCHEDULE_DELAY`], intIn(0, 3_600_000), 'milliseconds from 0 to 3600000', defaultDelay),
    exportTimeoutMillis: r.pick(path('exportTimeoutMillis'), [`${prefix}_EXPORT_TIMEOUT`], intIn(1, 3_600_000), 'milliseconds from 1 to 3600000', 30000),
    maxQueueSize,
    maxExportBatchSize,
  };
}

function otlpSignal(r: SettingReader, signal: 'traces' | 'metrics' | 'logs', o: Partial<OtlpSignalConfig> | undefined): OtlpSignalConfig {
  const SIG = signal.toUpperCase();
  const protocol = r.pick(
    { path: `${signal}.otlp.protocol`, value: o?.protocol },
    [`OTEL_EXPORTER_OTLP_${SIG}_PROTOCOL`, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    oneOf(PROTOCOLS),
    PROTOCOLS.join('|'),
    'http/protobuf',
  );
  const grpc = protocol === 'grpc';
  const base = r.pick(undefined, ['OTEL_EXPORTER_OTLP_ENDPOINT'], httpUrl, 'an http(s) URL', grpc ? 'http://localhost:4317' : 'http://localhost:4318');
  // The spec: a per-signal endpoint is used as is; the base one gets /v1/<signal> appended (HTTP only).
  const fromBase = grpc ? base : `${base.replace(/\/+$/, '')}/v1/${signal}`;
  return {
    endpoint: r.pick({ path: `${signal}.otlp.endpoint`, value: o?.endpoint }, [`OTEL_EXPORTER_OTLP_${SIG}_ENDPOINT`], httpUrl, 'an http(s) URL', fromBase),
    protocol,
    headers: {
      ...r.pick(undefined, ['OTEL_EXPORTER_OTLP_HEADERS'], keyValueList, 'key=value pairs separated by commas', {}),
      ...r.pick(undefined, [`OTEL_EXPORTER_OTLP_${SIG}_HEADERS`], keyValueList, 'key=value pairs separated by commas', {}),
      ...r.pick({ path: `${signal}.otlp.headers`, value: o?.headers }, [], keyValueList, 'an object of strings', {}),
    },
    timeoutMillis: r.pick({ path: `${signal}.otlp.timeoutMillis`, value: o?.timeoutMillis }, [`OTEL_EXPORTER_OTLP_${SIG}_TIMEOUT`, 'OTEL_EXPORTER_OTLP_TIMEOUT'], intIn(1, 600_000), 'milliseconds from 1 to 600000', 10000),
    compression: r.pick({ path: `${signal}.otlp.compression`, value: o?.compression }, [`OTEL_EXPORTER_OTLP_${SIG}_COMPRESSION`, 'OTEL_EXPORTER_OTLP_COMPRESSION'], oneOf(['gzip', 'none'] as const), 'gzip|none', 'none'),
  };
}

function headerList(r: SettingReader, path: string, value: string[] | undefined, envName: string): string[] {
  const list = r.pick({ path, value }, [envName], stringList, 'a comma list of header names', [] as string[]);
  const source = value !== undefined ? `options.${path}` : envName;
  const kept: string[] = [];
  for (const h of list.map((s) => s.toLowerCase())) {
    if (SECRET_HEADERS.has(h)) r.leftOut(source, h, 'a header that is not a credential: credentials are never captured');
    else if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h)) r.leftOut(source, h, 'a valid header name');
    else kept.push(h);
  }
  return kept;
}

function instrumentationList(r: SettingReader, option: string[] | undefined): string[] {
  const all = [...INSTRUMENTATION_NAMES] as string[];
  const known = (names: string[], source: string): string[] =>
    names.filter((n) => {
      if (all.includes(n)) return true;
      r.leftOut(source, n, `one of ${all.join(', ')}`);
      return false;
    });
  if (option !== undefined) {
    if (!Array.isArray(option)) {
      r.problem('options.instrumentations', option, 'an array of instrumentation names', all.join(','));
      return all;
    }
    return known(option.map((s) => String(s).trim().toLowerCase()), 'options.instrumentations');
  }
  const norm = (s: string) => s.toLowerCase().replace(/^@opentelemetry\/instrumentation-/, '');
  const enabledRaw = r.raw('OTEL_NODE_ENABLED_INSTRUMENTATIONS');
  const disabledRaw = r.raw('OTEL_NODE_DISABLED_INSTRUMENTATIONS');
  let enabled = enabledRaw ? known((stringList(enabledRaw) ?? []).map(norm), 'OTEL_NODE_ENABLED_INSTRUMENTATIONS') : all;
  if (disabledRaw) {
    const disabled = known((stringList(disabledRaw) ?? []).map(norm), 'OTEL_NODE_DISABLED_INSTRUMENTATIONS');
    enabled = enabled.filter((n) => !disabled.includes(n));
  }
  return enabled;
}

function packageName(cwd: string): string | undefined {
  try {
    const name = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')).name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Thrown by `start()` under HEALTHSPAN_STRICT=true when the configuration has problems. Its
 * message is the whole report: a header and one line per problem, without the fallbacks (none
 * is used: nothing starts). The preload prints just the message and exits with code 1.
 */
export class ConfigError extends Error {
  declare readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const n = problems.length;
    super(`healthspan: ${n === 1 ? 'a configuration problem' : `${n} configuration problems`} (HEALTHSPAN_STRICT=true), so healthspan did not start:\n${problems.map((p) => `  - ${describeProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
    // Not enumerable: printing the error shows the list once, not again as a `problems: [...]` dump.
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
  }
}
