import type { Resource } from '@opentelemetry/resources';
import type { LoggerProvider, LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogsConfig } from '../config/types.js';
import type { DropCounter } from '../exporters/dropped.js';
import { ExportLogRecordProcessor } from '../exporters/log-processor.js';
import { createOtlpLogExporter } from '../exporters/otlp.js';
import type { Logger } from '../log.js';
import { optionalExporter } from './optional-exporter.js';

/**
 * The LoggerProvider of the alert log records, or undefined with OTEL_LOGS_EXPORTER=none.
 * Held privately: setting it as the global one would let other libraries' log bridges
 * send the app's logs through it, which healthspan does not offer to do.
 */
export function buildLoggerProvider(c: LogsConfig, resource: Resource, o: { dropped: DropCounter; log: Logger }): LoggerProvider | undefined {
  if (c.exporter !== 'otlp' && c.exporter !== 'console') return undefined;
  // Required here, not imported: with OTEL_LOGS_EXPORTER=none nothing loads the logs SDK
  // (dist/vendor/logs.cjs, tsup.config.ts CHUNKS).
  const {
    ConsoleLogRecordExporter,
    LoggerProvider: Provider,
    SimpleLogRecordProcessor,
  } = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
  let processor: LogRecordProcessor;
  if (c.exporter === 'otlp') {
    // Alert log records are an extra channel: without them, traces and metrics still run.
    const exporter = optionalExporter(o.log, 'log', () => createOtlpLogExporter(c.otlp), 'alert log records are off');
    if (!exporter) return undefined;
    processor = new ExportLogRecordProcessor({ ...c.batch, exporter, dropped: o.dropped, log: o.log, destination: c.otlp.endpoint });
  } else {
    processor = new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() });
  }
  return new Provider({ resource, processors: [processor] });
}
