export { withKoaUseValidation, type KoaInstrumentationClass } from './instrumentation.js';
