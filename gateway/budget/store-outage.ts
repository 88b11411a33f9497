/** Logs a counter-store outage once when it starts and once when it ends, not once per failed request. */
import type { Logger } from '../core/logger.js';

export class StoreOutage {
  private down = false;
  /** Failures since the process started (also counted per request in /metrics via ctx.budgetFault). */
  failures = 0;

  constructor(
    private readonly logger: Logger,
    private readonly mode: string,
  ) {}

  failed(err: unknown): void {
    this.failures++;
    if (this.down) return;
    this.down = true;
    this.logger.warn(
      { err: err instanceof Error ? err.message : String(err), mode: this.mode },
      `budget store unavailable: ${this.mode === 'fail_open' ? 'serving without enforcing budgets' : 'refusing budgeted requests (503)'}`,
    );
  }

  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({ failures: this.failures }, 'budget store recovered: budgets enforced again');
  }
}
