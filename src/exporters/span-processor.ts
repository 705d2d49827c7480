import { TraceFlags, context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { BatchConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { DropCounter } from './dropped.js';

export interface ExportSpanProcessorOptions extends BatchConfig {
  exporter: SpanExporter;
  dropped: DropCounter;
  log: Logger;
  /** Where the spans go, for warnings. */
  destination: string;
}

/**
 * Batches sampled spans for one exporter, like the SDK's BatchSpanProcessor, with the
 * guarantees healthspan promises: the queue is bounded, everything that does not reach
 * the exporter (queue full, failed or timed-out export) is counted in a {@link DropCounter},
 * failures are reported through a rate-limited warning, only one export runs at a time,
 * timers never keep the process alive, and exports run with tracing suppressed.
 */
export class ExportSpanProcessor implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;

  constructor(private readonly o: ExportSpanProcessorOptions) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.shutdownPromise || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.o.maxQueueSize) {
      this.o.dropped.add('traces', 'queue_full', 1);
      this.o.log.warn(
        `span queue full (${this.o.maxQueueSize}, OTEL_BSP_MAX_QUEUE_SIZE); spans are dropped and counted in healthspan.exporter.dropped (${this.o.dropped.total('traces')} so far)`,
        'traces-queue-full',
      );
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.o.maxExportBatchSize) this.exportNext();
    else if (!this.inFlight) this.scheduleExport();
  }

  /** Exports everything queued now (in batches), resolving when done; never rejects. */
  async forceFlush(): Promise<void> {
    // Each round either waits for the export in flight or starts one, and each export takes
    // a batch off the queue: this many rounds cover every span queued at the time of the call.
    let rounds = Math.ceil(this.queue.length / this.o.maxExportBatchSize) + 1;
    while (rounds-- > 0) {
      if (this.inFlight) await this.inFlight;
      else if (this.queue.length > 0) await this.exportBatch();
      else break;
    }
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.forceFlush()
      .then(() => this.o.exporter.shutdown())
      .catch(() => {})
      .finally(() => {
        if (this.timer) clearTimeout(this.timer);
        this.o.dropped.add('traces', 'shutdown', this.queue.length);
        this.queue = [];
      });
    return this.shutdownPromise;
  }

  get queued(): number {
    return this.queue.length;
  }

  private exportNext(): void {
    if (this.inFlight) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    void this.exportBatch().then(() => {
      if (this.queue.length >= this.o.maxExportBatchSize) this.exportNext();
      else if (this.queue.length > 0 && !this.shutdownPromise) this.scheduleExport();
    });
  }

  /** Exports after the scheduled delay, unless a timer is already set; never keeps the process alive. */
  private scheduleExport(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.exportNext();
    }, this.o.scheduledDelayMillis);
    this.timer.unref();
  }

  private exportBatch(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const batch = this.queue.length <= this.o.maxExportBatchSize ? this.queue : this.queue.slice(0, this.o.maxExportBatchSize);
    this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
    if (batch.length === 0) return Promise.resolve();
    this.inFlight = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (result: ExportResult | 'timeout') => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (result === 'timeout') this.failed(batch.length, 'timeout', `no answer within ${this.o.exportTimeoutMillis} ms`);
        else if (result.code !== ExportResultCode.SUCCESS) this.failed(batch.length, 'export_failed', describe(result.error));
        this.inFlight = undefined;
        resolve();
      };
      const timeout = setTimeout(() => finish('timeout'), this.o.exportTimeoutMillis);
      timeout.unref();
      const send = () =>
        context.with(suppressTracing(context.active()), () => {
          try {
            this.o.exporter.export(batch, finish);
          } catch (err) {
            finish({ code: ExportResultCode.FAILED, error: err as Error });
          }
        });
      // Detectors may still be reading (host.id from /etc/machine-id): exporting before they
      // settle would send an incomplete resource. All spans share one resource object.
      const resource = batch[0].resource;
      if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) {
        resource.waitForAsyncAttributes().then(send, send);
      } else {
        send();
      }
    });
    return this.inFlight;
  }

  private failed(n: number, reason: 'timeout' | 'export_failed', why: string): void {
    this.o.dropped.add('traces', reason, n);
    this.o.log.warn(
      `trace export to ${this.o.destination} failed (${why}); ${n} spans dropped, ${this.o.dropped.total('traces')} in total (healthspan.exporter.dropped)`,
      'traces-export-failed',
    );
  }
}

export function describe(error: unknown): string {
  if (!error) return 'unknown error';
  const e = error as { code?: unknown; message?: unknown };
  const msg = typeof e.message === 'string' && e.message ? e.message : String(error);
  return typeof e.code === 'string' && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
