import {
  ROOT_CONTEXT,
  SeverityNumber,
  TraceFlags,
  context,
  isValidSpanId,
  isValidTraceId,
  trace,
  type Attributes,
  type LogRecord,
  type Logger,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Alert, Severity, Transition } from './alerts.js';

/** `eventName` of every alert log record. */
export const ALERT_EVENT_NAME = 'healthspan.alert';

/**
 * Severity of a `fired` / `escalated` record, by alert severity: the two lower steps are
 * warnings, the two upper ones errors (FATAL is left to the app: an alert never means the
 * process cannot go on). A `resolved` record is INFO. severityText is the spec's short name.
 */
export const ALERT_LOG_SEVERITY: Readonly<Record<Severity, readonly [SeverityNumber, string]>> = {
  low: [SeverityNumber.WARN, 'WARN'],
  medium: [SeverityNumber.WARN3, 'WARN3'],
  high: [SeverityNumber.ERROR, 'ERROR'],
  critical: [SeverityNumber.ERROR3, 'ERROR3'],
};
const RESOLVED_SEVERITY = [SeverityNumber.INFO, 'INFO'] as const;

/**
 * The log record of one alert transition. When the alert's exemplar names a span (trace id
 * and span id), the record carries it as its trace context, so a backend links the record to
 * that trace; with a trace id alone it is an attribute, `alert.exemplar.trace_id`. The
 * context is never the ambient one: an alert raised while some request is active (an N+1
 * found as its query ends) must not be linked to that request.
 */
export function alertLogRecord(alert: Alert, transition: Transition): LogRecord {
  const resolved = transition === 'resolved';
  const [severityNumber, severityText] = resolved ? RESOLVED_SEVERITY : ALERT_LOG_SEVERITY[alert.severity];
  const attributes: Attributes = {
    'alert.id': alert.id,
    'alert.rule': alert.rule,
    'alert.key': alert.key,
    'alert.severity': alert.severity,
    'alert.state': resolved ? 'resolved' : 'firing',
    'alert.transition': transition,
    'alert.observed': alert.observed,
    'alert.threshold': alert.threshold,
    'alert.ratio': alert.ratio,
  };
  if (resolved && alert.resolvedBy) attributes['alert.resolved_by'] = alert.resolvedBy;
  const traceId = alert.exemplarTraceId;
  const spanId = alert.exemplarSpanId;
  let ctx = ROOT_CONTEXT;
  if (traceId && spanId && isValidTraceId(traceId) && isValidSpanId(spanId)) {
    ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
  } else if (traceId) {
    attributes['alert.exemplar.trace_id'] = traceId;
  }
  const at = resolved ? (alert.resolvedAt ?? alert.lastAt) : transition === 'fired' ? alert.firstAt : alert.lastAt;
  return {
    eventName: ALERT_EVENT_NAME,
    timestamp: at,
    severityNumber,
    severityText,
    body: alert.message,
    attributes,
    context: ctx,
  };
}

/**
 * Emits the record of one transition through `logger`, with tracing suppressed (a console or
 * synchronous exporter must not trace itself into the app's traces). Never throws.
 */
export function emitAlertLog(logger: Logger, alert: Alert, transition: Transition): void {
  try {
    const record = alertLogRecord(alert, transition);
    context.with(suppressTracing(context.active()), () => logger.emit(record));
  } catch {
    // telemetry about an alert must never break the alert's delivery or the app
  }
}

/** Anything alerts can be subscribed to: the InsightProcessor. */
export interface AlertSource {
  onAlert(listener: (alert: Alert, transition: Transition) => void): () => void;
}

/** Emits a log record through `logger` for every alert transition of `source`; returns the unsubscribe function. */
export function subscribeAlertLogs(source: AlertSource, logger: Logger): () => void {
  return source.onAlert((alert, transition) => emitAlertLog(logger, alert, transition));
}
