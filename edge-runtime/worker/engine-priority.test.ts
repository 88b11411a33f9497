/** The engine's worker thread and the onnxruntime threads it creates run below the calling (HTTP) thread on Linux. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startEngine } from '../index.js';
import { testModel } from '../testing/test-models.js';

/** Field 19 of /proc/<pid>/task/<tid>/stat is the nice value (the comm field before it is parenthesised). */
function niceOf(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
const taskNices = (): number[] => readdirSync('/proc/self/task').map((tid) => niceOf(`/proc/self/task/${tid}/stat`));

describe.runIf(process.platform === 'linux')('edge engine thread priority', () => {
  it('the engine worker and its onnxruntime pool are niced to 10; the calling thread is not', async () => {
    const before = taskNices().filter((n) => n === 10).length;
    const mine = niceOf('/proc/thread-self/stat');
    const engine = startEngine({ modelDir: await testModel('tiny-llama', 1), modelId: 'nice', kvBudgetBytes: 8 << 20, threads: 2 });
    try {
      await engine.loaded;
      // The worker's JS thread plus at least one intra-op thread onnxruntime created from it.
      expect(taskNices().filter((n) => n === 10).length - before).toBeGreaterThanOrEqual(2);
      expect(niceOf('/proc/thread-self/stat')).toBe(mine);
    } finally {
      await engine.close();
    }
  });
});
