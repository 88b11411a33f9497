/** CounterStore in process memory (the embedded default): atomic because JS runs one reservation at a time. */
import type { CounterReservation, CounterStore, ReserveResult } from './counter-store.js';

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  private sweeps = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private read(key: string): number {
    const c = this.counters.get(key);
    if (!c) return 0;
    if (c.expiresAt <= this.now()) {
      this.counters.delete(key);
      return 0;
    }
    return c.value;
  }

  async reserve(items: readonly CounterReservation[]): Promise<ReserveResult> {
    if (++this.sweeps % 1024 === 0) this.sweep();
    const current = items.map((it) => this.read(it.key));
    for (let i = 0; i < items.length; i++) {
      if (current[i]! + items[i]!.amount > items[i]!.limit) return { ok: false, index: i, current: current[i]! };
    }
    const values = items.map((it, i) => {
      const value = current[i]! + it.amount;
      this.counters.set(it.key, { value, expiresAt: it.expiresAt });
      return value;
    });
    return { ok: true, values };
  }

  async adjust(key: string, delta: number, expiresAt: number): Promise<void> {
    this.counters.set(key, { value: this.read(key) + delta, expiresAt });
  }

  async get(keys: readonly string[]): Promise<number[]> {
    return keys.map((k) => this.read(k));
  }

  async close(): Promise<void> {}

  /** Drops expired counters so idle keys do not accumulate. */
  private sweep(): void {
    const now = this.now();
    for (const [k, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(k);
  }
}
