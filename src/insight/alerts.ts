export type AlertRule = 'slow_request' | 'slow_query' | 'error_rate' | 'n_plus_one' | 'memory' | 'event_loop';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type AlertState = 'firing' | 'resolved';
export type Transition = 'fired' | 'escalated' | 'resolved';

export interface Alert {
  id: string;
  rule: AlertRule;
  /** What the alert is about: a route, a statement summary, `heap`, … */
  key: string;
  severity: Severity;
  state: AlertState;
  /**
   * The observation that fired the alert or last escalated it. Later evaluations leave it (and
   * `ratio`, `message`) alone, so the three always describe the same figure.
   */
  observed: number;
  threshold: number;
  /**
   * observed / threshold; for `memory`, how far into the headroom above the threshold the
   * usage is (1 at the threshold, 3 two thirds of the way to the limit), so it climbs the same
   * severity ladder as the other rules.
   */
  ratio: number;
  firstAt: number;
  lastAt: number;
  resolvedAt?: number;
  /**
   * How it was resolved: `signal` (back under 0.9 × the threshold long enough), `hand`, or
   * `expired` (no evaluation had enough data to judge it for `expireAfterMs`).
   */
  resolvedBy?: 'signal' | 'hand' | 'expired';
  /** A trace that shows the problem. */
  exemplarTraceId?: string;
  /** The span of that trace that showed it (a slow request, a slow query, the N+1 parent). */
  exemplarSpanId?: string;
  message: string;
}

export interface AlertEngineOptions {
  /** After an alert fired or resolved, the same rule and key stay quiet this long unless the severity is higher. @default 60000 */
  cooldownMs?: number;
  /** A firing alert resolves once its signal stays under 0.9× the threshold this long. @default 60000 */
  resolveAfterMs?: number;
  /**
   * A firing alert that no evaluation fed for this long (its route went quiet, its figures
   * left the window) resolves as `expired`. @default 120000
   */
  expireAfterMs?: number;
  /** Resolved alerts kept for history(). @default 200 */
  historyLimit?: number;
  /** Rule and key pairs tracked at once; the oldest quiet ones are forgotten past it. @default 1000 */
  maxTracked?: number;
  onTransition?: (alert: Alert, transition: Transition) => void;
  now?: () => number;
}

const ORDER: Severity[] = ['low', 'medium', 'high', 'critical'];

export interface EvaluateExtra {
  exemplarTraceId?: string;
  exemplarSpanId?: string;
  message?: string;
  /** The threshold itself already fires (counts such as "5 or more queries"). */
  inclusive?: boolean;
  /** The ratio the severity comes from, when it is not observed / threshold (memory). */
  ratio?: number;
  /** The highest severity this observation may reach (a fast N+1 stays low). */
  maxSeverity?: Severity;
}

/** The severity ladder (docs/alerts.md): ratio observed/threshold >1 low, >1.5 medium, >2 high, >3 critical. */
export function severityOf(ratio: number, inclusive = false): Severity | undefined {
  if (ratio > 3) return 'critical';
  if (ratio > 2) return 'high';
  if (ratio > 1.5) return 'medium';
  if (ratio > 1 || (inclusive && ratio >= 1)) return 'low';
  return undefined;
}

interface Track {
  alert?: Alert;
  belowSince?: number;
  lastTransitionAt: number;
  lastSeverity?: Severity;
}

/**
 * Turns observations into alerts: fires when observed/threshold crosses 1, escalates at once
 * to a higher severity, suppresses repeats within a cooldown, and resolves by itself once the
 * signal has stayed under 0.9× the threshold for `resolveAfterMs` (or by hand). Pure state:
 * the caller feeds it and reads it; a clock is injected for tests.
 */
export class AlertEngine {
  private readonly tracks = new Map<string, Track>();
  private readonly past: Alert[] = [];
  private readonly now: () => number;
  private seq = 0;
  /** Firings suppressed by the cooldown. */
  suppressed = 0;

