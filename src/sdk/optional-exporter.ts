import type { Logger } from '../log.js';

/** An OTLP exporter, or undefined (said once) when its package cannot be loaded: the app runs on without that signal. */
export function optionalExporter<T>(log: Logger, signal: string, create: () => T, consequence = `${signal}s are not exported`): T | undefined {
  try {
    return create();
  } catch (err) {
    log.warnOnce(`the OTLP ${signal} exporter could not be loaded: ${(err as Error).message}; ${consequence}`);
    return undefined;
  }
}
