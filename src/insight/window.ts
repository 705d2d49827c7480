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
  /** Apdex T (ms) every observation is classified against; 0 turns Apdex counting off. @default 0 */
  apdexMs?: number;
  /**
   * A moment (ms since the epoch) at which every series starts a new slice, so that reading
   * with `since` = this moment leaves out everything recorded before it (the warm-up).
   * @default none
   */
  cutAt?: number;
  now?: () => number;
}

/**
 * One time slice of a key, as callers see it. `T` is what a caller keeps per slice beside the
 * window's own figures (insight keeps the request time split there, see breakdown.ts); the
 * window never reads it, and drops it with the slice.
 */
export interface Slice<T = never> {
  readonly start: number;
  count: number;
  errors: number;
  /** Sum of the valid durations. */
  sumMs: number;
  satisfied: number;
  tolerating: number;
  frustrated: number;
  /** The caller's data for this slice; undefined until the caller sets it. */
  data: T | undefined;
}

/** The slice with its sketch, which stays inside the window (the sketch library is bundled, not a dependency). */
interface StoredSlice<T> extends Slice<T> {
  /** Absent in count-only windows. */
  readonly sketch: DDSketch | undefined;
}

interface Series<T> {
  readonly key: string;
  readonly slices: StoredSlice<T>[];
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

export interface WindowTotals {
  count: number;
  errors: number;
  satisfied: number;
  tolerating: number;
  frustrated: number;
}

/**
 * Per-key rolling windows of durations (ms) in time slices, each slice a mergeable DDSketch,
 * so quantiles over "the last N minutes" cost a merge of at most `slices` sketches. Memory is
 * bounded by `maxKeys × slices` sketches: keys past the cap fold into `_other` (counted in
 * {@link folded}), and slices older than the window are dropped as time moves on. Reads never
 * change anything; {@link prune} (insight's timer) forgets keys that left the window.
 */
export class RollingWindows<T = never> {
  private readonly keys = new Map<string, Series<T>>();
  private readonly windowMs: number;
  private readonly sliceMs: number;
  private readonly maxKeys: number;
  private readonly accuracy: number;
  private readonly quantiles: boolean;
  private readonly apdexMs: number;
  private readonly cutAt: number;
  private readonly now: () => number;
  /** Observations whose key was folded into `_other` because the key cap was reached. */
  folded = 0;

  constructor(o: WindowOptions = {}) {
    this.windowMs = o.windowMs ?? 300_000;
    this.sliceMs = Math.max(1, Math.floor(this.windowMs / (o.slices ?? 10)));
    this.maxKeys = o.maxKeys ?? 200;
    this.accuracy = o.relativeAccuracy ?? 0.02;
    this.quantiles = o.quantiles ?? true;
    this.apdexMs = o.apdexMs ?? 0;
    this.cutAt = o.cutAt ?? -Infinity;
    this.now = o.now ?? Date.now;
  }

