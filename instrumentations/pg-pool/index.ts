export { PgPoolInstrumentation, poolName } from './instrumentation.js';
export type { PgPoolInstrumentationConfig } from './types.js';
