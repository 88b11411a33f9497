/** CounterStore in process memory (the embedded default): atomic because JS runs one reservation at a time. */
import type { CounterReservation, CounterSettlement, CounterStore, HoldOptions, ReserveResult } from './counter-store.js';

/**
 * Settled ids remembered at most: in one process no command can land late, so the markers only guard against a
 * repeated call soon after; without a cap a busy gateway would keep one per request for `rememberUntil` (30 min).
 */
const MAX_REMEMBERED = 10_000;

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  private sweeps = 0;
  /** Held reservations by id: amount per counter key, released at `until` unless settled first. */
  private readonly holds = new Map<string, { amounts: Map<string, number>; until: number; remember: number }>();
  /** Ids already settled or released, remembered until `until` so late repeats are no-ops. */
  private readonly done = new Map<string, { state: 'settled' | 'expired'; until: number }>();
  private nextHoldSweep = 0;

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

  async reserveHeld(id: string, items: readonly CounterReservation[], opts: HoldOptions): Promise<ReserveResult> {
    this.releaseExpiredHolds();
    if (this.holds.has(id) || this.done.has(id)) return { ok: true, values: items.map((it) => this.read(it.key)) };
    const r = await this.reserve(items);
    if (r.ok)
      this.holds.set(id, {
        amounts: new Map(items.map((it) => [it.key, it.amount])),
        until: opts.holdUntil,
        remember: opts.rememberUntil - opts.holdUntil,
      });
    return r;
  }

  async settle(id: string, actual: readonly CounterSettlement[], opts: HoldOptions): Promise<void> {
    this.releaseExpiredHolds();
    if (this.done.get(id)?.state === 'settled') return;
    const held = this.holds.get(id)?.amounts;
    for (const a of actual) {
      const delta = a.amount - (held?.get(a.key) ?? 0);
      // A counter whose window already ended is not recreated by a refund.
      if (delta !== 0 && (delta > 0 || this.counters.has(a.key))) await this.adjust(a.key, delta, a.expiresAt);
    }
    this.holds.delete(id);
    this.remember(id, 'settled', opts.rememberUntil);
  }

  private remember(id: string, state: 'settled' | 'expired', until: number): void {
    this.done.delete(id);
    this.done.set(id, { state, until });
    // Insertion order is age order: drop the oldest markers past the cap.
    for (const old of this.done.keys()) {
      if (this.done.size <= MAX_REMEMBERED) break;
      this.done.delete(old);
    }
  }

  /** Sizes of the internal maps, for tests that check nothing grows without bound. */
  get sizes(): { counters: number; holds: number; remembered: number } {
    return { counters: this.counters.size, holds: this.holds.size, remembered: this.done.size };
  }

  async adjust(key: string, delta: number, expiresAt: number): Promise<void> {
    this.counters.set(key, { value: this.read(key) + delta, expiresAt });
  }

  async get(keys: readonly string[]): Promise<number[]> {
    return keys.map((k) => this.read(k));
  }

  async close(): Promise<void> {}

  /** Self-healing: a hold past its time is refunded, and its id remembered as expired (a late settle charges actual). */
  private releaseExpiredHolds(): void {
    const now = this.now();
    // Both maps are swept at most once per second: each pass is linear in their size.
    if (now < this.nextHoldSweep) return;
    this.nextHoldSweep = now + 1000;
    for (const [id, h] of this.holds) {
      if (h.until > now) continue;
      for (const [key, amount] of h.amounts) if (this.counters.has(key)) this.counters.get(key)!.value -= amount;
      this.holds.delete(id);
      this.remember(id, 'expired', now + Math.max(h.remember, 0));
    }
    for (const [id, d] of this.done) if (d.until <= now) this.done.delete(id);
  }

  /** Drops expired counters so idle keys do not accumulate. */
  private sweep(): void {
    const now = this.now();
    for (const [k, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(k);
  }
}
