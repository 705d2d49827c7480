import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from '../log.js';

/**
 * A span processor added through `start({ spanProcessors })`, kept from breaking the app: the
 * TracerProvider calls its processors in turn without a try, so a throw would reach the code
 * that started or ended the span. What it throws or rejects is reported (rate-limited, one
 * key per processor and method) and goes no further.
 */
export class GuardedSpanProcessor implements SpanProcessor {
  private readonly name: string;

  constructor(
    private readonly inner: SpanProcessor,
    private readonly log: Logger,
  ) {
    this.name = inner.constructor?.name || 'anonymous';
  }

  onStart(span: Span, parentContext: Context): void {
    try {
      this.inner.onStart(span, parentContext);
    } catch (err) {
      this.report('onStart', err);
    }
  }

  onEnding(span: Span): void {
    try {
      this.inner.onEnding?.(span);
    } catch (err) {
      this.report('onEnding', err);
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      this.inner.onEnd(span);
    } catch (err) {
      this.report('onEnd', err);
    }
  }

  forceFlush(): Promise<void> {
    return this.settle('forceFlush', () => this.inner.forceFlush());
  }

  shutdown(): Promise<void> {
    return this.settle('shutdown', () => this.inner.shutdown());
  }

  private async settle(method: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.report(method, err);
    }
  }

  private report(method: string, err: unknown): void {
    const what = err instanceof Error ? err.message : String(err);
    this.log.warn(`the added span processor ${this.name} failed in ${method} (${what}); the span and the app go on`, `span-processor:${this.name}:${method}`);
  }
}