  /** Keys held (live or not yet pruned). */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Records one observation of a key (past the key cap, of `_other`, counted in
   * {@link folded}) and returns the slice it went into. `at` is when it happened (e.g. the
   * span's end time), which saves reading the clock on the hot path: the clock is read only
   * when `at` falls outside the newest slice. Cheap, never throws.
   */
  record(key: string, durationMs: number, error = false, at?: number): Slice<T> {
    let series = this.keys.get(key);
    if (!series) {
      if (this.keys.size < this.maxKeys || key === OTHER_KEY) {
        series = { key, slices: [] };
        this.keys.set(key, series);
      } else {
        this.folded++;
        series = this.keys.get(OTHER_KEY);
        if (!series) this.keys.set(OTHER_KEY, (series = { key: OTHER_KEY, slices: [] }));
      }
    }
    const slice = this.slice(series, at);
    if (durationMs >= 0 && durationMs < Infinity) {
      slice.count++;
      slice.sumMs += durationMs;
      slice.sketch?.accept(durationMs);
      if (this.apdexMs > 0) {
        if (error || durationMs > 4 * this.apdexMs) slice.frustrated++;
        else if (durationMs > this.apdexMs) slice.tolerating++;
        else slice.satisfied++;
      }
    } else if (this.apdexMs > 0 && error) {
      slice.frustrated++;
    }
    if (error) slice.errors++;
    return slice;
  }

  /**
   * The window's figures for one key (its last `windowMs`, leaving out slices that started
   * before `since`), or undefined when it has no observation there.
   */
  summary(key: string, windowMs = this.windowMs, since = -Infinity): WindowSummary | undefined {
    const series = this.keys.get(key);
    if (!series) return undefined;
    return this.merge([series], windowMs, since);
  }

  /** The window's figures over every key together (`_other` included). */
  overall(windowMs = this.windowMs): WindowSummary | undefined {
    return this.merge(this.keys.values(), windowMs);
  }

  /** The slices of a key inside its last `windowMs`, oldest first (empty for an unknown key). */
  slices(key: string, windowMs = this.windowMs): readonly Slice<T>[] {
    const series = this.keys.get(key);
    if (!series) return [];
    const from = this.from(this.now(), windowMs);
    return series.slices.filter((s) => s.start >= from);
  }

  private merge(all: Iterable<Series<T>>, windowMs: number, since = -Infinity): WindowSummary | undefined {
    const now = this.now();
    const from = Math.max(this.from(now, windowMs), since);
    const merged = this.quantiles ? new DDSketch({ relativeAccuracy: this.accuracy }) : undefined;
    let errors = 0;
    let count = 0;
    let first = Infinity;
    for (const series of all) {
      for (const s of series.slices) {
        if (s.start < from) continue;
        if (s.sketch) merged?.merge(s.sketch);
        count += s.count;
        errors += s.errors;
        first = Math.min(first, s.start);
      }
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

  /**
   * Counts summed over every key (so `_other` included) for the slices that started in
   * [now − fromAgoMs, now − toAgoMs]; by default the whole window.
   */
  totals(fromAgoMs = this.windowMs, toAgoMs = 0): WindowTotals {
    const now = this.now();
    const from = this.from(now, fromAgoMs);
    const to = this.sliceStart(now - toAgoMs);
    const t: WindowTotals = { count: 0, errors: 0, satisfied: 0, tolerating: 0, frustrated: 0 };
    for (const series of this.keys.values()) {
      for (const s of series.slices) {
        // A slice cut at the warm-up's end starts off the grid: place it by its grid slice.
        if (s.start < from || this.sliceStart(s.start) > to) continue;
        t.count += s.count;
        t.errors += s.errors;
        t.satisfied += s.satisfied;
        t.tolerating += s.tolerating;
        t.frustrated += s.frustrated;
      }
    }
    return t;
  }

  /** Whether a key has a slice inside the window. */
  has(key: string): boolean {
    const series = this.keys.get(key);
    return series !== undefined && this.live(series, this.oldest(this.sliceStart(this.now())));
  }

  /** Keys with at least one slice inside the window. */
  activeKeys(): string[] {
    const oldest = this.oldest(this.sliceStart(this.now()));
    const out: string[] = [];
    for (const [key, series] of this.keys) if (this.live(series, oldest)) out.push(key);
    return out;
  }

  /** Drops the slices that left the window, and the keys left without any (freeing their place under the cap). */
  prune(): void {
    const start = this.sliceStart(this.now());
    for (const [key, series] of this.keys) {
      this.expire(series.slices, start);
      if (series.slices.length === 0) this.keys.delete(key);
    }
  }

  /** The slice an observation at `at` belongs in, appending one when time moved on. */
  private slice(series: Series<T>, at: number | undefined): StoredSlice<T> {
    const slices = series.slices;
    const last = slices[slices.length - 1];
    if (last && at !== undefined && at >= last.start && at < last.start + this.sliceMs && (at < this.cutAt || last.start >= this.cutAt)) return last;
    // Outside the newest slice (or no `at`): the clock decides, never a span's own time.
    const now = this.now();
    let start = this.sliceStart(now);
    // Past the cut, the first slice starts at the cut itself: nothing from before shares it.
    if (now >= this.cutAt && start < this.cutAt) start = this.cutAt;
    if (last && last.start >= start) return last;
    const made: StoredSlice<T> = {
      start,
      sketch: this.quantiles ? new DDSketch({ relativeAccuracy: this.accuracy }) : undefined,
      count: 0,
      errors: 0,
      sumMs: 0,
      satisfied: 0,
      tolerating: 0,
      frustrated: 0,
      data: undefined,
    };
    slices.push(made);
    this.expire(slices, start);
    return made;
  }

  /** Start of the oldest slice that counts for a window of `windowMs` ending now. */
  private from(now: number, windowMs: number): number {
    return this.sliceStart(now) - Math.min(windowMs, this.windowMs) + this.sliceMs;
  }

  private sliceStart(t: number): number {
    return t - (t % this.sliceMs);
  }

  /** Start of the oldest slice still inside the window, when the current slice starts at `currentStart`. */
  private oldest(currentStart: number): number {
    return currentStart - this.windowMs + this.sliceMs;
  }

  private live(series: Series<T>, oldest: number): boolean {
    const slices = series.slices;
    return slices.length > 0 && slices[slices.length - 1].start >= oldest;
  }

  /** Drops slices that fell out of the window (the current slice counts as one). */
  private expire(slices: StoredSlice<T>[], currentStart: number): void {
    const oldest = this.oldest(currentStart);
    let drop = 0;
    while (drop < slices.length && slices[drop].start < oldest) drop++;
    if (drop > 0) slices.splice(0, drop);
  }
}
