import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

const URL_ATTRIBUTES = ['url.full', 'url.query', 'http.url', 'http.target'] as const;

/**
 * Removes secrets from URL attributes just before a span ends (`onEnding`, while it can
 * still be changed), whichever instrumentation set them. Spans without a `?` or `@` in
 * those attributes cost two property reads each.
 */
export class RedactProcessor implements SpanProcessor {
  constructor(private readonly redact: (value: string) => string) {}

  onStart(): void {}

  onEnding(span: Span): void {
    const attrs = span.attributes;
    for (const key of URL_ATTRIBUTES) {
      const v = attrs[key];
      if (typeof v !== 'string' || (v.indexOf('?') === -1 && v.indexOf('@') === -1 && key !== 'url.query')) continue;
      const clean = this.redact(v);
      if (clean !== v) span.setAttribute(key, clean);
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
