/** The Node breaker: opossum (rolling window, error threshold, half-open probe on its reset timer). */
import CircuitBreaker from 'opossum';
import type { BreakerConfig } from './resilience-config.js';
import { BreakerOpenError, type Breaker, type BreakerState } from './breaker.js';

export class OpossumBreaker implements Breaker {
  private readonly cb: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private isFailure: (err: unknown) => boolean = () => true;

  constructor(
    readonly upstream: string,
    cfg: BreakerConfig,
  ) {
    this.cb = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      timeout: false, // the upstream's own timeouts apply
      errorThresholdPercentage: cfg.error_threshold_pct,
      volumeThreshold: cfg.volume_threshold,
      rollingCountTimeout: cfg.window_ms,
      rollingCountBuckets: 10,
      resetTimeout: cfg.reset_ms,
      // Client errors (4xx, a client going away) say nothing about the upstream's health.
      errorFilter: (err: unknown) => !this.isFailure(err),
    });
  }

  get state(): BreakerState {
    return this.cb.opened ? 'open' : this.cb.halfOpen ? 'half-open' : 'closed';
  }

  async run<T>(fn: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T> {
    this.isFailure = isFailure;
    try {
      return (await this.cb.fire(fn)) as T;
    } catch (err) {
      if ((err as { code?: string })?.code === 'EOPENBREAKER') throw new BreakerOpenError(this.upstream);
      throw err;
    }
  }

  shutdown(): void {
    this.cb.shutdown();
  }
}
