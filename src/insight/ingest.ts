import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { severityOf } from './alerts.js';
import { addSplit } from './breakdown.js';
import { classify } from './classify.js';
import type { InsightCollectors } from './collectors.js';
import { hasRouteOverrides, requestThresholdOf, type InsightThresholds } from './options.js';
import { statementKey } from './statement.js';

/**
 * Insight's span path, and nothing else: each ended span is classified once and recorded in
 * the bounded collectors (rolling windows, the request time split, the N+1 runs of traces
 * still running, the latest exemplars); a span slower than its threshold is tagged
 * `healthspan.slow` before it ends, so it is easy to find in a trace backend. No rule runs
 * here: when a request ends, the N+1 runs of its trace are only handed to the N+1 log, which
 * the `n_plus_one` rule judges on the timer. Synchronous, cheap (the classification is the
 * only object made for every span; the rest is what the bounded collectors keep) and never
 * throws; recorded-but-unsampled spans count the same as sampled ones.
 */
export class InsightIngest implements SpanProcessor {
  /** Spans onEnd could not take (a malformed span); never thrown to the SDK. */
  failed = 0;

  constructor(
    private readonly collectors: InsightCollectors,
    readonly thresholds: InsightThresholds,
  ) {}

  onStart(): void {}

  onEnding(span: Span): void {
    try {
      const kind = span.kind;
      let threshold: number;
      const a = span.attributes;
      if (kind === SpanKind.SERVER) {
        const route = a['http.route'];
        if (typeof route !== 'string') return;
        threshold = hasRouteOverrides(this.thresholds)
          ? requestThresholdOf(this.thresholds, `${a['http.request.method']} ${route}`)
          : this.thresholds.requestMs;
      } else if (kind === SpanKind.CLIENT && a['db.system.name'] !== undefined) {
        threshold = this.thresholds.queryMs;
      } else return;
      const [s, ns] = span.duration;
      const ms = s * 1e3 + ns / 1e6;
      if (ms <= threshold) return;
      span.setAttribute('healthspan.slow', true);
      span.setAttribute('healthspan.slow.severity', severityOf(ms / threshold) ?? 'low');
    } catch {
      // tagging is a convenience; the span must end regardless
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      const c = classify(span);
      const k = this.collectors;
      switch (c.class) {
        case 'request': {
          const slice = k.requests.record(c.key, c.durationMs, c.error, c.endMs);
          const split = k.breakdown.take(c.traceId, c.durationMs);
          if (split) addSplit(slice, split);
          // The request is over: the N+1 runs of its trace have their final length.
          const found = k.nPlusOne.endTrace(c.traceId);
          if (found) k.nPlusOnes.record(found, c.key, c.endMs);
          if (c.durationMs > requestThresholdOf(this.thresholds, c.key)) k.exemplars.slowRequest.note(c.key, c.traceId, c.spanId);
          if (c.error) k.exemplars.errorRate.note(c.key, c.traceId, c.spanId);
          return;
        }
        case 'query': {
          const summary = c.summary ?? c.key;
          const key = statementKey(c.system ?? 'other', summary, span.attributes['db.query.text']);
          k.noteSummary(key, summary);
          k.queries.record(key, c.durationMs, c.error, c.endMs);
          k.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'db', c.durationMs, c.summary, c.system === 'redis');
          if (c.durationMs > this.thresholds.queryMs) k.exemplars.slowQuery.note(key, c.traceId, c.spanId);
          k.nPlusOne.observeQuery(c.traceId, c.parentSpanId, key, summary, c.endMs - c.durationMs, c.endMs);
          break;
        }
        case 'outgoing':
          k.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'http', c.durationMs);
          break;
        case 'cache':
          k.breakdown.add(c.traceId, c.spanId, c.parentSpanId, 'cache', c.durationMs);
          if (c.hit !== undefined) k.caches.record(c.key, 0, !c.hit, c.endMs);
          break;
        default:
      }
      // A local root that is not a request (a job, a consumer): its trace's work is over.
      if (c.parentSpanId === undefined || span.parentSpanContext?.isRemote) {
        const found = k.nPlusOne.endTrace(c.traceId);
        if (found) k.nPlusOnes.record(found, undefined, c.endMs);
      }
    } catch {
      this.failed++;
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
