/** What `CounterStore.reserve` would answer for these items, changing nothing: the dry run explain uses. */
import type { CounterReservation, CounterStore, ReserveResult } from './counter-store.js';

export async function peekReservation(store: CounterStore, items: readonly CounterReservation[]): Promise<ReserveResult> {
  const current = await store.get(items.map((it) => it.key));
  for (let i = 0; i < items.length; i++) {
    const value = current[i] ?? 0;
    if (value + items[i]!.amount > items[i]!.limit) return { ok: false, index: i, current: value };
  }
  return { ok: true, values: items.map((it, i) => (current[i] ?? 0) + it.amount) };
}
