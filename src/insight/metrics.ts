import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import type { Alert, Transition } from './alerts.js';
import type { InsightReadModel } from './read-model.js';

/**
 * Registers insight's instruments: `healthspan.alerts` (a counter the caller adds one to per
 * transition, see {@link alertTransitionAttributes}) and the observable gauges
 * `healthspan.alerts.active`, `healthspan.health.score` and
 * `healthspan.health.component.score`, observed from the read model at collection time.
 */
export function registerInsightMetrics(meter: Meter, read: InsightReadModel): Counter {
  const counter = meter.createCounter('healthspan.alerts', { unit: '{alert}', description: 'Alert transitions, by rule, severity and state.' });
  const active = meter.createObservableGauge('healthspan.alerts.active', { unit: '{alert}', description: 'Alerts firing now, by rule and severity.' });
  const score = meter.createObservableGauge('healthspan.health.score', { unit: '1', description: 'Health score, 0–100.' });
  const component = meter.createObservableGauge('healthspan.health.component.score', { unit: '1', description: 'Health score of each component, 0–100.' });
  meter.addBatchObservableCallback(
    (result) => {
      const byRule = new Map<string, number>();
      for (const a of read.alerts()) byRule.set(`${a.rule}|${a.severity}`, (byRule.get(`${a.rule}|${a.severity}`) ?? 0) + 1);
      for (const [k, n] of byRule) {
        const [rule, severity] = k.split('|');
        result.observe(active, n, { 'alert.rule': rule, 'alert.severity': severity });
      }
      const h = read.latest();
      if (h.score !== undefined) result.observe(score, h.score);
      for (const c of h.components) result.observe(component, c.score, { 'healthspan.health.component': c.name });
    },
    [active, score, component],
  );
  return counter;
}

/** The `healthspan.alerts` attributes of one transition. */
export function alertTransitionAttributes(alert: Alert, transition: Transition): Attributes {
  return { 'alert.rule': alert.rule, 'alert.severity': alert.severity, 'alert.state': transition === 'resolved' ? 'resolved' : 'firing' };
}
