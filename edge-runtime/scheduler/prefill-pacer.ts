/**
 * Sizes prefill chunks while other sequences are decoding, from measured costs: a step that carries a chunk takes
 * about (1 + TARGET) decode steps, so a long prompt arriving mid-run does not stall running streams' tokens (issue 14:
 * a 2,048-token prompt must not raise their TPOT p95 by more than 2x). With nobody decoding, chunks use the whole
 * token budget: there is no one to stall, and bigger chunks prefill faster.
 */

/** A chunk may cost this fraction of a decode pass. */
const TARGET = 0.8;
/** Smallest chunk: below this, per-pass overhead dominates and a long prompt would take forever. */
const MIN_CHUNK = 32;
/** Weight of the newest measurement in the moving averages. */
const ALPHA = 0.2;

export class PrefillPacer {
  private decodeMs: number | undefined;
  private prefillMsPerToken: number | undefined;

  /** A decode pass of `rows` sequences took `ms`. */
  decoded(ms: number): void {
    this.decodeMs = this.decodeMs === undefined ? ms : this.decodeMs + ALPHA * (ms - this.decodeMs);
  }

  /** A prefill pass of `tokens` tokens took `ms`. */
  prefilled(ms: number, tokens: number): void {
    if (tokens <= 0) return;
    const per = ms / tokens;
    this.prefillMsPerToken = this.prefillMsPerToken === undefined ? per : this.prefillMsPerToken + ALPHA * (per - this.prefillMsPerToken);
  }

  /** Prefill tokens one step may carry while sequences decode; undefined until both costs were measured. */
  cap(): number | undefined {
    if (this.decodeMs === undefined || this.prefillMsPerToken === undefined) return undefined;
    return Math.max(MIN_CHUNK, Math.floor((TARGET * this.decodeMs) / this.prefillMsPerToken));
  }
}
