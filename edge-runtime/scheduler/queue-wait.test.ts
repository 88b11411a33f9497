/** The queue-wait prediction counts the whole queue: every waiting and running sequence's expected output, seats, chunks. */
import { describe, expect, it } from 'vitest';
import { effectiveSeats, predictQueueWaitMs, predictQueueWaitSteps, type QueuedSequence } from './queue-wait.js';

const decoding = (remaining: number): QueuedSequence => ({ pending: 1, expectedOutput: remaining, footprint: 100 });
const queued = (prompt: number, output: number): QueuedSequence => ({ pending: prompt, expectedOutput: output, footprint: prompt + output });
const base = { maxBatchedTokens: 512, kvTokens: 1 << 20, stepMs: 10 };

describe('predictQueueWait', () => {
  it('is zero for an idle engine and one step with a free seat', () => {
    expect(predictQueueWaitSteps({ ...base, running: [], waiting: [], maxNumSeqs: 4 })).toBe(0);
    expect(predictQueueWaitSteps({ ...base, running: [decoding(50)], waiting: [], maxNumSeqs: 4 })).toBe(1);
  });

  it('counts the output still to come from every request queued ahead, not only their prompts', () => {
    // One seat, a running sequence with 100 tokens left, 10 queued requests of 20 prompt + 128 output tokens each.
    const input = { ...base, running: [decoding(100)], waiting: Array.from({ length: 10 }, () => queued(20, 128)), maxNumSeqs: 1 };
    expect(predictQueueWaitSteps(input)).toBe(100 + 10 * (1 + 127) + 1);
    expect(predictQueueWaitMs(input)).toBe(13_810);
  });

  it('fills seats in FIFO order as the earliest ones free up', () => {
    const input = { ...base, running: [10, 20, 30, 40].map(decoding), waiting: [queued(8, 10), queued(8, 10)], maxNumSeqs: 4 };
    // Waiters take the seats freeing at 10 and 20 (ending at 20 and 30); the new request gets the one freeing at 20.
    expect(predictQueueWaitSteps(input)).toBe(21);
  });

  it('prefills long prompts in chunks of max_batched_tokens', () => {
    const input = { ...base, running: [decoding(5)], waiting: [queued(2000, 3)], maxNumSeqs: 1 };
    expect(predictQueueWaitSteps(input)).toBe(5 + Math.ceil(2000 / 512) + 2 + 1);
  });

  it('runs fewer sequences at once when the KV pool cannot hold max_num_seqs of them', () => {
    const waiting = Array.from({ length: 6 }, () => queued(100, 100));
    expect(effectiveSeats({ ...base, kvTokens: 400, running: [], waiting, maxNumSeqs: 8 })).toBe(2);
    const few = predictQueueWaitSteps({ ...base, kvTokens: 400, running: [], waiting, maxNumSeqs: 8 });
    const many = predictQueueWaitSteps({ ...base, running: [], waiting, maxNumSeqs: 8 });
    expect(few).toBe(3 * 100 + 1);
    expect(many).toBe(1);
  });
});
