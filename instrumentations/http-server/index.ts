export { HttpServerInstrumentation } from './instrumentation.js';
export type { HttpServerInstrumentationConfig } from './types.js';
