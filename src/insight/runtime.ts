import { totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** Sampling interval of the event-loop histogram (ms). */
const RESOLUTION_MS = 20;
/** Heap samples (one per evaluation, over the last minute) the growth is estimated from. */
const HEAP_SAMPLES = 64;
const HEAP_SAMPLES_MS = 60_000;

/** The runtime figures the rules and the score read. */
export interface RuntimeFigures {
  /** Old-generation heap in use (bytes): what runs out at "JavaScript heap out of memory". */
  heapUsed: number;
  /** Its limit (bytes): V8's heap limit without the young generation. */
  heapLimit: number;
  rss: number;
  /** The memory limit RSS is judged against (bytes), 0 when none is known. */
  memoryLimit: number;
  /** Event-loop delay p99 over the last evaluation interval (ms), NaN before the first. */
  eventLoopDelayP99Ms: number;
}

export interface RuntimeMonitorOptions {
  /** Memory RSS is judged against (bytes). @default the cgroup limit, else none */
  memoryLimitBytes?: number;
  /** The old-generation limit (bytes). @default {@link oldSpaceLimit} of V8's heap limit */
  heapLimitBytes?: number;
  /**
   * Shortest stretch the event-loop p99 is read over: one stall of the process (a GC pause,
   * a busy machine not scheduling it) is 1 tick of 250 in 5 s, never the p99, but a block
   * every second is. @default 5000
   */
  eventLoopWindowMs?: number;
}

/**
 * The runtime figures insight judges: the old-generation heap against its own limit (and how
 * its floor moves), RSS against the memory limit, and the event-loop delay of each interval
 * between two {@link sample} calls (a fresh histogram every time, so a block is seen in the
 * interval it happened in and forgotten after it). An interval lasts at least
 * `eventLoopWindowMs`: with rules evaluated every second, the p99 still covers 5 s.
 */
export class RuntimeMonitor {
  private readonly loop: IntervalHistogram | undefined;
  private heapLimit: number | undefined;
  private readonly memoryLimit: number;
  private readonly heapSamples: { t: number; used: number }[] = [];
  private loopP99 = Number.NaN;
  private loopSince = Number.NaN;
  /** How long the last closed event-loop interval lasted (ms). */
  loopWindowMs = Number.NaN;
  private readonly loopWindow: number;

  constructor(o: RuntimeMonitorOptions = {}) {
    this.loopWindow = Math.max(0, o.eventLoopWindowMs ?? 5000);
    this.heapLimit = o.heapLimitBytes;
    this.memoryLimit = o.memoryLimitBytes ?? detectMemoryLimit();
    let loop: IntervalHistogram | undefined;
    try {
      loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      loop.enable();
    } catch {
      loop = undefined;
    }
    this.loop = loop;
  }

  /** Takes a heap sample and, once the event-loop interval is long enough, closes it; returns the figures. */
  sample(now: number): RuntimeFigures {
    const h = this.loop;
    if (Number.isNaN(this.loopSince)) this.loopSince = now - this.loopWindow; // the histogram runs since construction
    if (h && now - this.loopSince >= this.loopWindow) {
      this.loopWindowMs = now - this.loopSince;
      this.loopSince = now;
      // Each value is the gap between two ticks of a RESOLUTION_MS timer: a block of B ms reads
      // B to B + RESOLUTION_MS; half the interval off is the unbiased estimate (±10 ms).
      this.loopP99 = h.count > 0 ? Math.max(0, h.percentile(99) / 1e6 - RESOLUTION_MS / 2) : Number.NaN;
      h.reset();
    }
    const f = this.figures();
    this.heapSamples.push({ t: now, used: f.heapUsed });
    while (this.heapSamples.length > HEAP_SAMPLES || this.heapSamples[0].t < now - HEAP_SAMPLES_MS) this.heapSamples.shift();
    return f;
  }

  /** The figures now, with the event-loop p99 of the last closed interval. */
  figures(): RuntimeFigures {
    // The old generation is what runs out: young-generation objects are not counted, and its
    // limit leaves out the young generation's reserve (heap_size_limit includes it).
    // node:v8 (about 40 internal modules) is loaded by the first evaluation, not at start-up.
    const { getHeapSpaceStatistics, getHeapStatistics } = require('node:v8') as typeof import('node:v8');
    let young = 0;
    for (const space of getHeapSpaceStatistics()) {
      if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') young += space.space_used_size;
    }
    const heap = getHeapStatistics();
    this.heapLimit ??= oldSpaceLimit(heap.heap_size_limit);
    return {
      heapUsed: Math.max(0, heap.used_heap_size - young),
      heapLimit: this.heapLimit,
      rss: process.memoryUsage.rss(),
      memoryLimit: this.memoryLimit,
      eventLoopDelayP99Ms: this.loopP99,
    };
  }

  /** Growth of the heap's floor over the last minute (bytes/ms), see {@link heapGrowth}. */
  heapGrowth(): number | undefined {
    return heapGrowth(this.heapSamples);
  }

  shutdown(): void {
    this.loop?.disable();
  }
}

/**
 * V8's old-generation limit: `heap_size_limit` is that plus the young generation's reserve,
 * three semi-spaces (`--max-semi-space-size`, 16 MiB by default before Node 24, 64 MiB from
 * 24), so at `--max-old-space-size=256` Node 24 reports 448 MiB.
 */
export function oldSpaceLimit(
  heapSizeLimit: number,
  execArgv: readonly string[] = process.execArgv,
  nodeMajor = Number(process.versions.node.split('.')[0]),
): number {
  let semiMiB = nodeMajor >= 24 ? 64 : 16;
  for (const arg of execArgv) {
    const m = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(arg);
    if (m) semiMiB = Number(m[1]);
  }
  const limit = heapSizeLimit - 3 * semiMiB * 2 ** 20;
  // A guess gone wrong must not make a small heap look full.
  return limit >= heapSizeLimit / 4 ? limit : heapSizeLimit;
}

/**
 * Heap growth (bytes/ms) from the samples: the lowest use in the later half against the
 * lowest in the earlier half, so garbage waiting for a collection does not read as growth
 * and only a rising floor (retained memory) does. Undefined before 6 samples over 20 s.
 */
export function heapGrowth(samples: { t: number; used: number }[]): number | undefined {
  const n = samples.length;
  if (n < 6 || samples[n - 1].t - samples[0].t < 20_000) return undefined;
  const half = n >> 1;
  let a = Infinity;
  let b = Infinity;
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < n; i++) {
    if (i < half) {
      a = Math.min(a, samples[i].used);
      ta += samples[i].t / half;
    } else {
      b = Math.min(b, samples[i].used);
      tb += samples[i].t / (n - half);
    }
  }
  return tb > ta ? (b - a) / (tb - ta) : undefined;
}

/** The ratio memory severity comes from: use / threshold below it; above it, 1 + 3 × the share of the headroom used. */
export function headroomRatio(share: number, threshold: number): number {
  if (share <= threshold || threshold >= 1) return share / threshold;
  return 1 + (3 * (share - threshold)) / (1 - threshold);
}

/** The cgroup memory limit, when the process runs under one; 0 when there is none to judge RSS by. */
export function detectMemoryLimit(): number {
  try {
    const limit = process.constrainedMemory();
    // Without a limit Node reports 0 or a huge sentinel; a limit above the machine is no limit.
    return limit > 0 && limit < totalmem() ? limit : 0;
  } catch {
    return 0;
  }
}
