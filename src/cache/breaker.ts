export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  failures?: number;
  /** How long it stays open before one probe is let through. @default 5000 */
  openMs?: number;
  onChange?: (state: BreakerState) => void;
  now?: () => number;
}

/**
 * A circuit breaker for the L2 tier: after `failures` consecutive failures it opens and
 * every call is skipped for `openMs`; then a single probe goes through (half-open) and its
 * outcome closes or re-opens it. Calls never wait on it.
 */
export class CircuitBreaker {
  state: BreakerState = 'closed';
  private failuresInRow = 0;
  private openedAt = 0;
  private probing = false;
  private readonly limit: number;
  private readonly openMs: number;
  private readonly now: () => number;

  constructor(private readonly o: BreakerOptions = {}) {
    this.limit = o.failures ?? 5;
    this.openMs = o.openMs ?? 5000;
    this.now = o.now ?? Date.now;
  }

  /** Whether a call may go to L2 now (in half-open, only the one probe). */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && this.now() - this.openedAt >= this.openMs) this.set('half-open');
    if (this.state === 'half-open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failuresInRow = 0;
    this.probing = false;
    if (this.state !== 'closed') this.set('closed');
  }

  failure(): void {
    this.probing = false;
    this.failuresInRow++;
    if (this.state === 'half-open' || (this.state === 'closed' && this.failuresInRow >= this.limit)) {
      this.openedAt = this.now();
      this.set('open');
    }
  }

  private set(state: BreakerState): void {
    this.state = state;
    this.o.onChange?.(state);
  }
}
