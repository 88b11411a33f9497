/** Tokens per second over a sliding window of one-second buckets. */

export class ThroughputMeter {
  private readonly buckets = new Float64Array(8);
  private readonly stamps = new Float64Array(8);

  add(nowMs: number, count: number): void {
    const sec = Math.floor(nowMs / 1000);
    const i = sec % this.buckets.length;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += count;
  }

  /** Rate over the last full seconds of the window (the current, partial second excluded). */
  rate(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    let sum = 0;
    const span = this.buckets.length - 1;
    for (let k = 1; k <= span; k++) {
      const s = sec - k;
      const i = ((s % this.buckets.length) + this.buckets.length) % this.buckets.length;
      if (this.stamps[i] === s) sum += this.buckets[i]!;
    }
    return sum / span;
  }
}
