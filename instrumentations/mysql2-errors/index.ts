export { withMysqlErrorCodes, type MySQL2InstrumentationClass } from './instrumentation.js';
