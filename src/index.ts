// The public API: what the docs show users importing. Everything else in src/ is internal.
export {
  start,
  shutdown,
  getSdk,
  getHealth,
  getAlerts,
  getRoutes,
  getQueries,
  getInsightStats,
  onAlert,
  setThresholds,
  createAdminHandler,
  createPrometheusHandler,
} from './sdk/facade.js';
export type { Healthspan, StartContext, StartOptions, PipelineExtensions } from './sdk/types.js';
export type * from './config/types.js';
export { readConfigFromEnv, ConfigError, type ResolvedConfig, type ResolveContext } from './config/env.js';
export type { InsightHealth, InsightThresholds } from './insight/processor.js';
// docs/health-score.md offers computeHealth's maxAboveWorst option.
export { computeHealth, type HealthReport, type HealthOptions, type HealthInput } from './insight/health.js';
export type { LatencyStats, RouteStats, QueryStats, CacheHitStats } from './insight/figures.js';
export type { InsightBounds } from './insight/collectors.js';
export type { Alert, AlertRule, Severity, Transition } from './insight/alerts.js';
export type { AdminHandler, AdminHandlerOptions } from './admin/handler.js';
export {
  createCache,
  TracedCache,
  type CacheOptions,
  type CacheStats,
  type SetOptions,
  type WrapOptions,
  type EvictionReason,
  type BreakerState,
} from './cache/index.js';
export { WsInstrumentation, type WsInstrumentationConfig } from '../instrumentations/ws/index.js';
export { sanitizeSql, type SanitizeOptions, type SqlDialect } from './db/sanitize.js';
export { summarizeSql, type SummarizeOptions, type QuerySummary } from './db/summary.js';
/**
 * @internal What `healthspan/register` runs (src/register/), through this bundle so that the
 * app's own `import 'healthspan'` gets the same instance. Not for apps.
 */
export { preload, preloadSync } from './preload.js';
