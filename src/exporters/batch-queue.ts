import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { BatchConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { DropCounter, Signal } from './dropped.js';

/** What a span or log record exporter has in common. */
export interface BatchExporter<T> {
  export(items: T[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/** How warnings name what is queued: `span` / `spans` / `trace` / `OTEL_BSP_MAX_QUEUE_SIZE`. */
export interface BatchWording {
  item: string;
  items: string;
  /** The word before "export" in a failure warning (`trace export to … failed`). */
  export: string;
  /** The variable that sets the queue bound. */
  queueVariable: string;
}

/** What an export processor is given: its exporter, where drops are counted and warned about. */
export interface ExportProcessorOptions<E> extends BatchConfig {
  exporter: E;
  dropped: DropCounter;
  log: Logger;
  /** Where the items go, for warnings. */
  destination: string;
}

export interface BatchQueueOptions<T> extends ExportProcessorOptions<BatchExporter<T>> {
  signal: Signal;
  wording: BatchWording;
}

/** Queues not shut down yet: what they still hold when the process exits is lost ({@link dropUnsentAtExit}). */
const open = new Set<BatchQueue<{ readonly resource: Resource }>>();

/**
 * Counts what every open queue still holds (queued, or in an export that has not answered)
 * as dropped (reason `shutdown`): called when the process exits, after which none of it can
 * be sent. Returns the counts by signal.
 */
export function dropUnsentAtExit(): Map<Signal, number> {
  const bySignal = new Map<Signal, number>();
  for (const q of open) {
    const n = q.unsent;
    if (n === 0) continue;
    q.dropUnsent();
    bySignal.set(q.signal, (bySignal.get(q.signal) ?? 0) + n);
  }
  return bySignal;
}

/**
 * The batching core shared by the span and log record export processors: a bounded queue
 * (what does not fit is dropped and counted in a {@link DropCounter}), one export at a time,
 * failed and timed-out exports counted and reported through a rate-limited warning, timers
 * that never keep the process alive, and exports run with tracing suppressed.
 */
export class BatchQueue<T extends { readonly resource: Resource }> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** Items of the export in flight: still unsent until it answers. */
  private inFlightItems = 0;
  private shutdownPromise: Promise<void> | undefined;

  constructor(private readonly o: BatchQueueOptions<T>) {
    open.add(this);
  }

  get signal(): Signal {
    return this.o.signal;
  }

  /** Items queued or in an export that has not answered yet. */
  get unsent(): number {
    return this.queue.length + this.inFlightItems;
  }

  /** Counts {@link unsent} as dropped and forgets them: the process is exiting. */
  dropUnsent(): void {
    this.o.dropped.add(this.o.signal, 'shutdown', this.unsent);
    this.queue = [];
    this.inFlightItems = 0;
    open.delete(this);
  }

  /**
   * Queues one item, or drops and counts it when the queue is full or shut down. With
   * `prepare`, what is queued is `prepare(item)`, made only once the item is admitted. Never
   * throws (unless `prepare` does).
   */
  add(item: T): void;
  add<S>(item: S, prepare: (item: S) => T): void;
  add(item: unknown, prepare?: (item: unknown) => T): void {
    if (this.shutdownPromise) return;
    if (this.queue.length >= this.o.maxQueueSize) {
      this.o.dropped.add(this.o.signal, 'queue_full', 1);
      const w = this.o.wording;
      this.o.log.warn(
        `${w.item} queue full (${this.o.maxQueueSize}, ${w.queueVariable}); ${w.items} are dropped and counted in healthspan.exporter.dropped (${this.o.dropped.total(this.o.signal)} so far)`,
        `${this.o.signal}-queue-full`,
      );
      return;
    }
    this.queue.push(prepare ? prepare(item) : (item as T));
    if (this.queue.length >= this.o.maxExportBatchSize) this.exportNext();
    else if (!this.inFlight) this.scheduleExport();
  }

  /** Exports everything queued now (in batches), resolving when done; never rejects. */
  async flush(): Promise<void> {
    // Each round either waits for the export in flight or starts one, and each export takes
    // a batch off the queue: this many rounds cover every item queued at the time of the call.
    let rounds = Math.ceil(this.queue.length / this.o.maxExportBatchSize) + 1;
    while (rounds-- > 0) {
      if (this.inFlight) await this.inFlight;
      else if (this.queue.length > 0) await this.exportBatch();
      else break;
    }
  }

  /** Flushes, then shuts the exporter down; what is still queued is counted as dropped. Safe to call twice. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.flush()
      .then(() => this.o.exporter.shutdown())
      .catch(() => {})
      .finally(() => {
        if (this.timer) clearTimeout(this.timer);
        this.o.dropped.add(this.o.signal, 'shutdown', this.queue.length);
        this.queue = [];
        open.delete(this);
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
    this.inFlightItems = batch.length;
    this.inFlight = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (result: ExportResult | 'timeout') => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        this.inFlightItems = 0;
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
      // settle would send an incomplete resource. All items share one resource object.
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
    const w = this.o.wording;
    this.o.dropped.add(this.o.signal, reason, n);
    this.o.log.warn(
      `${w.export} export to ${this.o.destination} failed (${why}); ${n} ${w.items} dropped, ${this.o.dropped.total(this.o.signal)} in total (healthspan.exporter.dropped)`,
      `${this.o.signal}-export-failed`,
    );
  }
}

export function describe(error: unknown): string {
  if (!error) return 'unknown error';
  const e = error as { code?: unknown; message?: unknown };
  const msg = typeof e.message === 'string' && e.message ? e.message : String(error);
  return typeof e.code === 'string' && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
