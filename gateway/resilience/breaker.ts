/** The Breaker seam: one per upstream. `run` rejects at once with a BreakerOpenError while the breaker is open. */

export type BreakerState = 'closed' | 'open' | 'half-open';

export class BreakerOpenError extends Error {
  constructor(readonly upstream: string) {
    super(`circuit breaker for '${upstream}' is open`);
    this.name = 'BreakerOpenError';
  }
}

export interface Breaker {
  readonly state: BreakerState;
  /** Runs the call through the breaker; `isFailure` decides which errors count against the upstream. */
  run<T>(fn: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T>;
}

export type BreakerFactory = (upstream: string) => Breaker;
