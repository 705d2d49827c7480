import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { HealthspanOptions, SdkConfig } from '../config/types.js';
import type { DropCounter } from '../exporters/dropped.js';

export interface Healthspan {
  /** The effective configuration. */
  readonly config: SdkConfig;
  /** False when OTEL_SDK_DISABLED (or `disabled: true`) made this a no-op. */
  readonly enabled: boolean;
  /** Spans, data points and log records that never left the process, by signal and reason. */
  readonly dropped: DropCounter;
  /**
   * Enabled instrumentations, by short name (`http` is two: our server side, upstream's client
   * side); those of `extraInstrumentations` by their `instrumentationName`.
   */
  readonly instrumentations: ReadonlyMap<string, Instrumentation[]>;
  /** Exports what is buffered, within `shutdownTimeoutMillis`; never rejects. */
  forceFlush(): Promise<void>;
  /** Flushes and stops everything, within `shutdownTimeoutMillis`; never rejects; safe to call twice. */
  shutdown(): Promise<void>;
}

export interface StartContext {
  /** How we were loaded, for the startup report. */
  via?: 'import' | 'require' | 'code';
  env?: Record<string, string | undefined>;
}

/**
 * Objects to add to the pipeline healthspan assembles, as NodeSDK's options of the same
 * names. Code only: there is no env variable for them, and the preload passes none.
 */
export interface PipelineExtensions {
  /**
   * Span processors that run after healthspan's own (database, redaction, insight and the
   * export processor): at `onEnding` and `onEnd` they see the span as healthspan leaves it
   * (`db.query.summary`, sanitized `db.query.text`, `http.route`, redacted URLs). They see
   * every recorded span, including those the sampler did not sample (no `SAMPLED` flag;
   * the SDK's `BatchSpanProcessor` and `SimpleSpanProcessor` skip those). A processor that
   * throws is reported and never breaks the span or the app. Shut down with the SDK.
   * @default []
   */
  spanProcessors?: SpanProcessor[];
  /**
   * Metric readers beside the configured exporters (Prometheus, OTLP): each receives every
   * metric healthspan and its instrumentations record. Shut down with the SDK.
   * @default []
   */
  metricReaders?: IMetricReader[];
  /**
   * Instrumentation objects to enable with the SDK (and disable at `shutdown()`), beside the
   * ones `instrumentations` names. Created at start, not lazily; like every instrumentation
   * started from code they patch only modules the app loads afterwards. Do not pass one that
   * `instrumentations` already enables: the module would be patched twice.
   * @default []
   */
  extraInstrumentations?: Instrumentation[];
}

/**
 * What `start()` accepts: any part of {@link SdkConfig} (the rest comes from env), and the
 * code-only {@link PipelineExtensions}.
 */
export interface StartOptions extends HealthspanOptions, PipelineExtensions {}
