import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WindowCounter } from '../../gateway/resilience/window-counter.js';

describe('WindowCounter', () => {
  it('counts what a list of timestamps counts, to within one slot of the window edge', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 1, max: 5 })), { maxLength: 300 }), (steps) => {
        let now = 1_000_000;
        const windowMs = 1_000;
        const slotMs = windowMs / 100;
        const c = new WindowCounter(windowMs, () => now, 100);
        const seen: number[] = [];
        for (const [dt, n] of steps) {
          now += dt;
          for (let i = 0; i < n; i++) {
            c.add();
            seen.push(now);
          }
          // Events newer than windowMs - slotMs are always counted; older than windowMs never.
          const surely = seen.filter((t) => t > now - windowMs + slotMs).length;
          const atMost = seen.filter((t) => t > now - windowMs - slotMs).length;
          const total = c.total();
          expect(total).toBeGreaterThanOrEqual(surely);
          expect(total).toBeLessThanOrEqual(atMost);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('forgets everything after a quiet window', () => {
    let now = 0;
    const c = new WindowCounter(10_000, () => now);
    for (let i = 0; i < 1_000; i++) c.add();
    expect(c.total()).toBe(1_000);
    now += 10_000 + 100;
    expect(c.total()).toBe(0);
  });
});
