import { ROOT_CONTEXT, SeverityNumber, TraceFlags, context, trace, type Logger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type LogRecordProcessor, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_EVENT_NAME, alertLogRecord, emitAlertLog, subscribeAlertLogs } from '../../src/insight/alert-log.js';
import { AlertEngine, type Alert, type Severity, type Transition } from '../../src/insight/alerts.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'slow_request:GET /users/:id#1',
    rule: 'slow_request',
    key: 'GET /users/:id',
    severity: 'medium',
    state: 'firing',
    observed: 1830,
    threshold: 1000,
    ratio: 1.83,
    firstAt: 1_700_000_000_000,
    lastAt: 1_700_000_005_000,
    exemplarTraceId: TRACE_ID,
    exemplarSpanId: SPAN_ID,
    message: 'slow route GET /users/:id: p95 1830 ms over 1000 ms',
    ...over,
  };
}

// A real context manager, as under start(): without one context.with() propagates nothing.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => context.disable());

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A real LoggerProvider whose records land in memory. */
function memoryLogger(): { logger: Logger; records: () => ReturnType<InMemoryLogRecordExporter['getFinishedLogRecords']> } {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  cleanups.push(() => provider.shutdown());
  return { logger: provider.getLogger('test'), records: () => exporter.getFinishedLogRecords() };
}

describe('alertLogRecord', () => {
  it('maps a fired alert to a healthspan.alert record linked to the exemplar span', () => {
    const record = alertLogRecord(alert(), 'fired');
    const { context: ctx, ...rest } = record;
    expect(rest).toEqual({
      eventName: 'healthspan.alert',
      timestamp: 1_700_000_000_000, // firstAt
      severityNumber: SeverityNumber.WARN3,
      severityText: 'WARN3',
      body: 'slow route GET /users/:id: p95 1830 ms over 1000 ms',
      attributes: {
        'alert.id': 'slow_request:GET /users/:id#1',
        'alert.rule': 'slow_request',
        'alert.key': 'GET /users/:id',
        'alert.severity': 'medium',
        'alert.state': 'firing',
        'alert.transition': 'fired',
        'alert.observed': 1830,
        'alert.threshold': 1000,
        'alert.ratio': 1.83,
      },
    });
    expect(ALERT_EVENT_NAME).toBe('healthspan.alert');
    expect(trace.getSpanContext(ctx!)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  });

  it.each([
    ['low', SeverityNumber.WARN, 'WARN'],
    ['medium', SeverityNumber.WARN3, 'WARN3'],
    ['high', SeverityNumber.ERROR, 'ERROR'],
    ['critical', SeverityNumber.ERROR3, 'ERROR3'],
  ] as const)('fired and escalated %s alerts are %s (%s)', (severity: Severity, number, text) => {
    for (const transition of ['fired', 'escalated'] as const) {
      const r = alertLogRecord(alert({ severity }), transition);
      expect([r.severityNumber, r.severityText, r.attributes!['alert.severity']]).toEqual([number, text, severity]);
    }
  });

  it('an escalation is stamped with the observation that escalated it', () => {
    const r = alertLogRecord(alert({ severity: 'high' }), 'escalated');
    expect(r.timestamp).toBe(1_700_000_005_000);
    expect(r.attributes).toMatchObject({ 'alert.transition': 'escalated', 'alert.state': 'firing', 'alert.severity': 'high' });
  });

  it('a resolved alert is INFO, says how it was resolved and when', () => {
    for (const by of ['signal', 'hand'] as const) {
      const r = alertLogRecord(alert({ severity: 'critical', state: 'resolved', resolvedAt: 1_700_000_090_000, resolvedBy: by }), 'resolved');
      expect(r.severityNumber).toBe(SeverityNumber.INFO);
      expect(r.severityText).toBe('INFO');
      expect(r.timestamp).toBe(1_700_000_090_000);
      expect(r.attributes).toMatchObject({ 'alert.state': 'resolved', 'alert.transition': 'resolved', 'alert.severity': 'critical', 'alert.resolved_by': by });
    }
    // resolved_by only on the resolved record
    expect(alertLogRecord(alert(), 'fired').attributes).not.toHaveProperty('alert.resolved_by');
  });

  it('with a trace id but no span id, the trace id is an attribute and the record has no trace context', () => {
    const r = alertLogRecord(alert({ exemplarSpanId: undefined }), 'fired');
    expect(r.attributes!['alert.exemplar.trace_id']).toBe(TRACE_ID);
    expect(trace.getSpanContext(r.context!)).toBeUndefined();
  });

  it('an invalid exemplar span id is not used as trace context', () => {
    const r = alertLogRecord(alert({ exemplarSpanId: '0000000000000000' }), 'fired');
    expect(r.attributes!['alert.exemplar.trace_id']).toBe(TRACE_ID);
    expect(trace.getSpanContext(r.context!)).toBeUndefined();
  });

  it('without an exemplar there is neither trace context nor exemplar attribute', () => {
    const r = alertLogRecord(alert({ rule: 'memory', key: 'heap', exemplarTraceId: undefined, exemplarSpanId: undefined }), 'fired');
    expect(r.attributes).not.toHaveProperty('alert.exemplar.trace_id');
    expect(r.context).toBe(ROOT_CONTEXT);
  });
});

describe('emitAlertLog through a real LoggerProvider', () => {
  it('the emitted record carries the exemplar trace id and span id', () => {
    const { logger, records } = memoryLogger();
    emitAlertLog(logger, alert(), 'fired');
    const [r] = records();
    expect(r.eventName).toBe('healthspan.alert');
    expect(r.body).toBe('slow route GET /users/:id: p95 1830 ms over 1000 ms');
    expect(r.spanContext).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  });

  it('never takes the trace context that happens to be active', () => {
    const { logger, records } = memoryLogger();
    const ambient = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED });
    context.with(ambient, () => emitAlertLog(logger, alert({ exemplarTraceId: undefined, exemplarSpanId: undefined }), 'fired'));
    expect(records()).toHaveLength(1);
    expect(records()[0].spanContext).toBeUndefined();
  });

  it('emits with tracing suppressed', () => {
    const seen: boolean[] = [];
    const probe: LogRecordProcessor = {
      onEmit: (_r: ReadWriteLogRecord) => void seen.push(isTracingSuppressed(context.active())),
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const provider = new LoggerProvider({ processors: [probe] });
    cleanups.push(() => provider.shutdown());
    emitAlertLog(provider.getLogger('t'), alert(), 'fired');
    expect(seen).toEqual([true]);
    expect(isTracingSuppressed(context.active())).toBe(false);
  });

  it('never throws into the caller', () => {
    const broken: Logger = {
      emit: () => {
        throw new Error('exporter exploded');
      },
      enabled: () => true,
    };
    expect(() => emitAlertLog(broken, alert(), 'fired')).not.toThrow();
    expect(() => emitAlertLog(broken, null as unknown as Alert, 'fired')).not.toThrow();
  });
});

