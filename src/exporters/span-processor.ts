import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { BatchQueue, type BatchExporter, type ExportProcessorOptions } from './batch-queue.js';
import { takesEncodedSpans } from './otlp-proto-trace.js';
import { encodeSpan, type TraceItem } from './otlp-trace-encoder.js';

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
  private readonly batches: BatchQueue<TraceItem>;
  /**
   * The exporter also takes spans encoded as they end (healthspan's OTLP http/protobuf one):
   * the queue then holds their bytes instead of the span objects.
   */
  private readonly encodesAtEnd: boolean;

  constructor(o: ExportSpanProcessorOptions) {
    this.encodesAtEnd = takesEncodedSpans(o.exporter);
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
    // Encoded only once the queue admits it: a span dropped on a full queue costs no encoding.
    if (this.encodesAtEnd) this.batches.add(span, encodeOrKeep);
    else this.batches.add(span);
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

/** The span's bytes; the span itself if it cannot be encoded now (the request encoder takes both). */
function encodeOrKeep(span: ReadableSpan): TraceItem {
  try {
    return encodeSpan(span);
  } catch {
    return span;
  }
}