  constructor(private readonly o: AlertEngineOptions = {}) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Feeds one observation of a rule for a key. `inclusive`: the threshold itself already
   * fires (for counts such as "5 or more queries"). Returns the alert when it fired or escalated.
   */
  evaluate(rule: AlertRule, key: string, observed: number, threshold: number, extra: EvaluateExtra = {}): Alert | undefined {
    if (!(threshold > 0) || !Number.isFinite(observed)) return undefined;
    const t = this.now();
    const id = `${rule}:${key}`;
    let track = this.tracks.get(id);
    const ratio = extra.ratio !== undefined && Number.isFinite(extra.ratio) ? extra.ratio : observed / threshold;
    let severity = severityOf(ratio, extra.inclusive);
    if (severity && extra.maxSeverity && ORDER.indexOf(severity) > ORDER.indexOf(extra.maxSeverity)) severity = extra.maxSeverity;
    if (!track) {
      if (!severity) return undefined;
      track = { lastTransitionAt: -Infinity };
      this.remember(id, track);
    }
    const current = track.alert;
    if (current) {
      current.lastAt = t;
      if (extra.exemplarTraceId && severity) {
        current.exemplarTraceId = extra.exemplarTraceId;
        current.exemplarSpanId = extra.exemplarSpanId;
      }
      if (ratio < 0.9) {
        track.belowSince ??= t;
        if (t - track.belowSince >= (this.o.resolveAfterMs ?? 60_000)) this.close(id, track, 'signal');
        return undefined;
      }
      track.belowSince = undefined;
      if (severity && ORDER.indexOf(severity) > ORDER.indexOf(current.severity)) {
        current.severity = severity;
        current.observed = observed;
        current.ratio = ratio;
        current.message = extra.message ?? defaultMessage(rule, key, observed, threshold);
        this.transition(track, current, 'escalated', t);
        return current;
      }
      return undefined;
    }
    if (!severity) return undefined;
    const quiet = t - track.lastTransitionAt < (this.o.cooldownMs ?? 60_000);
    if (quiet && track.lastSeverity && ORDER.indexOf(severity) <= ORDER.indexOf(track.lastSeverity)) {
      this.suppressed++;
      return undefined;
    }
    const alert: Alert = {
      id: `${id}#${++this.seq}`,
      rule,
      key,
      severity,
      state: 'firing',
      observed,
      threshold,
      ratio,
      firstAt: t,
      lastAt: t,
      exemplarTraceId: extra.exemplarTraceId,
      exemplarSpanId: extra.exemplarSpanId,
      message: extra.message ?? defaultMessage(rule, key, observed, threshold),
    };
    track.alert = alert;
    track.belowSince = undefined;
    this.transition(track, alert, 'fired', t);
    return alert;
  }

  /**
   * Resolves (`expired`) every firing alert no evaluation fed for `expireAfterMs`: without
   * evidence either way, an alert must not stay firing for ever.
   */
  sweep(): void {
    const t = this.now();
    const limit = this.o.expireAfterMs ?? 120_000;
    for (const [id, track] of this.tracks) if (track.alert && t - track.alert.lastAt >= limit) this.close(id, track, 'expired');
  }

  /** Resolves a firing alert by its id; false when there is none. */
  resolve(alertId: string): boolean {
    for (const [id, track] of this.tracks) {
      if (track.alert?.id === alertId) {
        this.close(id, track, 'hand');
        return true;
      }
    }
    return false;
  }

  active(): Alert[] {
    const out: Alert[] = [];
    for (const track of this.tracks.values()) if (track.alert) out.push(track.alert);
    return out;
  }

  /** Resolved alerts, newest first (bounded by historyLimit). */
  history(): Alert[] {
    return [...this.past].reverse();
  }

  private close(_id: string, track: Track, by: 'signal' | 'hand' | 'expired'): void {
    const alert = track.alert!;
    alert.state = 'resolved';
    alert.resolvedAt = this.now();
    alert.resolvedBy = by;
    track.alert = undefined;
    track.belowSince = undefined;
    this.past.push(alert);
    if (this.past.length > (this.o.historyLimit ?? 200)) this.past.shift();
    this.transition(track, alert, 'resolved', alert.resolvedAt);
  }

  private transition(track: Track, alert: Alert, kind: Transition, t: number): void {
    track.lastTransitionAt = t;
    track.lastSeverity = alert.severity;
    try {
      this.o.onTransition?.(alert, kind);
    } catch {
      // a listener's failure must not break evaluation
    }
  }

  /** Adds a track, forgetting the oldest quiet (not firing) ones past maxTracked. */
  private remember(id: string, track: Track): void {
    const limit = this.o.maxTracked ?? 1000;
    if (this.tracks.size >= limit) {
      for (const [k, v] of this.tracks) {
        if (!v.alert) {
          this.tracks.delete(k);
          if (this.tracks.size < limit) break;
        }
      }
    }
    this.tracks.set(id, track);
  }
}

function defaultMessage(rule: AlertRule, key: string, observed: number, threshold: number): string {
  return `${rule} ${key}: ${round(observed)} over ${round(threshold)}`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
