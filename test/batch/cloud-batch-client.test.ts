/** The cloud Batch API client against the fake cloud: a malformed output line costs that line only, not the batch. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudBatchClient } from '../../gateway/batch/cloud-batch-client.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';

let cloud: FakeOpenAI;
beforeAll(async () => {
  cloud = await startFakeOpenAI();
});
afterAll(async () => cloud?.close());

const line = (i: number) => ({
  custom_id: `l-${i}`,
  method: 'POST' as const,
  url: '/v1/chat/completions' as const,
  body: { model: 'm', messages: [{ role: 'user', content: `question ${i}` }] },
});

describe('CloudBatchClient', () => {
  it('skips a corrupted output line and keeps every other answer', async () => {
    const client = new CloudBatchClient(cloud.url, 'sk-test');
    cloud.batch.corruptFirstOutputLine = true;
    try {
      const id = await client.submit('/v1/chat/completions', [line(0), line(1), line(2)]);
      const out = await client.collect(id, 10);
      // The corrupted line's request is simply unanswered (it runs locally); the other two answers arrive.
      expect(out.map((l) => l.custom_id).sort()).toEqual(['l-1', 'l-2']);
      expect(out.every((l) => l.response?.status_code === 200)).toBe(true);
    } finally {
      cloud.batch.corruptFirstOutputLine = false;
    }
  });
});
