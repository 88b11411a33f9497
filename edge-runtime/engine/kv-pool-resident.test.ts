/**
 * The KV pool is resident from load (docs/ARCHITECTURE.md, "Memory under a long run"): a lazily mapped pool made RSS creep up by the whole KV budget
 * over the first thousands of requests, which read as a leak in the soak. Linux only (/proc).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../worker/create-engine.js';
import { engineOptionsSchema } from './engine-options.js';
import { testModel } from '../testing/test-models.js';

function rssBytes(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m![1]) * 1024;
}

describe.skipIf(!existsSync('/proc/self/status'))('KV pool residency', () => {
  it('a fresh engine holds its whole KV budget in RSS before any request', async () => {
    const dir = await testModel();
    const budget = 128 << 20;
    const before = rssBytes();
    const e = await createEngine(
      engineOptionsSchema.parse({ modelDir: dir, modelId: 'tiny', variant: 'fp32', kvBudgetBytes: budget, executionPath: 'paged' }),
    );
    const grew = rssBytes() - before;
    // Without the pre-fault only the load proof's few blocks (and the tiny model) are resident: far below the pool.
    expect(e.runner.poolBytes).toBeGreaterThan(0.9 * budget);
    expect(grew).toBeGreaterThan(0.9 * e.runner.poolBytes);
  }, 120_000);
});
