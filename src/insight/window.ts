import { DDSketch } from '@datadog/sketches-js';
import type { RequestSplit } from './breakdown.js';

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

/** Time of a request, split by where it went (ms, summed over the slice). */
export interface TimeSplit {
  db: number;
  http: number;
  cache: number;
}

interface Slice {
  start: number;
  /** Absent in count-only windows. */
  sketch?: DDSketch;
  count: number;
  errors: number;
  /** Sum of the valid durations. */
  sumMs: number;
  satisfied: number;
  tolerating: number;
  frustrated: number;
  /** Of sumMs, the part spent in child operations (requests only; see {@link RollingWindows.split}). */
  split?: TimeSplit & { requests: number; queries: Map<string, number> };
}

/**
 * One key's slices. Callers may hold on to it for cheap repeated recording; once the key has
 * been dropped for lack of data (`dead`), ask {@link RollingWindows.series} for it again.
 */
export interface Series {
  readonly key: string;
  slices: Slice[];
  dead: boolean;
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

/** Where a key's time went over the window: shares of its summed duration, 0–1. */
export interface SplitSummary {
  /** Requests the split was measured on. */
  requests: number;
  db: number;
  http: number;
  cache: number;
  /** 1 − the others: time in the service's own code (or in work we do not trace). */
  own: number;
  /** Statement summaries by their share of the key's time, largest first (at most 3). */
  topQueries: { summary: string; share: number }[];
}

/** Distinct statement summaries kept per slice of a key's split; more fold into `_other`. */
const MAX_SPLIT_QUERIES = 8;

/**
 * Per-key rolling windows of durations (ms) in time slices, each slice a mergeable DDSketch,
 * so quantiles over "the last N minutes" cost a merge of at most `slices` sketches. Memory is
 * bounded by `maxKeys × slices` sketches: keys past the cap fold into `_other` (counted in
 * {@link folded}), and slices older than the window are dropped as time moves on.
 */
export class RollingWindows {
  private readonly keys = new Map<string, Series>();
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

  get size(): number {
    return this.keys.size;
  }

  /** The series of a key, created on first use; past the key cap, the `_other` series. */
  series(key: string): Series {
    const found = this.keys.get(key);
    if (found) return found;
    if (this.keys.size >= this.maxKeys && key !== OTHER_KEY) return this.series(OTHER_KEY);
    const made: Series = { key, slices: [], dead: false };
    this.keys.set(key, made);
    return made;
  }

  /** Records one observation; cheap, never throws. */
  record(key: string, durationMs: number, error = false): void {
    const series = this.series(key);
    if (series.key !== key) this.folded++;
    this.add(series, durationMs, error);
  }

  /**
   * Records into a series. `at` is when it happened (e.g. the span's end time), which saves
   * reading the clock on the hot path: the clock is read only when `at` falls outside the
   * newest slice.
   */
  add(series: Series, durationMs: number, error = false, at?: number): Slice {
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
   * Adds where one request's time went to the slice it was recorded in (see {@link add}).
   * Each counted query with a summary adds `ms × scale` to that summary's time.
   */
  split(slice: Slice, split: RequestSplit): void {
    const s = (slice.split ??= { db: 0, http: 0, cache: 0, requests: 0, queries: new Map() });
    s.requests++;
    s.db += split.db;
    s.http += split.http;
    s.cache += split.cache;
    const queries = split.queries;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i];
      if (!q.counted || q.summary === undefined) continue;
      const key = s.queries.size < MAX_SPLIT_QUERIES || s.queries.has(q.summary) ? q.summary : OTHER_KEY;
      s.queries.set(key, (s.queries.get(key) ?? 0) + q.ms * split.scale);
    }
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

  private merge(all: Iterable<Series>, windowMs: number, since = -Infinity): WindowSummary | undefined {
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

  /** Where a key's time went over the window, or undefined without any split recorded. */
  splitSummary(key: string, windowMs = this.windowMs): SplitSummary | undefined {
    const series = this.keys.get(key);
    if (!series) return undefined;
    const from = this.from(this.now(), windowMs);
    let total = 0;
    let requests = 0;
    const sums = { db: 0, http: 0, cache: 0 };
    const queries = new Map<string, number>();
    for (const s of series.slices) {
      if (s.start < from || !s.split) continue;
      // Only the requests that carried a split: their share of the slice's time.
      total += s.count > 0 ? (s.sumMs * s.split.requests) / s.count : 0;
      requests += s.split.requests;
      sums.db += s.split.db;
      sums.http += s.split.http;
      sums.cache += s.split.cache;
      for (const [q, ms] of s.split.queries) queries.set(q, (queries.get(q) ?? 0) + ms);
    }
    if (requests === 0 || !(total > 0)) return undefined;
    const share = (ms: number) => Math.min(1, ms / total);
    const db = share(sums.db);
    const http = share(sums.http);
    const cache = share(sums.cache);
    return {
      requests,
      db,
      http,
      cache,
      own: Math.max(0, 1 - db - http - cache),
      topQueries: [...queries]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([summary, ms]) => ({ summary, share: share(ms) })),
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

  /** Keys with at least one slice still inside the window (dropping the ones without). */
  activeKeys(): string[] {
    const start = this.sliceStart(this.now());
    const out: string[] = [];
    for (const [key, series] of this.keys) {
      this.expire(series.slices, start);
      if (series.slices.length === 0) {
        series.dead = true;
        this.keys.delete(key);
      } else out.push(key);
    }
    return out;
  }

  /** The slice an observation at `at` belongs in, appending one when time moved on. */
  private slice(series: Series, at: number | undefined): Slice {
    const slices = series.slices;
    const last = slices[slices.length - 1];
    if (last && at !== undefined && at >= last.start && at < last.start + this.sliceMs && (at < this.cutAt || last.start >= this.cutAt)) return last;
    // Outside the newest slice (or no `at`): the clock decides, never a span's own time.
    const now = this.now();
    let start = this.sliceStart(now);
    // Past the cut, the first slice starts at the cut itself: nothing from before shares it.
    if (now >= this.cutAt && start < this.cutAt) start = this.cutAt;
    if (last && last.start >= start) return last;
    const made: Slice = {
      start,
      sketch: this.quantiles ? new DDSketch({ relativeAccuracy: this.accuracy }) : undefined,
      count: 0,
      errors: 0,
      sumMs: 0,
      satisfied: 0,
      tolerating: 0,
      frustrated: 0,
    };
    slices.push(made);
    this.expire(slices, start);
    if (series.dead && this.keys.size < this.maxKeys && !this.keys.has(series.key)) {
      // Dropped for lack of data while a caller still held it: take it back in if there is room.
      series.dead = false;
      this.keys.set(series.key, series);
    }
    return made;
  }

  /** Start of the oldest slice that counts for a window of `windowMs` ending now. */
  private from(now: number, windowMs: number): number {
    return this.sliceStart(now) - Math.min(windowMs, this.windowMs) + this.sliceMs;
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
