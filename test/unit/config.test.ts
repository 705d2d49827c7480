import { describe, expect, it } from 'vitest';
import { ConfigError, readConfigFromEnv, resolveConfig } from '../../src/config/env.js';
import { formatProblem } from '../../src/config/parse.js';
import type { SdkConfig } from '../../src/config/types.js';

const ctx = { cwd: '/nonexistent' };
const read = (env: Record<string, string>) => readConfigFromEnv(env, ctx);

describe('defaults', () => {
  it('uses loopback Prometheus, OTLP http/protobuf on localhost and every instrumentation', () => {
    const { config, problems } = read({});
    expect(problems).toEqual([]);
    expect(config.serviceName).toBe('unknown_service:node');
    expect(config.traces.exporter).toBe('otlp');
    expect(config.traces.otlp).toEqual({
      endpoint: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      timeoutMillis: 10000,
      compression: 'none',
    });
    expect(config.metrics.exporters).toEqual(['prometheus']);
    expect(config.metrics.prometheus).toEqual({ host: '127.0.0.1', port: 9464, path: '/metrics', serve: true });
    expect(config.traces.batch).toEqual({ scheduledDelayMillis: 5000, exportTimeoutMillis: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    expect(config.logs).toEqual({
      exporter: 'otlp',
      otlp: { endpoint: 'http://localhost:4318/v1/logs', protocol: 'http/protobuf', headers: {}, timeoutMillis: 10000, compression: 'none' },
      batch: { scheduledDelayMillis: 1000, exportTimeoutMillis: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    });
    expect(config.instrumentations).toEqual([
      'http',
      'undici',
      'ws',
      'socket.io',
      'pg',
      'mysql2',
      'redis',
      'ioredis',
      'express',
      'fastify',
      'koa',
      'runtime-node',
    ]);
    expect(config.ws).toEqual({ messageSpans: false, messageSpansPerConnection: 100 });
    expect(config.insight).toEqual({
      enabled: true,
      slowRequestMs: 1000,
      slowQueryMs: 100,
      errorRate: 0.05,
      intervalMs: 5000,
      warmupMs: 30000,
      healthWeights: {},
      apdexMs: 500,
      memoryLimitMb: undefined,
      webhookUrl: undefined,
    });
    expect(config.db).toEqual({ sanitize: true, connectSpans: false });
    expect(config.resourceDetectors).toEqual(['env', 'host', 'os', 'process', 'serviceinstance', 'container']);
    expect(config.http.requestHeaders).toEqual([]);
    expect(config.strict).toBe(false);
  });
});

// Each row: the env, the path of the value to check, the expected value.
const valid: [Record<string, string>, (c: SdkConfig) => unknown, unknown][] = [
  [{ OTEL_SDK_DISABLED: 'true' }, (c) => c.disabled, true],
  [{ OTEL_SERVICE_NAME: 'checkout' }, (c) => c.serviceName, 'checkout'],
  [
    { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=a%20b' },
    (c) => c.resourceAttributes,
    { 'deployment.environment.name': 'prod', team: 'a b' },
  ],
  [{ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }, (c) => c.serviceName, 'from-attrs'],
  [{ OTEL_TRACES_EXPORTER: 'console' }, (c) => c.traces.exporter, 'console'],
  [{ OTEL_TRACES_EXPORTER: 'none' }, (c) => c.traces.exporter, 'none'],
  [{ OTEL_METRICS_EXPORTER: 'prometheus,otlp' }, (c) => c.metrics.exporters, ['prometheus', 'otlp']],
  [{ OTEL_METRICS_EXPORTER: 'none' }, (c) => c.metrics.exporters, []],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, (c) => c.traces.otlp.endpoint, 'http://collector:4318/v1/traces'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, (c) => c.metrics.otlp.endpoint, 'http://collector:4318/v1/metrics'],
  [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://x.example/custom' }, (c) => c.traces.otlp.endpoint, 'https://x.example/custom'],
  [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, (c) => [c.traces.otlp.protocol, c.traces.otlp.endpoint], ['grpc', 'http://localhost:4317']],
  [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, (c) => c.traces.otlp.endpoint, 'http://c:4317/'],
  [
    { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' },
    (c) => [c.traces.otlp.protocol, c.metrics.otlp.protocol],
    ['http/json', 'grpc'],
  ],
  [{ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc,x-team=core' }, (c) => c.traces.otlp.headers, { 'api-key': 'abc', 'x-team': 'core' }],
  [
    { OTEL_EXPORTER_OTLP_HEADERS: 'a=1', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=2' },
    (c) => [c.traces.otlp.headers, c.metrics.otlp.headers],
    [{ a: '1' }, { a: '2' }],
  ],
  [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, (c) => c.metrics.otlp.timeoutMillis, 2500],
  [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700' }, (c) => c.traces.otlp.timeoutMillis, 700],
  [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, (c) => c.traces.otlp.compression, 'gzip'],
  [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, (c) => [c.traces.sampler, c.traces.samplerArg], ['traceidratio', 0.25]],
  [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,pg' }, (c) => c.instrumentations, ['http', 'pg']],
  [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: '@opentelemetry/instrumentation-http' }, (c) => c.instrumentations, ['http']],
  [
    { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fastify,koa,runtime-node,mysql2,socket.io' },
    (c) => c.instrumentations,
    ['http', 'undici', 'ws', 'pg', 'redis', 'ioredis', 'express'],
  ],
  [{ HEALTHSPAN_WS_MESSAGE_SPANS: 'true' }, (c) => c.ws.messageSpans, true],
  [{ HEALTHSPAN_INSIGHT: 'false' }, (c) => c.insight.enabled, false],
  [{ HEALTHSPAN_SLOW_REQUEST_MS: '250' }, (c) => c.insight.slowRequestMs, 250],
  [{ HEALTHSPAN_SLOW_QUERY_MS: '20' }, (c) => c.insight.slowQueryMs, 20],
  [{ HEALTHSPAN_ERROR_RATE: '0.01' }, (c) => c.insight.errorRate, 0.01],
  [{ HEALTHSPAN_MEMORY_LIMIT_MB: '512' }, (c) => c.insight.memoryLimitMb, 512],
  [{ HEALTHSPAN_HEALTH_WEIGHTS: 'responseTime=50, cache=0' }, (c) => c.insight.healthWeights, { responseTime: 50, cache: 0 }],
  [{}, (c) => c.insight.healthWeights, {}],
  [{ HEALTHSPAN_APDEX_MS: '250' }, (c) => c.insight.apdexMs, 250],
  [{}, (c) => c.insight.memoryLimitMb, undefined],
  [{ HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT: '10' }, (c) => c.ws.messageSpansPerConnection, 10],
  [{ HEALTHSPAN_DB_SANITIZE: 'false' }, (c) => c.db.sanitize, false],
  [{ HEALTHSPAN_DB_CONNECT_SPANS: 'true' }, (c) => c.db.connectSpans, true],
  [{ OTEL_NODE_RESOURCE_DETECTORS: 'none' }, (c) => c.resourceDetectors, []],
  [{ OTEL_NODE_RESOURCE_DETECTORS: 'host,process' }, (c) => c.resourceDetectors, ['host', 'process']],
  [{ OTEL_NODE_RESOURCE_DETECTORS: 'all' }, (c) => c.resourceDetectors, ['env', 'host', 'os', 'process', 'serviceinstance', 'container']],
  [{ OTEL_LOG_LEVEL: 'DEBUG' }, (c) => c.logLevel, 'debug'],
  [{ OTEL_PROPAGATORS: 'tracecontext' }, (c) => c.propagators, ['tracecontext']],
  [{ OTEL_PROPAGATORS: 'none' }, (c) => c.propagators, []],
  [{ OTEL_BSP_SCHEDULE_DELAY: '100' }, (c) => c.traces.batch.scheduledDelayMillis, 100],
  [{ OTEL_BSP_EXPORT_TIMEOUT: '1000' }, (c) => c.traces.batch.exportTimeoutMillis, 1000],
  [{ OTEL_BSP_MAX_QUEUE_SIZE: '100' }, (c) => c.traces.batch.maxQueueSize, 100],
  [{ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50' }, (c) => c.traces.batch.maxExportBatchSize, 50],
  [{ OTEL_METRIC_EXPORT_INTERVAL: '1000' }, (c) => c.metrics.exportIntervalMillis, 1000],
  [{ OTEL_METRIC_EXPORT_TIMEOUT: '500' }, (c) => c.metrics.exportTimeoutMillis, 500],
  [{ HEALTHSPAN_PROMETHEUS_HOST: '0.0.0.0' }, (c) => c.metrics.prometheus.host, '0.0.0.0'],
  [{ HEALTHSPAN_PROMETHEUS_PORT: '9999' }, (c) => c.metrics.prometheus.port, 9999],
  [{ HEALTHSPAN_PROMETHEUS_PATH: '/internal/metrics' }, (c) => c.metrics.prometheus.path, '/internal/metrics'],
  [{ HEALTHSPAN_PROMETHEUS_SERVE: 'false' }, (c) => c.metrics.prometheus.serve, false],
  [{ HEALTHSPAN_HTTP_REQUEST_HEADERS: 'X-Request-Id, user-agent' }, (c) => c.http.requestHeaders, ['x-request-id', 'user-agent']],
  [{ HEALTHSPAN_HTTP_RESPONSE_HEADERS: 'content-type' }, (c) => c.http.responseHeaders, ['content-type']],
  [{ HEALTHSPAN_HTTP_ROUTE_LIMIT: '50' }, (c) => c.http.routeTemplateLimit, 50],
  [{ HEALTHSPAN_REDACT_QUERY_PARAMS: 'email,phone' }, (c) => c.http.redactQueryParams, ['email', 'phone']],
  [{ HEALTHSPAN_SHUTDOWN_TIMEOUT: '2000' }, (c) => c.shutdownTimeoutMillis, 2000],
  [{ HEALTHSPAN_EXIT_FLUSH_TIMEOUT: '250' }, (c) => c.exitFlushTimeoutMillis, 250],
  [{}, (c) => c.exitFlushTimeoutMillis, 1000],
  [{ HEALTHSPAN_WARN_INTERVAL: '1000' }, (c) => c.warnIntervalMillis, 1000],
  [{ HEALTHSPAN_STRICT: 'true' }, (c) => c.strict, true],
  // logs: the exporter follows the traces unless set
  [{ OTEL_LOGS_EXPORTER: 'console' }, (c) => c.logs.exporter, 'console'],
  [{ OTEL_LOGS_EXPORTER: 'NONE' }, (c) => c.logs.exporter, 'none'],
  [{ OTEL_TRACES_EXPORTER: 'none' }, (c) => c.logs.exporter, 'none'],
  [{ OTEL_TRACES_EXPORTER: 'console' }, (c) => c.logs.exporter, 'none'],
  [{ OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'otlp' }, (c) => [c.traces.exporter, c.logs.exporter], ['none', 'otlp']],
  [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'none' }, (c) => [c.traces.exporter, c.logs.exporter], ['otlp', 'none']],
  // logs: OTLP settings, per-signal first, then the shared ones, like traces and metrics
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, (c) => c.logs.otlp.endpoint, 'http://collector:4318/v1/logs'],
  [
    { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example/ingest', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
    (c) => [c.logs.otlp.endpoint, c.traces.otlp.endpoint],
    ['https://logs.example/ingest', 'http://collector:4318/v1/traces'],
  ],
  [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, (c) => [c.logs.otlp.protocol, c.logs.otlp.endpoint], ['grpc', 'http://localhost:4317']],
  [
    { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' },
    (c) => [c.traces.otlp.protocol, c.logs.otlp.protocol],
    ['http/json', 'grpc'],
  ],
  [
    { OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'a=3' },
    (c) => [c.traces.otlp.headers, c.logs.otlp.headers],
    [
      { a: '1', b: '2' },
      { a: '3', b: '2' },
    ],
  ],
  [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, (c) => c.logs.otlp.timeoutMillis, 2500],
  [
    { OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '700' },
    (c) => [c.traces.otlp.timeoutMillis, c.logs.otlp.timeoutMillis],
    [2500, 700],
  ],
  [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, (c) => c.logs.otlp.compression, 'gzip'],
  [{ OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'gzip' }, (c) => [c.traces.otlp.compression, c.logs.otlp.compression], ['none', 'gzip']],
  // logs: OTEL_BLRP_*, independent of OTEL_BSP_*
  [{ OTEL_BLRP_SCHEDULE_DELAY: '200' }, (c) => [c.logs.batch.scheduledDelayMillis, c.traces.batch.scheduledDelayMillis], [200, 5000]],
  [{ OTEL_BLRP_EXPORT_TIMEOUT: '1000' }, (c) => c.logs.batch.exportTimeoutMillis, 1000],
  [{ OTEL_BLRP_MAX_QUEUE_SIZE: '100' }, (c) => [c.logs.batch.maxQueueSize, c.logs.batch.maxExportBatchSize, c.traces.batch.maxQueueSize], [100, 100, 2048]],
  [{ OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '50' }, (c) => c.logs.batch.maxExportBatchSize, 50],
  [{ OTEL_BSP_MAX_QUEUE_SIZE: '100' }, (c) => c.logs.batch.maxQueueSize, 2048],
];

describe('valid values', () => {
  it.each(
    valid.map(
      ([env, get, want]) =>
        [
          Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
          env,
          get,
          want,
        ] as const,
    ),
  )('%s', (_name, env, get, want) => {
    const { config, problems } = read(env);
    expect(problems).toEqual([]);
    expect(get(config)).toEqual(want);
  });
});

// Each row: the env, the exact problem line, and the value used instead.
const invalid: [Record<string, string>, string, (c: SdkConfig) => unknown, unknown][] = [
  [{ OTEL_SDK_DISABLED: 'maybe' }, 'OTEL_SDK_DISABLED="maybe" is invalid (expected true or false); using false', (c) => c.disabled, false],
  [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER="zipkin" is invalid (expected otlp|console|none); using otlp', (c) => c.traces.exporter, 'otlp'],
  [
    { OTEL_METRICS_EXPORTER: 'prometheus,statsd' },
    'OTEL_METRICS_EXPORTER="prometheus,statsd" is invalid (expected a comma list of prometheus, otlp, console, none); using prometheus',
    (c) => c.metrics.exporters,
    ['prometheus'],
  ],
  [
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
    'OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is invalid (expected an http(s) URL); using http://localhost:4318',
    (c) => c.traces.otlp.endpoint,
    'http://localhost:4318/v1/traces',
  ],
  [
    { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' },
    'OTEL_EXPORTER_OTLP_PROTOCOL="http/xml" is invalid (expected http/protobuf|http/json|grpc); using http/protobuf',
    (c) => c.traces.otlp.protocol,
    'http/protobuf',
  ],
  [
    { OTEL_EXPORTER_OTLP_HEADERS: 'novalue' },
    // Header values are credentials: a malformed list is not echoed.
    'OTEL_EXPORTER_OTLP_HEADERS=<7 characters, not shown> is invalid (expected key=value pairs separated by commas); using none',
    (c) => c.traces.otlp.headers,
    {},
  ],
  [
    { OTEL_EXPORTER_OTLP_TIMEOUT: '-5' },
    'OTEL_EXPORTER_OTLP_TIMEOUT="-5" is invalid (expected milliseconds from 1 to 600000); using 10000',
    (c) => c.traces.otlp.timeoutMillis,
    10000,
  ],
  [
    { OTEL_TRACES_SAMPLER: 'sometimes' },
    'OTEL_TRACES_SAMPLER="sometimes" is invalid (expected always_on|always_off|traceidratio|parentbased_always_on|parentbased_always_off|parentbased_traceidratio); using parentbased_always_on',
    (c) => c.traces.sampler,
    'parentbased_always_on',
  ],
  [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG="1.5" is invalid (expected a number from 0 to 1); using 1', (c) => c.traces.samplerArg, 1],
  [
    { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,mongodb' },
    'OTEL_NODE_ENABLED_INSTRUMENTATIONS="mongodb" is invalid (expected one of http, undici, ws, socket.io, pg, mysql2, redis, ioredis, express, fastify, koa, runtime-node); it is left out',
    (c) => c.instrumentations,
    ['http'],
  ],
  [
    { OTEL_NODE_RESOURCE_DETECTORS: 'host,aws' },
    'OTEL_NODE_RESOURCE_DETECTORS="host,aws" is invalid (expected a comma list of env, host, os, process, serviceinstance, container, all or none; no cloud detector is available); using env,host,os,process,serviceinstance,container',
    (c) => c.resourceDetectors,
    ['env', 'host', 'os', 'process', 'serviceinstance', 'container'],
  ],
  [{ OTEL_LOG_LEVEL: 'loud' }, 'OTEL_LOG_LEVEL="loud" is invalid (expected none|error|warn|info|debug|verbose|all); using info', (c) => c.logLevel, 'info'],
  [
    { OTEL_BSP_MAX_QUEUE_SIZE: 'abc' },
    'OTEL_BSP_MAX_QUEUE_SIZE="abc" is invalid (expected an integer from 1 to 1000000); using 2048',
    (c) => c.traces.batch.maxQueueSize,
    2048,
  ],
  [
    { OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500' },
    'OTEL_BSP_MAX_EXPORT_BATCH_SIZE="500" is invalid (expected at most OTEL_BSP_MAX_QUEUE_SIZE, which is 100); using 100',
    (c) => c.traces.batch.maxExportBatchSize,
    100,
  ],
  [
    { OTEL_BSP_SCHEDULE_DELAY: '1.5' },
    'OTEL_BSP_SCHEDULE_DELAY="1.5" is invalid (expected milliseconds from 0 to 3600000); using 5000',
    (c) => c.traces.batch.scheduledDelayMillis,
    5000,
  ],
  [
    { OTEL_METRIC_EXPORT_INTERVAL: '10' },
    'OTEL_METRIC_EXPORT_INTERVAL="10" is invalid (expected milliseconds from 100 to 86400000); using 60000',
    (c) => c.metrics.exportIntervalMillis,
    60000,
  ],
  [
    { HEALTHSPAN_PROMETHEUS_PORT: '70000' },
    'HEALTHSPAN_PROMETHEUS_PORT="70000" is invalid (expected a port from 1 to 65535); using 9464',
    (c) => c.metrics.prometheus.port,
    9464,
  ],
  [
    { HEALTHSPAN_PROMETHEUS_HOST: 'bad host!' },
    'HEALTHSPAN_PROMETHEUS_HOST="bad host!" is invalid (expected a host name or IP address); using 127.0.0.1',
    (c) => c.metrics.prometheus.host,
    '127.0.0.1',
  ],
  [
    { HEALTHSPAN_PROMETHEUS_PATH: 'metrics' },
    'HEALTHSPAN_PROMETHEUS_PATH="metrics" is invalid (expected a path starting with /); using /metrics',
    (c) => c.metrics.prometheus.path,
    '/metrics',
  ],
  [
    { HEALTHSPAN_HTTP_REQUEST_HEADERS: 'x-id,Authorization' },
    'HEALTHSPAN_HTTP_REQUEST_HEADERS="authorization" is invalid (expected a header that is not a credential: credentials are never captured); it is left out',
    (c) => c.http.requestHeaders,
    ['x-id'],
  ],
  [
    { HEALTHSPAN_HTTP_RESPONSE_HEADERS: 'set-cookie' },
    'HEALTHSPAN_HTTP_RESPONSE_HEADERS="set-cookie" is invalid (expected a header that is not a credential: credentials are never captured); it is left out',
    (c) => c.http.responseHeaders,
    [],
  ],
  [
    { HEALTHSPAN_HTTP_ROUTE_LIMIT: '0' },
    'HEALTHSPAN_HTTP_ROUTE_LIMIT="0" is invalid (expected an integer from 1 to 10000); using 200',
    (c) => c.http.routeTemplateLimit,
    200,
  ],
  [
    { HEALTHSPAN_SHUTDOWN_TIMEOUT: 'soon' },
    'HEALTHSPAN_SHUTDOWN_TIMEOUT="soon" is invalid (expected milliseconds from 0 to 600000); using 5000',
    (c) => c.shutdownTimeoutMillis,
    5000,
  ],
  [
    { HEALTHSPAN_EXIT_FLUSH_TIMEOUT: '90000' },
    'HEALTHSPAN_EXIT_FLUSH_TIMEOUT="90000" is invalid (expected milliseconds from 0 to 60000); using 1000',
    (c) => c.exitFlushTimeoutMillis,
    1000,
  ],
  [{ HEALTHSPAN_DB_SANITIZE: 'nope' }, 'HEALTHSPAN_DB_SANITIZE="nope" is invalid (expected true or false); using true', (c) => c.db.sanitize, true],
  [
    { HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT: '-1' },
    'HEALTHSPAN_WS_MESSAGE_SPAN_LIMIT="-1" is invalid (expected an integer from 0 to 1000000); using 100',
    (c) => c.ws.messageSpansPerConnection,
    100,
  ],
  [{ HEALTHSPAN_ERROR_RATE: '5%' }, 'HEALTHSPAN_ERROR_RATE="5%" is invalid (expected a share from 0.0001 to 1); using 0.05', (c) => c.insight.errorRate, 0.05],
  [
    { HEALTHSPAN_HEALTH_WEIGHTS: 'latency=30' },
    'HEALTHSPAN_HEALTH_WEIGHTS="latency=30" is invalid (expected name=weight pairs of responseTime, errors, resources, database, cache, with weights from 0 to 1000); using none',
    (c) => c.insight.healthWeights,
    {},
  ],
  [
    { HEALTHSPAN_HEALTH_WEIGHTS: 'errors=-1' },
    'HEALTHSPAN_HEALTH_WEIGHTS="errors=-1" is invalid (expected name=weight pairs of responseTime, errors, resources, database, cache, with weights from 0 to 1000); using none',
    (c) => c.insight.healthWeights,
    {},
  ],
  [{ HEALTHSPAN_APDEX_MS: '0' }, 'HEALTHSPAN_APDEX_MS="0" is invalid (expected milliseconds from 1 to 600000); using 500', (c) => c.insight.apdexMs, 500],
  [
    { HEALTHSPAN_MEMORY_LIMIT_MB: '1g' },
    'HEALTHSPAN_MEMORY_LIMIT_MB="1g" is invalid (expected MiB from 16 to 4194304); using none (the default)',
    (c) => c.insight.memoryLimitMb,
    undefined,
  ],
  [{ OTEL_LOGS_EXPORTER: 'loki' }, 'OTEL_LOGS_EXPORTER="loki" is invalid (expected otlp|console|none); using otlp', (c) => c.logs.exporter, 'otlp'],
  [
    { OTEL_LOGS_EXPORTER: 'otlp,console' },
    'OTEL_LOGS_EXPORTER="otlp,console" is invalid (expected otlp|console|none); using otlp',
    (c) => c.logs.exporter,
    'otlp',
  ],
  [
    { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'loki' },
    'OTEL_LOGS_EXPORTER="loki" is invalid (expected otlp|console|none); using none',
    (c) => c.logs.exporter,
    'none',
  ],
  [
    { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'collector:4318/v1/logs' },
    'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT="collector:4318/v1/logs" is invalid (expected an http(s) URL); using http://localhost:4318/v1/logs',
    (c) => c.logs.otlp.endpoint,
    'http://localhost:4318/v1/logs',
  ],
  [
    { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'udp' },
    'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL="udp" is invalid (expected http/protobuf|http/json|grpc); using http/protobuf',
    (c) => c.logs.otlp.protocol,
    'http/protobuf',
  ],
  [
    { OTEL_EXPORTER_OTLP_LOGS_HEADERS: '=x' },
    'OTEL_EXPORTER_OTLP_LOGS_HEADERS=<2 characters, not shown> is invalid (expected key=value pairs separated by commas); using none',
    (c) => c.logs.otlp.headers,
    {},
  ],
  [
    { OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '0' },
    'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT="0" is invalid (expected milliseconds from 1 to 600000); using 10000',
    (c) => c.logs.otlp.timeoutMillis,
    10000,
  ],
  [
    { OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'zstd' },
    'OTEL_EXPORTER_OTLP_LOGS_COMPRESSION="zstd" is invalid (expected gzip|none); using none',
    (c) => c.logs.otlp.compression,
    'none',
  ],
  // A shared variable is read for every signal but reported once.
  [
    { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' },
    'OTEL_EXPORTER_OTLP_COMPRESSION="brotli" is invalid (expected gzip|none); using none',
    (c) => [c.traces.otlp.compression, c.metrics.otlp.compression, c.logs.otlp.compression],
    ['none', 'none', 'none'],
  ],
  [
    { OTEL_BLRP_SCHEDULE_DELAY: '1.5' },
    'OTEL_BLRP_SCHEDULE_DELAY="1.5" is invalid (expected milliseconds from 0 to 3600000); using 1000',
    (c) => c.logs.batch.scheduledDelayMillis,
    1000,
  ],
  [
    { OTEL_BLRP_EXPORT_TIMEOUT: '0' },
    'OTEL_BLRP_EXPORT_TIMEOUT="0" is invalid (expected milliseconds from 1 to 3600000); using 30000',
    (c) => c.logs.batch.exportTimeoutMillis,
    30000,
  ],
  [
    { OTEL_BLRP_MAX_QUEUE_SIZE: 'lots' },
    'OTEL_BLRP_MAX_QUEUE_SIZE="lots" is invalid (expected an integer from 1 to 1000000); using 2048',
    (c) => c.logs.batch.maxQueueSize,
    2048,
  ],
  [
    { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '-1' },
    'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE="-1" is invalid (expected an integer from 1 to 1000000); using 512',
    (c) => c.logs.batch.maxExportBatchSize,
    512,
  ],
  [
    { OTEL_BLRP_MAX_QUEUE_SIZE: '100', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '500' },
    'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE="500" is invalid (expected at most OTEL_BLRP_MAX_QUEUE_SIZE, which is 100); using 100',
    (c) => c.logs.batch.maxExportBatchSize,
    100,
  ],
  [{ HEALTHSPAN_STRICT: 'yes please' }, 'HEALTHSPAN_STRICT="yes please" is invalid (expected true or false); using false', (c) => c.strict, false],
];

describe('invalid values name the variable, the value and the default used', () => {
  it.each(
    invalid.map(
      ([env, line, get, used]) =>
        [
          Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
          env,
          line,
          get,
          used,
        ] as const,
    ),
  )('%s', (_name, env, line, get, used) => {
    const { config, problems } = read(env);
    expect(problems.map(formatProblem)).toEqual([line]);
    expect(get(config)).toEqual(used);
  });
});

describe('start() options', () => {
  it('override env values', () => {
    const { config, problems } = resolveConfig(
      { serviceName: 'from-code', traces: { exporter: 'none', batch: { maxQueueSize: 10, maxExportBatchSize: 5 } }, metrics: { prometheus: { port: 9999 } } },
      { OTEL_SERVICE_NAME: 'from-env', OTEL_TRACES_EXPORTER: 'console', HEALTHSPAN_PROMETHEUS_PORT: '1234' },
      ctx,
    );
    expect(problems).toEqual([]);
    expect(config.serviceName).toBe('from-code');
    expect(config.traces.exporter).toBe('none');
    expect(config.traces.batch.maxQueueSize).toBe(10);
    expect(config.metrics.prometheus.port).toBe(9999);
  });

  it('are validated by the same rules and named by their path', () => {
    const { config, problems } = resolveConfig(
      { metrics: { prometheus: { port: -1 } }, traces: { sampler: 'often' as never }, instrumentations: ['http', 'nope'] },
      { HEALTHSPAN_PROMETHEUS_PORT: '1234' },
      ctx,
    );
    expect(problems.map(formatProblem)).toEqual([
      'options.traces.sampler="often" is invalid (expected always_on|always_off|traceidratio|parentbased_always_on|parentbased_always_off|parentbased_traceidratio); using parentbased_always_on',
      // The env var stands in for the bad option: the warning names the value really used.
      'options.metrics.prometheus.port=-1 is invalid (expected a port from 1 to 65535); using 1234',
      'options.instrumentations="nope" is invalid (expected one of http, undici, ws, socket.io, pg, mysql2, redis, ioredis, express, fastify, koa, runtime-node); it is left out',
    ]);
    // A bad option falls back to env, not straight to the default.
    expect(config.metrics.prometheus.port).toBe(1234);
    expect(config.instrumentations).toEqual(['http']);
  });

  it('set the logs section, validated and named by their path', () => {
    const { config, problems } = resolveConfig(
      { logs: { exporter: 'console', otlp: { protocol: 'grpc' }, batch: { maxQueueSize: 10, scheduledDelayMillis: -1 } } },
      { OTEL_LOGS_EXPORTER: 'otlp', OTEL_BLRP_SCHEDULE_DELAY: '300' },
      ctx,
    );
    expect(problems.map(formatProblem)).toEqual(['options.logs.batch.scheduledDelayMillis=-1 is invalid (expected milliseconds from 0 to 3600000); using 300']);
    expect(config.logs.exporter).toBe('console');
    expect(config.logs.otlp).toMatchObject({ protocol: 'grpc', endpoint: 'http://localhost:4317' });
    expect(config.logs.batch).toEqual({ scheduledDelayMillis: 300, exportTimeoutMillis: 30000, maxQueueSize: 10, maxExportBatchSize: 10 });
    // traces.exporter from code decides the default just as the env var does
    expect(resolveConfig({ traces: { exporter: 'none' } }, {}, ctx).config.logs.exporter).toBe('none');
  });

  it('ConfigError lists every problem for strict mode, without the fallbacks', () => {
    const { problems } = read({ OTEL_BSP_MAX_QUEUE_SIZE: 'abc', OTEL_LOG_LEVEL: 'loud', HEALTHSPAN_HTTP_REQUEST_HEADERS: 'cookie' });
    const err = new ConfigError(problems);
    expect(err.message).toBe(
      'healthspan: 3 configuration problems (HEALTHSPAN_STRICT=true), so healthspan did not start:\n' +
        '  - OTEL_LOG_LEVEL="loud" is invalid (expected none|error|warn|info|debug|verbose|all)\n' +
        '  - OTEL_BSP_MAX_QUEUE_SIZE="abc" is invalid (expected an integer from 1 to 1000000)\n' +
        '  - HEALTHSPAN_HTTP_REQUEST_HEADERS="cookie" is invalid (expected a header that is not a credential: credentials are never captured)',
    );
    expect(err.problems).toBe(problems);
    expect(Object.keys(err)).not.toContain('problems'); // printed once, in the message
    expect(new ConfigError(problems.slice(0, 1)).message).toMatch(/^healthspan: a configuration problem \(HEALTHSPAN_STRICT=true\), so/);
  });
});
