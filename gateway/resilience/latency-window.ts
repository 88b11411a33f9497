/** A small sliding window of recent latencies (ms) with a p95, for hedging decisions. */
export class LatencyWindow {
  private readonly values: number[] = [];

  constructor(
    private readonly size = 100,
    private readonly minSamples = 10,
  ) {}

  add(ms: number): void {
    this.values.push(ms);
    if (this.values.length > this.size) this.values.shift();
  }

  /** p95 of the window, or undefined until there are enough samples. */
  p95(): number | undefined {
    return this.percentile(95);
  }

  p50(): number | undefined {
    return this.percentile(50);
  }

  private percentile(p: number): number | undefined {
    if (this.values.length < this.minSamples) return undefined;
    const s = [...this.values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  }
}
