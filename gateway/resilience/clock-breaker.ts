/**
 * A breaker that needs no timers: it checks the clock on each call (for runtimes such as Workers, where timers do not
 * run between requests). Rolling window of outcomes; open past the error threshold; one probe after `reset_ms`.
 */
import type { BreakerConfig } from './resilience-config.js';
import { BreakerOpenError, type Breaker, type BreakerState } from './breaker.js';

export class ClockBreaker implements Breaker {
  private outcomes: Array<{ t: number; ok: boolean }> = [];
  private openedAt = 0;
  private mode: 'closed' | 'open' = 'closed';
  private probing = false;

  constructor(
    private readonly upstream: string,
    private readonly cfg: BreakerConfig,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.mode === 'closed') return 'closed';
    return this.now() - this.openedAt >= this.cfg.reset_ms ? 'half-open' : 'open';
  }

  async run<T>(fn: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) throw new BreakerOpenError(this.upstream);
    const probe = state === 'half-open';
    if (probe) this.probing = true;
    try {
      const r = await fn();
      this.record(true, probe);
      return r;
    } catch (err) {
      if (isFailure(err)) this.record(false, probe);
      else if (probe) this.probing = false;
      throw err;
    }
  }

  private record(ok: boolean, probe: boolean): void {
    const t = this.now();
    if (probe) {
      this.probing = false;
      if (ok) {
        this.mode = 'closed';
        this.outcomes = [];
      } else {
        this.openedAt = t;
      }
      return;
    }
    this.outcomes.push({ t, ok });
    this.outcomes = this.outcomes.filter((o) => t - o.t < this.cfg.window_ms);
    const failures = this.outcomes.filter((o) => !o.ok).length;
    if (
      this.mode === 'closed' &&
      this.outcomes.length >= this.cfg.volume_threshold &&
      (failures * 100) / this.outcomes.length >= this.cfg.error_threshold_pct
    ) {
      this.mode = 'open';
      this.openedAt = t;
    }
  }
}
