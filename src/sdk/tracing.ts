import type { Meter } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  createAlwaysRecordSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { SdkConfig } from '../config/types.js';
import { ConnectionSetupSampler } from '../db/connection.js';
import { DbProcessor } from '../db/processor.js';
import type { DropCounter } from '../exporters/dropped.js';
import { createOtlpTraceExporter } from '../exporters/otlp.js';
import { ExportSpanProcessor } from '../exporters/span-processor.js';
import { createQueryRedactor } from '../http/redact.js';
import type { Logger } from '../log.js';
import { RedactProcessor } from '../processors/redact-processor.js';
import { GuardedSpanProcessor } from './guarded-span-processor.js';
import { optionalExporter } from './optional-exporter.js';
import { PooledIdGenerator } from './id-generator.js';

/**
 * The processors that finish a span at `onEnding` (summary and sanitized text of database
 * spans, redacted URLs): first in the pipeline, so that every later one reads their result.
 * Built before insight, whose instruments follow theirs on the healthspan meter.
 */
export function buildFinishingProcessors(config: SdkConfig, meter: Meter | undefined): SpanProcessor[] {
  return [new DbProcessor({ sanitize: config.db.sanitize, meter }), new RedactProcessor(createQueryRedactor(config.http.redactQueryParams))];
}

export interface TracingParts {
  /** {@link buildFinishingProcessors}, then insight (it reads the summaries DbProcessor sets at onEnding). */
  own: readonly SpanProcessor[];
  dropped: DropCounter;
  log: Logger;
  /** `start({ spanProcessors })`: run last. */
  added: readonly SpanProcessor[];
}

/**
 * The span pipeline: healthspan's own processors, the export processor, then the processors
 * added from code — they see the finished span, and one that fails cannot hold up our export.
 */
export function buildTracerProvider(config: SdkConfig, resource: Resource, p: TracingParts): TracerProvider {
  const c = config.traces;
  const processors = [...p.own];
  const exporter = c.exporter === 'otlp' ? optionalExporter(p.log, 'trace', () => createOtlpTraceExporter(c.otlp)) : undefined;
  if (exporter) {
    processors.push(
      new ExportSpanProcessor({
        ...c.batch,
        exporter,
        dropped: p.dropped,
        log: p.log,
        destination: c.otlp.endpoint,
      }),
    );
  } else if (c.exporter === 'console') {
    processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  }
  for (const added of p.added) processors.push(new GuardedSpanProcessor(added, p.log));
  // Spans the sampler drops are still recorded (not exported): metrics derived from spans,
  // such as db.client.operation.duration, must not depend on the sampling rate.
  // Connection set-up with no parent (a client connecting at start-up) is not a trace of its own.
  const sampler = createAlwaysRecordSampler(new ConnectionSetupSampler(buildSampler(c.sampler, c.samplerArg), config.db.connectSpans));
  return new TracerProvider({ resource, sampler, spanProcessors: processors, idGenerator: new PooledIdGenerator() });
}

function buildSampler(name: SdkConfig['traces']['sampler'], ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
