/**
 * Iteration-level continuous batching (vLLM's idea, on our KV port): every step, running sequences decode together,
 * waiting ones join while blocks and the token budget allow, long prompts are prefilled in chunks under the per-step
 * token budget, and when the pool runs out the youngest running sequence is preempted and later recomputed.
 */
import type { KvPort } from './kv-port.js';
import { Sequence } from './sequence.js';
import { waitingShare } from './waiting-share.js';

export interface SchedulerLimits {
  /** Sequences decoding together at most. */
  maxNumSeqs: number;
  /** Tokens run through the model per step at most (decodes + prefill chunks). */
  maxBatchedTokens: number;
}

export interface PrefillChunk {
  seq: Sequence;
  start: number;
  end: number;
  /** True when this chunk reaches the end of the sequence's tokens: its logits are sampled. */
  last: boolean;
}

export interface StepPlan {
  /** Sequences with exactly one pending token, run as one batch. */
  decode: Sequence[];
  prefill: PrefillChunk[];
  copies: Array<{ src: number; dst: number }>;
  preempted: Sequence[];
}

export class Scheduler {
  readonly waiting: Sequence[] = [];
  readonly running: Sequence[] = [];
  preemptions = 0;
  /** Prefill tokens per step while some sequence decodes (set from measured costs: prefill-pacer.ts); none if undefined. */
  prefillCapWhileDecoding: number | undefined;
  /** Raise that cap to the waiting sequences' headcount share of the budget (waiting-share.ts); false for bench A/B. */
  shareWithWaiting = true;

  constructor(
    private readonly kv: KvPort,
    private readonly limits: SchedulerLimits,
  ) {}

  add(seq: Sequence): void {
    seq.state = 'waiting';
    this.waiting.push(seq);
  }

  /** Adds a sequence that shares a running parent's blocks (n > 1), running from the start. */
  addFork(parent: Sequence, child: Sequence): void {
    this.kv.fork(parent.id, child.id);
    child.computed = parent.computed;
    child.slots = parent.slots;
    child.state = 'running';
    this.running.push(child);
  }

  /** Removes a sequence wherever it is and frees its blocks. */
  remove(seq: Sequence): void {
    const w = this.waiting.indexOf(seq);
    if (w >= 0) this.waiting.splice(w, 1);
    const r = this.running.indexOf(seq);
    if (r >= 0) {
      this.running.splice(r, 1);
      this.kv.free(seq.id);
    }
    seq.state = 'finished';
  }

  hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  /** Plans the next step. Mutates block allocations; the engine must run the plan before calling again. */
  schedule(): StepPlan {
    const plan: StepPlan = { decode: [], prefill: [], copies: [], preempted: [] };
    let budget = this.limits.maxBatchedTokens;
    // Prefill tokens this step may still carry: capped when a decode runs too, so its tokens are not held up for long.
    const decoding = this.running.filter((s) => s.pending === 1).length;
    const cap = this.prefillCapWhileDecoding;
    // Sequences owed a prefill (waiting, or prefilling in chunks) may take their headcount's share if it is larger.
    const owed = this.waiting.length + this.running.length - decoding;
    const share = this.shareWithWaiting ? waitingShare(budget, owed, decoding) : 0;
    let prefillLeft = decoding > 0 && cap !== undefined ? Math.max(cap, share) : Infinity;

    // 1. Running sequences, oldest first. Preempt the youngest when a decode slot cannot be found.
    this.running.sort((a, b) => a.arrival - b.arrival);
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i]!;
      const want = Math.min(seq.pending, budget, seq.pending > 1 ? prefillLeft : 1);
      if (want <= 0) continue;
      while (!this.kv.canAppend(seq.id, this.growth(seq, want))) {
        const victim = this.running[this.running.length - 1]!;
        this.preempt(victim, plan);
        if (victim === seq) break;
      }
      if (seq.state !== 'running') break;
      const grow = this.growth(seq, want);
      if (grow > 0) {
        plan.copies.push(...this.kv.append(seq.id, grow));
        seq.slots += grow;
      }
      this.enqueue(seq, want, plan);
      budget -= want;
      if (seq.pending > 1) prefillLeft -= want;
    }

    // 2. Admit waiting sequences (preempted ones were put at the front) while blocks, seats and budget allow.
    while (this.waiting.length > 0 && budget > 0 && prefillLeft > 0 && this.running.length < this.limits.maxNumSeqs) {
      const seq = this.waiting[0]!;
      if (!this.kv.canAllocate(seq.tokens)) break;
      this.waiting.shift();
      const { cachedTokens } = this.kv.allocate(seq.id, seq.tokens);
      seq.computed = cachedTokens;
      seq.cachedTokens = cachedTokens;
      seq.slots = seq.tokens.length;
      seq.state = 'running';
      this.running.push(seq);
      const want = Math.min(seq.pending, budget, seq.pending > 1 ? prefillLeft : 1);
      this.enqueue(seq, want, plan);
      budget -= want;
      if (seq.pending > 1) prefillLeft -= want;
    }
    return plan;
  }

  /** Slots to add so `want` more tokens have one (admission covers the prompt; each decode adds one). */
  private growth(seq: Sequence, want: number): number {
    return Math.max(0, seq.computed + want - seq.slots);
  }

  private enqueue(seq: Sequence, want: number, plan: StepPlan): void {
    if (seq.pending === 1 && want === 1) plan.decode.push(seq);
    else plan.prefill.push({ seq, start: seq.computed, end: seq.computed + want, last: seq.computed + want === seq.tokens.length });
  }

  private preempt(seq: Sequence, plan: StepPlan): void {
    const r = this.running.indexOf(seq);
    if (r >= 0) this.running.splice(r, 1);
    // Drop anything already planned for it this step.
    const d = plan.decode.indexOf(seq);
    if (d >= 0) plan.decode.splice(d, 1);
    const p = plan.prefill.findIndex((c) => c.seq === seq);
    if (p >= 0) plan.prefill.splice(p, 1);
    this.kv.free(seq.id);
    seq.computed = 0;
    seq.slots = 0;
    seq.state = 'waiting';
    seq.preemptions++;
    this.preemptions++;
    this.waiting.unshift(seq);
    plan.preempted.push(seq);
  }
}
