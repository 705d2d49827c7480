import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { BatchQueue, type BatchExporter, type ExportProcessorOptions } from './batch-queue.js';
import { encodeSpan, type TraceItem } from './otlp-trace-encoder.js';

export { describe } from './batch-queue.js';

export interface ExportSpanProcessorOptions extends ExportProcessorOptions<SpanExporter> {
  /**
   * The exporter's serializer takes spans encoded as they end (`encodeSpan`): healthspan's
   * OTLP http/protobuf exporter does. The queue then holds bytes instead of span objects.
   */
  encodesAtEnd?: boolean;
}

/**
 * Batches sampled spans for one exporter, like the SDK's BatchSpanProcessor, with the
 * guarantees healthspan promises: the queue is bounded, everything that does not reach
 * the exporter (queue full, failed or timed-out export) is counted in a {@link DropCounter},
 * failures are reported through a rate-limited warning, only one export runs at a time,
 * timers never keep the process alive, and exports run with tracing suppressed.
 */
export class ExportSpanProcessor implements SpanProcessor {
  private readonly batches: BatchQueue<TraceItem>;
  private readonly encodesAtEnd: boolean;

  constructor({ encodesAtEnd = false, ...o }: ExportSpanProcessorOptions) {
    this.encodesAtEnd = encodesAtEnd;
    this.batches = new BatchQueue<TraceItem>({
      ...o,
      // Items are ReadableSpans, or EncodedSpans when the exporter's serializer takes them.
      exporter: o.exporter as unknown as BatchExporter<TraceItem>,
      signal: 'traces',
      wording: { item: 'span', items: 'spans', export: 'trace', queueVariable: 'OTEL_BSP_MAX_QUEUE_SIZE' },
    });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.batches.add(this.encodesAtEnd ? this.encode(span) : span);
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

  /** The span's bytes; the span itself if it cannot be encoded now (the request encoder takes both). */
  private encode(span: ReadableSpan): TraceItem {
    try {
      return encodeSpan(span);
    } catch {
      return span;
    }
  }
}
