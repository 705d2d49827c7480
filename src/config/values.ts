// The closed sets of values a setting accepts. Each is written here once: the unions in
// types.ts are derived from these arrays, and the parsers, warnings and docs list them.

export const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
export const METRICS_EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;
export const LOGS_EXPORTERS = ['otlp', 'console', 'none'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export const OTLP_COMPRESSIONS = ['gzip', 'none'] as const;
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;
/** Local resource detectors only: none of them makes a network call. */
export const RESOURCE_DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container'] as const;
export const PROPAGATORS = ['tracecontext', 'baggage', 'none'] as const;
export const DURATION_BUCKETS = ['semconv', 'fine'] as const;
export const HEALTH_COMPONENTS = ['responseTime', 'errors', 'resources', 'database', 'cache'] as const;

/**
 * Every instrumentation healthspan knows, by the short name used in
 * OTEL_NODE_*_INSTRUMENTATIONS; the order is the default order. src/instrumentations.ts
 * declares its registry against this list, so a name without a factory (or the reverse) does
 * not compile.
 */
export const INSTRUMENTATION_NAMES = [
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
] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

/** Credentials are never recorded, even when listed. */
export const SECRET_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'];
