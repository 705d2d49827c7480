export { start, shutdown, getSdk, createPrometheusHandler, type Healthspan, type StartContext } from './sdk.js';
export { readConfigFromEnv, resolveConfig, ConfigError, INSTRUMENTATION_NAMES } from './config/env.js';
export type * from './config/types.js';
export { preload, preloadSync } from './preload.js';
export { templatePath, RouteTemplater, OTHER_ROUTE } from './http/route.js';
export { createQueryRedactor } from './http/redact.js';
export { ExportSpanProcessor, type ExportSpanProcessorOptions } from './exporters/span-processor.js';
export { DropCounter } from './exporters/dropped.js';
export { METRIC_EXPORTER_DROPPED, METRIC_HTTP_ROUTES_FOLDED, VERSION } from './semconv.js';
