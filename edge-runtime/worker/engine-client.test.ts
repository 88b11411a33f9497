/** EngineClient.close() when its worker is already gone (a load that failed): it must not wait for an 'exit' that came. */
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/helpers/wait.js';
import { EngineClient } from './engine-client.js';

describe('EngineClient.close', () => {
  it('resolves promptly when the worker has already exited', async () => {
    const client = new EngineClient({ modelDir: join(tmpdir(), 'switchyard-no-such-model'), modelId: 'missing' });
    await expect(client.loaded).rejects.toThrow();
    // threadId turns -1 once the worker has exited.
    const worker = (client as unknown as { worker: Worker }).worker;
    await waitUntil(() => worker.threadId === -1, { timeoutMs: 20_000, message: 'the worker exits after a failed load' });
    const outcome = await Promise.race([
      client.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 8_000).unref()),
    ]);
    expect(outcome).toBe('closed');
  }, 40_000);
});
