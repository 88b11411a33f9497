/**
 * Envoy-style retry budget: retries may be at most `ratio` of the requests seen in the last window, but a floor of
 * `minConcurrency` retries in flight is always allowed, so a burst of failures on a quiet gateway can still fail over.
 */
export class RetryBudget {
  private requests: number[] = [];
  private retries: number[] = [];
  private active = 0;

  constructor(
    private readonly ratio: number,
    private readonly minConcurrency: number,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private prune(list: number[]): number[] {
    const cut = this.now() - this.windowMs;
    let i = 0;
    while (i < list.length && list[i]! < cut) i++;
    return i > 0 ? list.slice(i) : list;
  }

  request(): void {
    this.requests = this.prune(this.requests);
    this.requests.push(this.now());
  }

  /** Takes a retry token if the budget allows one; call `done()` when the retry has finished. */
  tryAcquire(): boolean {
    this.retries = this.prune(this.retries);
    const ok = this.active < this.minConcurrency || this.retries.length < this.ratio * this.requests.length;
    if (!ok) return false;
    this.retries.push(this.now());
    this.active++;
    return true;
  }

  done(): void {
    this.active = Math.max(0, this.active - 1);
  }
}
