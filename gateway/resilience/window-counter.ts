/**
 * Events in the last `windowMs`, counted in `buckets` slots (a ring): O(1) per event whatever the rate. The window is
 * exact to one slot (windowMs / buckets). A list of timestamps pruned with slice() cost ~27 µs per request at
 * 4,000 req/s (40,000 timestamps copied whenever the oldest expired).
 */
export class WindowCounter {
  private readonly counts: Float64Array;
  private readonly slotMs: number;
  /** Absolute slot number (time / slotMs) of the newest slot written. */
  private head = -Infinity;
  private sum = 0;

  constructor(
    windowMs: number,
    private readonly now: () => number = Date.now,
    buckets = 100,
  ) {
    this.counts = new Float64Array(buckets);
    this.slotMs = windowMs / buckets;
  }

  add(n = 1): void {
    const slot = this.advance();
    this.counts[slot % this.counts.length]! += n;
    this.sum += n;
  }

  /** Events in the window ending now. */
  total(): number {
    this.advance();
    return this.sum;
  }

  /** Clears the slots that fell out of the window since the last call; returns the current slot. */
  private advance(): number {
    const slot = Math.floor(this.now() / this.slotMs);
    if (slot === this.head) return slot;
    const n = this.counts.length;
    if (slot - this.head >= n) {
      this.counts.fill(0);
      this.sum = 0;
    } else {
      for (let s = this.head + 1; s <= slot; s++) {
        const i = s % n;
        this.sum -= this.counts[i]!;
        this.counts[i] = 0;
      }
    }
    this.head = slot;
    return slot;
  }
}
