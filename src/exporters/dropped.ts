export type Signal = 'traces' | 'metrics' | 'logs';
export type DropReason = 'queue_full' | 'export_failed' | 'timeout' | 'shutdown';

/**
 * Counts telemetry that never left the process, by signal and reason. Read by the
 * `healthspan.exporter.dropped` observable counter; never reset.
 */
export class DropCounter {
  private readonly counts = new Map<string, { signal: Signal; reason: DropReason; value: number }>();

  add(signal: Signal, reason: DropReason, n: number): void {
    if (n <= 0) return;
    const key = `${signal}/${reason}`;
    const entry = this.counts.get(key);
    if (entry) entry.value += n;
    else this.counts.set(key, { signal, reason, value: n });
  }

  total(signal?: Signal): number {
    let sum = 0;
    for (const e of this.counts.values()) if (!signal || e.signal === signal) sum += e.value;
    return sum;
  }

  entries(): { signal: Signal; reason: DropReason; value: number }[] {
    return [...this.counts.values()];
  }
}
