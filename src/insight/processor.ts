import type { Counter } from '@opentelemetry/api';
import { AlertEngine, type Alert, type Transition } from './alerts.js';
import { InsightCollectors } from './collectors.js';
import { InsightIngest } from './ingest.js';
import { alertTransitionAttributes, registerInsightMetrics } from './metrics.js';
import { DEFAULT_THRESHOLDS, type InsightOptions, type InsightThresholds } from './options.js';
import { InsightReadModel } from './read-model.js';
import { RULES, type RuleInput } from './rules.js';
import { RuntimeMonitor } from './runtime.js';

export { DEFAULT_THRESHOLDS, type InsightOptions, type InsightThresholds } from './options.js';
export type { InsightHealth } from './read-model.js';
export type { RuntimeFigures } from './runtime.js';

/**
 * Insight from the spans already flowing (docs/architecture.md, insight):
 * - the span path is {@link InsightIngest}'s, unchanged here: classify once, record in the
 *   bounded collectors, tag slow spans;
 * - the alert rules ({@link RULES}) run on an unref'd timer ({@link evaluate}), never on the
 *   span path; their transitions go to `onAlert` listeners, the `healthspan.alerts` counter
 *   and the warning log;
 * - {@link read}, the read model, is all that the public API, the admin API and the metrics
 *   read.
 */
export class InsightProcessor extends InsightIngest {
  /** Everything insight knows, read-only. */
  readonly read: InsightReadModel;
  private readonly engine: AlertEngine;
  private readonly monitor: RuntimeMonitor;
  private readonly listeners = new Set<(alert: Alert, transition: Transition) => void>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly alertCounter: Counter | undefined;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly ruleWindowMs: number;
  private readonly minSamples: number;
  private readonly warmEnd: number;
  /** The same collectors the span path feeds (InsightIngest keeps its reference private). */
  private readonly state: InsightCollectors;

  constructor(private readonly o: InsightOptions = {}) {
    const now = o.now ?? Date.now;
    const windowMs = o.windowMs ?? 300_000;
    const warmEnd = now() + Math.max(0, o.warmupMs ?? 30_000);
    const collectors = new InsightCollectors({
      windowMs,
      maxKeys: o.maxKeys ?? 200,
      warmEnd,
      maxPendingTraces: o.maxPendingTraces,
      health: o.health,
      now: o.now,
    });
    super(collectors, { ...DEFAULT_THRESHOLDS, ...o.thresholds, routes: { ...o.thresholds?.routes } });
    this.state = collectors;
    this.now = now;
    this.windowMs = windowMs;
    this.warmEnd = warmEnd;
    this.ruleWindowMs = Math.min(o.ruleWindowMs ?? 60_000, windowMs);
    this.minSamples = Math.max(1, o.minSamples ?? 20);
    this.monitor = new RuntimeMonitor({ memoryLimitBytes: o.memoryLimitBytes, heapLimitBytes: o.heapLimitBytes, eventLoopWindowMs: o.eventLoopWindowMs });
    this.engine = new AlertEngine({ ...o.alerts, now, onTransition: (a, t) => this.deliver(a, t) });
    this.read = new InsightReadModel({
      collectors,
      engine: this.engine,
      thresholds: this.thresholds,
      runtime: () => this.monitor.figures(),
      windowMs,
      health: o.health,
    });
    const every = o.evaluateIntervalMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => this.evaluate(), every);
      this.timer.unref();
    }
    if (o.meter) this.alertCounter = registerInsightMetrics(o.meter, this.read);
  }

  /**
   * Runs every rule over a snapshot of the collectors (the timer calls this; tests may too),
   * then forgets what left the window and keeps the health report for the gauges. Before the
   * warm-up ends the rules marked `afterWarmup` judge nothing; after it, latency rules read
   * only what ended after it.
   */
  evaluate(): void {
    try {
      const now = this.now();
      const runtime = this.monitor.sample(now);
      const input: RuleInput = {
        now,
        warm: now >= this.warmEnd,
        since: this.warmEnd,
        collectors: this.state,
        thresholds: this.thresholds,
        runtime,
        heapGrowth: this.monitor.heapGrowth(),
        loopWindowMs: this.monitor.loopWindowMs,
        windowMs: this.windowMs,
        ruleWindowMs: this.ruleWindowMs,
        minSamples: this.minSamples,
      };
      for (const rule of RULES) {
        if (rule.afterWarmup && !input.warm) continue;
        try {
          rule.run(input, (key, observed, threshold, extra) => void this.engine.evaluate(rule.name, key, observed, threshold, extra));
        } catch {
          // one rule's failure leaves the others to judge
        }
      }
      this.state.prune(now, this.windowMs);
      this.engine.sweep();
      this.read.refresh(runtime);
    } catch {
      // evaluation is best effort; the next tick tries again
    }
  }

  onAlert(listener: (alert: Alert, transition: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves a firing alert by hand: the alert, or undefined when none firing has that id. */
  resolveAlert(id: string): Alert | undefined {
    const alert = this.engine.active().find((a) => a.id === id);
    return alert && this.engine.resolve(id) ? alert : undefined;
  }

  /** Changes thresholds at once (validated by the caller). */
  setThresholds(t: Partial<InsightThresholds>): void {
    Object.assign(this.thresholds, t, t.routes ? { routes: { ...this.thresholds.routes, ...t.routes } } : {});
  }

  override shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.monitor.shutdown();
    return Promise.resolve();
  }

  private deliver(alert: Alert, transition: Transition): void {
    this.alertCounter?.add(1, alertTransitionAttributes(alert, transition));
    this.o.warn?.(`alert ${transition} [${alert.severity}] ${alert.message}${alert.exemplarTraceId ? ` (trace ${alert.exemplarTraceId})` : ''}`);
    for (const l of this.listeners) {
      try {
        l(alert, transition);
      } catch {
        // a listener's failure stays with the listener
      }
    }
  }
}
