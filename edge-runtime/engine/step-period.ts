/**
 * Mean time per engine step over the last N back-to-back steps: what a queued request waits per step. A windowed mean
 * rather than an EMA: step times are spiky (GC, message bursts between steps), and a 0.1 EMA swung the prediction
 * between 8 s and 27 s for the same queue.
 */
export class StepPeriod {
  private readonly samples: Float64Array;
  private next = 0;
  private count = 0;
  private sum = 0;

  constructor(window = 256) {
    this.samples = new Float64Array(window);
  }

  add(ms: number): void {
    if (this.count === this.samples.length) this.sum -= this.samples[this.next]!;
    else this.count++;
    this.samples[this.next] = ms;
    this.sum += ms;
    this.next = (this.next + 1) % this.samples.length;
  }

  /** Mean of the window (0 before any step). */
  meanMs(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }
}
