import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { BatchQueue, type ExportProcessorOptions } from './batch-queue.js';

export type ExportLogRecordProcessorOptions = ExportProcessorOptions<LogRecordExporter>;

/**
 * Batches log records for one exporter with the same guarantees as the span export
 * (bounded queue, drops counted in `healthspan.exporter.dropped{signal="logs"}`, rate-limited
 * warnings, one export at a time, unref'd timers, tracing suppressed). The SDK's
 * BatchLogRecordProcessor reports a full queue and a failed export only to its own
 * self-observability meter and the global error handler, so it is not used.
 */
export class ExportLogRecordProcessor implements LogRecordProcessor {
  private readonly batches: BatchQueue<ReadableLogRecord>;

  constructor(o: ExportLogRecordProcessorOptions) {
    this.batches = new BatchQueue<ReadableLogRecord>({
      ...o,
      signal: 'logs',
      wording: { item: 'log record', items: 'log records', export: 'log', queueVariable: 'OTEL_BLRP_MAX_QUEUE_SIZE' },
    });
  }

  onEmit(logRecord: ReadWriteLogRecord): void {
    this.batches.add(logRecord);
  }

  /** Exports everything queued now (in batches), resolving when done; never rejects. */
  forceFlush(): Promise<void> {
    return this.batches.flush();
  }

  shutdown(): Promise<void> {
    return this.batches.shutdown();
  }

  get queued(): number {
    return this.batches.queued;
  }
}
