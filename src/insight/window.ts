import { DDSketch } from '@datadog/sketches-js';

/** The key that keys past the cap are folded into. */
export const OTHER_KEY = '_other';

export interface WindowOptions {
  /** Length of the rolling window. @default 300000 (5 minutes) */
  windowMs?: number;
  /** Number of time slices the window is cut into; older slices are dropped whole. @default 10 */
  slices?: number;
  /** Distinct keys tracked; later keys are folded into `_other` and counted. @default 200 */
  maxKeys?: number;
  /** Relative accuracy of the quantile sketches. @default 0.02 */
  relativeAccuracy?: number;
  /** Keep only counts (no quantiles): for windows that are read as counters. @default true */
  quantiles?: boolean;
  now?: () => number;
}

interface Slice {
  start: number;
  /** Absent in count-only windows. */
  sketch?: DDSketch;
  count: number;
  errors: number;
}

export interface WindowSummary {
  count: number;
  errors: number;
  /** Share of errors, 0–1. */
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** Observations per second over the covered part of the window. */
  rate: number;
}

/**
 * Per-key rolling windows of durations (ms) in time slices, each slice a mergeable DDSketch,
 * so quantiles over "the last N minutes" cost a merge of at most `slices` sketches. Memory is
 * bounded by `maxKeys × slices` sketches: keys past the cap fold into `_other` (counted in
 * {@link folded}), and slices older than the window are dropped as time moves on.
 */
export class RollingWindows {
  private readonly keys = new Map<string, Slice[]>();
  private readonly windowMs: number;
  private readonly sliceMs: number;
  private readonly maxKeys: number;
  private readonly accuracy: number;
  private readonly quantiles: boolean;
  private readonly now: () => number;
  /** Observations whose key was folded into `_other` because the key cap was reached. */
  folded = 0;

  constructor(o: WindowOptions = {}) {
    this.windowMs = o.windowMs ?? 300_000;
    this.sliceMs = Math.max(1, Math.floor(this.windowMs / (o.slices ?? 10)));
    this.maxKeys = o.maxKeys ?? 200;
    this.accuracy = o.relativeAccuracy ?? 0.02;
    this.quantiles = o.quantiles ?? true;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Records one observation; cheap, never throws. */
  record(key: string, durationMs: number, error = false): void {
    let slices = this.keys.get(key);
    if (!slices) {
      if (this.keys.size >= this.maxKeys && key !== OTHER_KEY) {
        this.folded++;
        this.record(OTHER_KEY, durationMs, error);
        return;
      }
      slices = [];
      this.keys.set(key, slices);
    }
    const start = this.sliceStart(this.now());
    let slice = slices[slices.length - 1];
    if (!slice || slice.start !== start) {
      slice = { start, sketch: this.quantiles ? new DDSketch({ relativeAccuracy: this.accuracy }) : undefined, count: 0, errors: 0 };
      slices.push(slice);
      this.expire(slices, start);
    }
    if (Number.isFinite(durationMs) && durationMs >= 0) {
      slice.count++;
      slice.sketch?.accept(durationMs);
    }
    if (error) slice.errors++;
  }

  /** The window's figures for one key, or undefined when it has no observation in the window. */
  summary(key: string, windowMs = this.windowMs): WindowSummary | undefined {
    const slices = this.keys.get(key);
    if (!slices) return undefined;
    const now = this.now();
    // The current slice plus the whole slices before it that fit in the window.
    const from = this.sliceStart(now) - Math.min(windowMs, this.windowMs) + this.sliceMs;
    const merged = this.quantiles ? new DDSketch({ relativeAccuracy: this.accuracy }) : undefined;
    let errors = 0;
    let count = 0;
    let first = Infinity;
    for (const s of slices) {
      if (s.start < from) continue;
      if (s.sketch) merged?.merge(s.sketch);
      count += s.count;
      errors += s.errors;
      first = Math.min(first, s.start);
    }
    if (count === 0) return undefined;
    const covered = Math.max(1, (now - first) / 1000);
    return {
      count,
      errors,
      errorRate: errors / count,
      p50: merged ? merged.getValueAtQuantile(0.5) : Number.NaN,
      p95: merged ? merged.getValueAtQuantile(0.95) : Number.NaN,
      p99: merged ? merged.getValueAtQuantile(0.99) : Number.NaN,
      max: merged ? merged.max : Number.NaN,
      mean: merged ? merged.sum / count : Number.NaN,
      rate: count / covered,
    };
  }

  /** Keys with at least one slice still inside the window (dropping the ones without). */
  activeKeys(): string[] {
    const start = this.sliceStart(this.now());
    const out: string[] = [];
    for (const [key, slices] of this.keys) {
      this.expire(slices, start);
      if (slices.length === 0) this.keys.delete(key);
      else out.push(key);
    }
    return out;
  }

  private sliceStart(t: number): number {
    return t - (t % this.sliceMs);
  }

  /** Drops slices that fell out of the window (the current slice counts as one). */
  private expire(slices: Slice[], currentStart: number): void {
    const oldest = currentStart - this.windowMs + this.sliceMs;
    let drop = 0;
    while (drop < slices.length && slices[drop].start < oldest) drop++;
    if (drop > 0) slices.splice(0, drop);
  }
}
