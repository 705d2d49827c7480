import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { BatchQueue, type ExportProcessorOptions } from './batch-queue.js';

export { describe } from './batch-queue.js';

export type ExportSpanProcessorOptions = ExportProcessorOptions<SpanExporter>;

/**
 * Batches sampled spans for one exporter, like the SDK's BatchSpanProcessor, with the
 * guarantees healthspan promises: the queue is bounded, everything that does not reach
 * the exporter (queue full, failed or timed-out export) is counted in a {@link DropCounter},
 * failures are reported through a rate-limited warning, only one export runs at a time,
 * timers never keep the process alive, and exports run with tracing suppressed.
 */
export class ExportSpanProcessor implements SpanProcessor {
  private readonly batches: BatchQueue<ReadableSpan>;

  constructor(o: ExportSpanProcessorOptions) {
    this.batches = new BatchQueue<ReadableSpan>({
      ...o,
      signal: 'traces',
      wording: { item: 'span', items: 'spans', export: 'trace', queueVariable: 'OTEL_BSP_MAX_QUEUE_SIZE' },
    });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.batches.add(span);
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
