// The code-only start() options: span processors, metric readers and instrumentation objects
// added to the pipeline healthspan assembles (test/integration/start-extensions.test.ts runs
// them against real spans from HTTP, pg and ws).
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WsInstrumentation } from '../../instrumentations/ws/index.js';
import { ConfigError, getSdk, shutdown, start, type StartOptions } from '../../src/index.js';

const QUIET: StartOptions = {
  traces: { exporter: 'none' },
  metrics: { exporters: [] },
  instrumentations: [],
  resourceDetectors: [],
  insight: { enabled: false },
  logLevel: 'warn',
};

/** healthspan's stderr lines while `fn` runs. */
function stderrOf(fn: () => void): string[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

class ThrowingProcessor implements SpanProcessor {
  onStart(): void {}
  onEnd(): void {
    throw new Error('boom');
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.reject(new Error('cannot stop'));
  }
}

afterEach(() => shutdown());

describe('start({ spanProcessors })', () => {
  it('runs an added processor that throws without breaking the span, its caller or the processors after it, and reports it', async () => {
    const spans = new InMemorySpanExporter();
    start({ ...QUIET, spanProcessors: [new ThrowingProcessor(), new SimpleSpanProcessor({ exporter: spans })] });
    const lines = stderrOf(() => expect(() => trace.getTracer('test').startSpan('work').end()).not.toThrow());
    expect(spans.getFinishedSpans().map((s: ReadableSpan) => s.name)).toEqual(['work']);
    expect(lines).toEqual(['healthspan: warning: the added span processor ThrowingProcessor failed in onEnd (boom); the span and the app go on']);
    const atShutdown: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      atShutdown.push(String(chunk).trim());
      return true;
    });
    await shutdown();
    spy.mockRestore();
    expect(atShutdown).toEqual([
      'healthspan: warning: the added span processor ThrowingProcessor failed in shutdown (cannot stop); the span and the app go on',
    ]);
  });
});

describe('start({ extraInstrumentations })', () => {
  it('enables an added instrumentation with the SDK, lists it, and disables it at shutdown', async () => {
    const ws = new WsInstrumentation({ enabled: false });
    expect(ws.isEnabled()).toBe(false);
    const lines = stderrOf(() => start({ ...QUIET, logLevel: 'info', extraInstrumentations: [ws] }));
    expect(ws.isEnabled()).toBe(true);
    expect(getSdk()?.instrumentations.get('healthspan-ws')).toEqual([ws]);
    expect(lines).toContain('  instrumentations: healthspan-ws');
    await shutdown();
    expect(ws.isEnabled()).toBe(false);
  });
});

describe('code-only options that are not what they should be', () => {
  it('leaves each bad entry out, naming the option, the value and what was expected; the good ones run', () => {
    const spans = new InMemorySpanExporter();
    const lines = stderrOf(() =>
      start({
        ...QUIET,
        spanProcessors: [{} as SpanProcessor, new SimpleSpanProcessor({ exporter: spans })],
        metricReaders: 'prometheus' as never,
        extraInstrumentations: [null as never],
      }),
    );
    expect(lines).toEqual([
      'healthspan: warning: options.spanProcessors[0]=[object Object] is invalid (expected a SpanProcessor: onStart, onEnd, forceFlush, shutdown); it is left out',
      'healthspan: warning: options.metricReaders="prometheus" is invalid (expected an array of objects, each a MetricReader: setMetricProducer, selectAggregation, selectAggregationTemporality, selectCardinalityLimit, collect, forceFlush, shutdown); using none',
      'healthspan: warning: options.extraInstrumentations[0]=null is invalid (expected an Instrumentation: enable, disable, getConfig, setTracerProvider, setMeterProvider); it is left out',
    ]);
    trace.getTracer('test').startSpan('still-recorded').end();
    expect(spans.getFinishedSpans().map((s) => s.name)).toEqual(['still-recorded']);
  });

  it('makes them a startup error under strict, as every other option', () => {
    expect(() => start({ ...QUIET, strict: true, spanProcessors: [new Map() as never] })).toThrow(ConfigError);
    expect(() => start({ ...QUIET, strict: true, spanProcessors: [new Map() as never] })).toThrow(
      'healthspan: a configuration problem (HEALTHSPAN_STRICT=true), so healthspan did not start:\n  - options.spanProcessors[0]=[object Map] is invalid (expected a SpanProcessor: onStart, onEnd, forceFlush, shutdown)',
    );
    expect(getSdk()).toBeUndefined();
  });
});
