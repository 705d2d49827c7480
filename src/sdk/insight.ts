import type { Meter } from '@opentelemetry/api';
import type { InsightConfig } from '../config/types.js';
import { InsightProcessor } from '../insight/processor.js';
import { WebhookNotifier } from '../insight/webhook.js';
import type { Logger } from '../log.js';

/** The insight processor of the configuration, with the alert webhook subscribed when one is set. */
export function buildInsight(i: InsightConfig, meter: Meter | undefined, log: Logger): InsightProcessor {
  const insight = new InsightProcessor({
    thresholds: { requestMs: i.slowRequestMs, queryMs: i.slowQueryMs, errorRate: i.errorRate },
    evaluateIntervalMs: i.intervalMs,
    warmupMs: i.warmupMs,
    memoryLimitBytes: i.memoryLimitMb !== undefined ? i.memoryLimitMb * 2 ** 20 : undefined,
    health: { weights: i.healthWeights, requestThresholdMs: i.apdexMs },
    meter,
    warn: (line) => log.warn(line, line),
  });
  if (i.webhookUrl) {
    const hook = new WebhookNotifier({
      url: i.webhookUrl,
      onDrop: (reason) => log.warn(`an alert notification to the webhook was given up (${reason}); see docs/alerts.md`, 'alert-webhook'),
    });
    insight.onAlert((alert, transition) => hook.notify(alert, transition));
  }
  return insight;
}
