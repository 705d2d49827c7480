export { WsInstrumentation } from './instrumentation.js';
export type { WsInstrumentationConfig } from './types.js';
