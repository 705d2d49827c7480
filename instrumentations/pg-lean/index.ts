export { withoutPgMetrics, type PgInstrumentationClass } from './instrumentation.js';
