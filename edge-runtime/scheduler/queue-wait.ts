/**
 * Predicted wait before a newly submitted request gets its first token, from the whole queue: every running and
 * waiting sequence holds a seat until its prompt is prefilled (chunks of max_batched_tokens) and its expected output
 * is decoded (one token per step), seats are max_num_seqs (fewer when the KV pool cannot hold that many), waiting
 * sequences take seats in FIFO order, and the new request takes the first seat left, then needs one prefill step.
 * Steps are converted to time with the measured step time. Counting only the prompts queued ahead and the nearest
 * running sequence's end (the previous estimate) said 8-97 ms while 36-56 requests of 128 tokens waited.
 */

export interface QueuedSequence {
  /** Tokens still to run through the model before its next token (prompt not yet prefilled; 1 while decoding). */
  pending: number;
  /** Output tokens it is still expected to generate. */
  expectedOutput: number;
  /** Prompt + expected output: its KV footprint at the end. */
  footprint: number;
}

export interface QueueWaitInput {
  running: readonly QueuedSequence[];
  /** In admission order. */
  waiting: readonly QueuedSequence[];
  maxNumSeqs: number;
  maxBatchedTokens: number;
  /** Token slots in the KV pool: caps how many sequences fit at once. */
  kvTokens: number;
  /** Measured time per engine step (ms). */
  stepMs: number;
}

/** Steps a sequence keeps its seat from now on: its prefill chunks, then one decode step per further output token. */
function seatSteps(s: QueuedSequence, maxBatchedTokens: number): number {
  const prefilling = s.pending > 1;
  const prefillSteps = prefilling ? Math.ceil(s.pending / maxBatchedTokens) : 0;
  // The last prefill chunk samples the first output token itself.
  const decodeSteps = prefilling ? Math.max(0, s.expectedOutput - 1) : Math.max(1, s.expectedOutput);
  return prefillSteps + decodeSteps;
}

/** A tiny binary min-heap of seat free times (in steps). */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** Seats that can run at once: max_num_seqs, or fewer when the average sequence's KV would not fit that many. */
export function effectiveSeats(input: QueueWaitInput): number {
  const all = [...input.running, ...input.waiting];
  if (all.length === 0 || input.kvTokens <= 0) return input.maxNumSeqs;
  const avg = all.reduce((a, s) => a + s.footprint, 0) / all.length;
  return Math.max(1, Math.min(input.maxNumSeqs, Math.floor(input.kvTokens / Math.max(1, avg))));
}

/** Predicted steps before a new request's first token. */
export function predictQueueWaitSteps(input: QueueWaitInput): number {
  const { running, waiting, maxBatchedTokens } = input;
  if (running.length === 0 && waiting.length === 0) return 0;
  // Sequences already running keep running even if the KV estimate says fewer would fit.
  const seats = Math.max(running.length, effectiveSeats(input));
  const free = new MinHeap();
  for (const s of running) free.push(seatSteps(s, maxBatchedTokens));
  for (let i = running.length; i < seats; i++) free.push(0);
  for (const w of waiting) free.push(free.pop() + seatSteps(w, maxBatchedTokens));
  // The new request waits for the first free seat, then its own prefill step yields its first token.
  return free.pop() + 1;
}

export function predictQueueWaitMs(input: QueueWaitInput): number {
  return predictQueueWaitSteps(input) * input.stepMs;
}