describe('subscribeAlertLogs', () => {
  it('emits one record per transition of a real AlertEngine, until unsubscribed', () => {
    const { logger, records } = memoryLogger();
    // What InsightProcessor does: the engine's transitions go to every onAlert listener.
    const listeners = new Set<(a: Alert, t: Transition) => void>();
    const engine = new AlertEngine({
      onTransition: (a, t) => {
        for (const l of listeners) l(a, t);
      },
    });
    const stop = subscribeAlertLogs(
      {
        onAlert: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
      },
      logger,
    );

    const fired = engine.evaluate('slow_request', 'GET /report', 2500, 1000, {
      exemplarTraceId: TRACE_ID,
      exemplarSpanId: SPAN_ID,
      message: 'slow route GET /report',
    })!;
    engine.evaluate('slow_request', 'GET /report', 3500, 1000, {
      exemplarTraceId: TRACE_ID,
      exemplarSpanId: SPAN_ID,
      message: 'slow route GET /report, worse',
    });
    engine.resolve(fired.id);
    expect(records().map((r) => [r.attributes['alert.transition'], r.severityText, r.body, r.attributes['alert.key'], r.spanContext?.spanId])).toEqual([
      ['fired', 'ERROR', 'slow route GET /report', 'GET /report', SPAN_ID],
      ['escalated', 'ERROR3', 'slow route GET /report, worse', 'GET /report', SPAN_ID],
      ['resolved', 'INFO', 'slow route GET /report, worse', 'GET /report', SPAN_ID],
    ]);
    expect(records()[2].attributes['alert.resolved_by']).toBe('hand');

    stop();
    engine.evaluate('slow_query', 'postgresql SELECT users', 500, 100);
    expect(records()).toHaveLength(3);
  });
});
