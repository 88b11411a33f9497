/**
 * Envoy-style retry budget: retries may be at most `ratio` of the requests seen in the last window, but a floor of
 * `minConcurrency` retries in flight is always allowed, so a burst of failures on a quiet gateway can still fail over.
 */
import { WindowCounter } from './window-counter.js';

export class RetryBudget {
  private readonly requests: WindowCounter;
  private readonly retries: WindowCounter;
  private active = 0;

  constructor(
    private readonly ratio: number,
    private readonly minConcurrency: number,
    windowMs = 10_000,
    now: () => number = Date.now,
  ) {
    this.requests = new WindowCounter(windowMs, now);
    this.retries = new WindowCounter(windowMs, now);
  }

  request(): void {
    this.requests.add();
  }

  /** Takes a retry token if the budget allows one; call `done()` when the retry has finished. */
  tryAcquire(): boolean {
    const ok = this.active < this.minConcurrency || this.retries.total() < this.ratio * this.requests.total();
    if (!ok) return false;
    this.retries.add();
    this.active++;
    return true;
  }

  done(): void {
    this.active = Math.max(0, this.active - 1);
  }
}
