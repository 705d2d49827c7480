export { withExpressNext, type ExpressInstrumentationClass } from './instrumentation.js';
