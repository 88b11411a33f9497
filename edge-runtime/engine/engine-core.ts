/**
 * The engine's step loop, independent of threads: admits requests, asks the scheduler for a plan, runs it on the
 * model runner, samples, detokenizes and emits protocol messages. The worker wraps it; tests can drive it directly.
 */
import type { EngineLoadReport, EngineRequest, EngineStats, FinishReason, FromEngine } from './protocol.js';
import type { PagedModelRunner } from './model-runner.js';
import type { GrammarPort, SamplerPort, TokenMatcher, TokenizerPort } from './ports.js';
import { RequestState, type ChoiceState } from './request-state.js';
import { Scheduler, type SchedulerLimits } from '../scheduler/scheduler.js';
import { Sequence } from '../scheduler/sequence.js';
import type { KvPort } from '../scheduler/kv-port.js';
import { ThroughputMeter } from './throughput-meter.js';
import { StepPeriod } from './step-period.js';
import { predictQueueWaitMs, type QueuedSequence } from '../scheduler/queue-wait.js';
import { PrefillPacer } from '../scheduler/prefill-pacer.js';
import { prefillGroups } from '../scheduler/prefill-groups.js';
import { decodeGroups, PASS_COST_POSITIONS } from '../scheduler/decode-groups.js';

/** Steps closer together than this count as back-to-back work for the step-time average. */
const BACK_TO_BACK_MS = 50;

export interface EngineCoreOptions {
  modelId: string;
  maxContext: number;
  limits: SchedulerLimits;
  now?: () => number;
  /** Reported in stats as-is. */
  load?: EngineLoadReport;
  /** Constrained decoding (response_format, forced tool calls); requests with a constraint are refused without it. */
  grammar?: GrammarPort;
}

export interface KvStatsSource {
  stats(): { total: number; free: number; used: number; cachedFree: number; prefixHitRate: number; waste: number };
}

export class EngineCore {
  private readonly requests = new Map<string, RequestState>();
  private readonly bySeq = new Map<Sequence, { state: RequestState; choice: number }>();
  readonly scheduler: Scheduler;
  private readonly meter = new ThroughputMeter();
  private totalGenerated = 0;
  private totalPrompt = 0;
  private readonly now: () => number;
  private readonly poolTokens: number;
  /** Mean step duration (ms) over recent steps, for queue-wait predictions. */
  private readonly stepPeriod = new StepPeriod();
  private lastStepEndedAt = 0;
  /** EMA of generated / max tokens over finished sequences: how much of max_tokens requests really use. */
  private outputRatioEma = 1;
  /** Admissions waiting for their grammar to compile; the loop keeps stepping (and awaits them) until they land. */
  private readonly compiling = new Map<string, Promise<void>>();
  /** Measured pass costs that size prefill chunks while others decode. */
  private readonly pacer = new PrefillPacer();
  /** Prefill chunks of several sequences share a forward pass (scheduler/prefill-groups.ts); false for bench A/B. */
  batchPrefill = true;
  /** Decode rows are cut into passes by past length (scheduler/decode-groups.ts); false for bench A/B. */
  groupDecodes = true;
  /** What one more decode pass is worth in padded row-positions (decode-groups.ts); a property for bench A/B. */
  decodePassCost = PASS_COST_POSITIONS;

  constructor(
    private readonly runner: PagedModelRunner,
    private readonly kv: KvPort & KvStatsSource,
    private readonly tokenizer: TokenizerPort,
    private readonly sampler: SamplerPort,
    private readonly opts: EngineCoreOptions,
  ) {
    this.scheduler = new Scheduler(kv, opts.limits);
    this.now = opts.now ?? Date.now;
    this.poolTokens = runner.layout.numBlocks * runner.layout.blockSize;
  }

  hasWork(): boolean {
    return this.scheduler.hasWork() || this.compiling.size > 0;
  }

  submit(req: EngineRequest, emit: (m: FromEngine) => void): void {
    const constraint = req.constraint;
    if (!constraint) return this.admit(req, emit, []);
    const grammar = this.opts.grammar;
    if (!grammar) {
      emit({ type: 'error', id: req.id, reason: 'invalid_value', param: 'response_format', message: 'This engine has no grammar support.' });
      return;
    }
    // One matcher per choice; compiling is async (cached per schema), so admission happens when it is done.
    const pending = Promise.all(Array.from({ length: req.n }, () => grammar.matcher(constraint))).then(
      (matchers) => {
        this.compiling.delete(req.id);
        if (this.cancelledEarly.delete(req.id)) return matchers.forEach((m) => m.dispose());
        this.admit(req, emit, matchers);
      },
      (err: unknown) => {
        this.compiling.delete(req.id);
        this.cancelledEarly.delete(req.id);
        emit({
          type: 'error',
          id: req.id,
          reason: 'invalid_value',
          param: 'response_format',
          message: err instanceof Error ? err.message : String(err),
        });
      },
    );
    this.compiling.set(req.id, pending);
  }

  private readonly cancelledEarly = new Set<string>();

  private admit(req: EngineRequest, emit: (m: FromEngine) => void, matchers: TokenMatcher[]): void {
    const release = () => matchers.forEach((m) => m.dispose());
    let prompt: number[];
    try {
      prompt =
        req.input.kind === 'chat'
          ? this.tokenizer.encodeChat(req.input.messages, req.input.tools)
          : req.input.kind === 'text'
            ? this.tokenizer.encodeText(req.input.prompt)
            : req.input.ids;
    } catch (err) {
      emit({
        type: 'error',
        id: req.id,
        reason: 'invalid_prompt',
        message: `Could not prepare the prompt: ${err instanceof Error ? err.message : String(err)}`,
      });
      release();
      return;
    }
    if (req.input.kind === 'tokens' && prompt.some((t) => t < 0 || t >= this.tokenizer.vocabSize)) {
      emit({
        type: 'error',
        id: req.id,
        reason: 'invalid_value',
        param: 'prompt',
        message: `Token ids must be in [0, ${this.tokenizer.vocabSize}).`,
      });
      release();
      return;
    }
    if (prompt.length === 0) {
      emit({ type: 'error', id: req.id, reason: 'invalid_value', param: 'prompt', message: 'The prompt is empty.' });
      release();
      return;
    }
    const limit = Math.min(this.opts.maxContext, this.poolTokens);
    const wanted = req.maxTokens ?? 1;
    if (prompt.length + wanted > limit) {
      const which =
        limit === this.opts.maxContext
          ? `This model's maximum context length is ${limit} tokens`
          : `The edge KV cache holds at most ${limit} tokens per sequence`;
      emit({
        type: 'error',
        id: req.id,
        reason: 'context_length',
        param: 'messages',
        message: `${which}. However, you requested ${prompt.length + wanted} tokens (${prompt.length} in the prompt, ${wanted} for the completion). Please reduce the prompt or max_tokens.`,
      });
      release();
      return;
    }
    const maxTokens = req.maxTokens ?? limit - prompt.length;
    const state = new RequestState(req, prompt, maxTokens, emit);
    state.matchers = matchers;
    this.requests.set(req.id, state);
    const seq = new Sequence(`${req.id}/0`, req.id, 0, prompt, this.now(), req.deadline);
    this.addChoice(state, seq, 0);
    this.scheduler.add(seq);
    this.totalPrompt += prompt.length;
    emit({ type: 'accepted', id: req.id, promptTokens: prompt.length });
  }

  cancel(id: string): void {
    const state = this.requests.get(id);
    if (state) state.cancelled = true;
    else if (this.compiling.has(id)) this.cancelledEarly.add(id);
  }

  /** Runs one iteration. Returns false when there was nothing to do. */
  async step(): Promise<boolean> {
    this.reap();
    if (!this.scheduler.hasWork()) {
      if (this.compiling.size === 0) return false;
      await Promise.race(this.compiling.values());
      return true;
    }
    const began = this.now();
    const plan = this.scheduler.schedule();
    for (const c of plan.copies) this.runner.copyBlock(c.src, c.dst);
    if (plan.decode.length === 0 && plan.prefill.length === 0) {
      // Nothing fits right now (every sequence waits for blocks held by finished-but-unreaped work): fail loudly
      // rather than spin, since with nothing running no block will ever be freed.
      if (this.scheduler.running.length === 0) this.failUnschedulable();
      return true;
    }
    if (plan.decode.length > 0) {
      const seqs = plan.decode;
      const t0 = performance.now();
      const entries = seqs.map((s) => ({ tokens: [s.tokens[s.computed]!], startPos: s.computed, blockTable: this.kv.blockTable(s.id) }));
      // Rows of very different past lengths go in separate passes, so short rows are not padded to the longest.
      const groups = this.groupDecodes
        ? decodeGroups(
            entries.map((e) => e.startPos),
            this.runner.layout.blockSize,
            this.decodePassCost,
          )
        : [entries.map((_, i) => i)];
      const rows = new Array<Float32Array>(entries.length);
      for (const g of groups) {
        const out = await this.runner.forward(g.map((i) => entries[i]!));
        g.forEach((i, j) => (rows[i] = out[j]!));
      }
      this.pacer.decoded(performance.now() - t0);
      for (let i = 0; i < seqs.length; i++) {
        const s = seqs[i]!;
        this.kv.commit(s.id, [s.tokens[s.computed]!]);
        s.computed++;
      }
      const masks = await Promise.all(seqs.map((s) => this.maskFor(s)));
      for (let i = 0; i < seqs.length; i++) this.onLogits(seqs[i]!, rows[i]!, masks[i]);
    }
    const chunks = plan.prefill.filter((c) => c.seq.state === 'running');
    const maxRows = this.batchPrefill && this.runner.batchesPrefill ? Infinity : 1;
    const groups = prefillGroups(
      chunks.map((c) => c.end - c.start),
      maxRows,
    );
    for (const group of groups) {
      const batch = group.map((i) => chunks[i]!);
      const tokens = batch.map((c) => c.seq.tokens.slice(c.start, c.end));
      const t0 = performance.now();
      const rows = await this.runner.forward(
        batch.map((c, j) => ({ tokens: tokens[j]!, startPos: c.start, blockTable: this.kv.blockTable(c.seq.id) })),
      );
      // The pacer caps a sequence prefilling alone beside decodes (several waiting take waiting-share.ts), so it learns
      // from single-row passes only: a batched pass costs less per token and would make its chunks too big.
      if (batch.length === 1) this.pacer.prefilled(performance.now() - t0, tokens[0]!.length);
      for (let j = 0; j < batch.length; j++) {
        const c = batch[j]!;
        this.kv.commit(c.seq.id, tokens[j]!);
        c.seq.computed = c.end;
      }
      for (let j = 0; j < batch.length; j++) {
        const c = batch[j]!;
        if (c.last) this.onLogits(c.seq, rows[j]!, await this.maskFor(c.seq));
      }
    }
    this.scheduler.prefillCapWhileDecoding = this.pacer.cap();
    const ended = this.now();
    // Back-to-back steps: the period (step plus the loop's message handling in between) is what a queued request
    // waits per step; after an idle gap only the step itself counts.
    const gap = began - this.lastStepEndedAt;
    const took = ended - began + (this.lastStepEndedAt > 0 && gap < BACK_TO_BACK_MS ? gap : 0);
    this.lastStepEndedAt = ended;
    this.stepPeriod.add(took);
    return true;
  }

  /** Predicted wait before a newly submitted request gets its first token, from the whole queue (scheduler/queue-wait.ts). */
  private predictQueueWaitMs(): number {
    const { maxBatchedTokens, maxNumSeqs } = this.opts.limits;
    const describe = (s: Sequence): QueuedSequence => {
      const owner = this.bySeq.get(s);
      const max = owner?.state.maxTokens ?? 1;
      // Expected output: the declared maximum scaled by how much of it finished sequences actually used.
      const expectedOutput = Math.max(1, Math.ceil(max * this.outputRatioEma) - s.generated);
      return { pending: s.pending, expectedOutput, footprint: s.tokens.length + expectedOutput };
    };
    return predictQueueWaitMs({
      running: this.scheduler.running.map(describe),
      waiting: this.scheduler.waiting.map(describe),
      maxNumSeqs,
      maxBatchedTokens,
      kvTokens: this.poolTokens,
      stepMs: this.stepPeriod.meanMs(),
    });
  }

  stats(): EngineStats {
    const k = this.kv.stats();
    const tps = this.meter.rate(this.now());
    return {
      model: this.opts.modelId,
      waiting: this.scheduler.waiting.length,
      running: this.scheduler.running.length,
      preempted: this.scheduler.preemptions,
      blocksTotal: k.total,
      blocksUsed: k.used,
      blocksFree: k.free,
      blocksCachedFree: k.cachedFree,
      kvUsage: k.total > 0 ? k.used / k.total : 0,
      prefixHitRate: k.prefixHitRate,
      tokensPerSecond: tps,
      predictedQueueWaitMs: Math.round(this.predictQueueWaitMs()),
      totalGenerated: this.totalGenerated,
      totalPrompt: this.totalPrompt,
      kvWaste: k.waste,
      ...(this.opts.load ? { load: this.opts.load } : {}),
    };
  }

  /** The grammar's mask for a sequence's next token (undefined when the request is unconstrained). */
  private async maskFor(seq: Sequence): Promise<Int32Array | undefined> {
    const owner = this.bySeq.get(seq);
    const matcher = owner?.state.choices[owner.choice]?.matcher;
    return matcher && !matcher.isTerminated() ? matcher.nextMask() : undefined;
  }

  private addChoice(state: RequestState, seq: Sequence, index: number): ChoiceState {
    const choice: ChoiceState = {
      seq,
      sink: this.tokenizer.newSink(state.req.stop),
      counts: new Map(),
      rng: this.sampler.rng(state.req.sampling.seed, index),
      finished: false,
      pendingLogprobs: [],
      matcher: state.matchers[index],
    };
    state.choices[index] = choice;
    this.bySeq.set(seq, { state, choice: index });
    return choice;
  }

  private onLogits(seq: Sequence, logits: Float32Array, mask?: Int32Array): void {
    const owner = this.bySeq.get(seq);
    if (!owner) return;
    const { state } = owner;
    // n > 1: the first choice's prompt is done; the others share its blocks and sample from the same logits.
    if (seq.index === 0 && seq.generated === 0 && state.req.n > 1 && state.choices.length === 1) {
      for (let i = 1; i < state.req.n; i++) {
        const child = new Sequence(`${state.req.id}/${i}`, state.req.id, i, seq.tokens, seq.arrival, seq.deadline);
        this.addChoice(state, child, i);
        this.scheduler.addFork(seq, child);
        // Every choice's matcher is at the grammar's start, so the first choice's mask is theirs too.
        this.sampleInto(state, i, logits, mask);
      }
    }
    this.sampleInto(state, owner.choice, logits, mask);
  }

  private sampleInto(state: RequestState, index: number, logits: Float32Array, mask?: Int32Array): void {
    const choice = state.choices[index]!;
    if (choice.finished || state.cancelled) return;
    const seq = choice.seq;
    // ignore_eos / min_tokens: EOS cannot be sampled (vLLM masks it the same way), so the choice runs on.
    if (state.req.ignoreEos === true || seq.generated < (state.req.minTokens ?? 0)) for (const eos of this.tokenizer.eosIds) logits[eos] = -Infinity;
    const r = this.sampler.sample(logits, state.req.sampling, {
      promptTokens: state.promptTokens,
      outputCounts: choice.counts,
      rng: choice.rng,
      topLogprobs: state.req.logprobs,
      allowed: mask,
    });
    // The grammar advances with the sampled token; once it is complete only EOS is allowed, which ends the choice.
    const grammarDone = choice.matcher !== undefined && (!choice.matcher.accept(r.token) || choice.matcher.isTerminated());
    const now = this.now();
    seq.firstTokenAt ??= now;
    seq.tokens.push(r.token);
    choice.counts.set(r.token, (choice.counts.get(r.token) ?? 0) + 1);
    state.completionTokens++;
    this.totalGenerated++;
    this.meter.add(now, 1);
    const isEos = this.tokenizer.eosIds.includes(r.token);
    const out = isEos ? { text: '', stopped: false } : choice.sink.push(r.token);
    if (state.req.logprobs !== undefined && !isEos) {
      const info = this.tokenizer.tokenInfo(r.token);
      choice.pendingLogprobs.push({
        token: info.text,
        logprob: r.logprob,
        bytes: info.bytes,
        top: (r.top ?? []).map((t) => ({ ...this.tokenizer.tokenInfo(t.token), token: this.tokenizer.tokenInfo(t.token).text, logprob: t.logprob })),
      });
    }
    let reason: FinishReason | undefined;
    if (isEos || out.stopped || grammarDone) reason = 'stop';
    else if (seq.generated >= state.maxTokens) reason = 'length';
    if (reason) {
      this.finishChoice(state, index, reason, out.text + (out.stopped ? '' : choice.sink.flush()));
      return;
    }
    if (out.text) {
      const logprobs = choice.pendingLogprobs.length > 0 ? choice.pendingLogprobs.splice(0) : undefined;
      state.emit({ type: 'delta', id: state.req.id, index, text: out.text, tokens: 1, logprobs });
    }
  }

  private finishChoice(state: RequestState, index: number, reason: FinishReason, text: string): void {
    const choice = state.choices[index]!;
    if (choice.finished) return;
    choice.finished = true;
    if (reason === 'stop' || reason === 'length') {
      this.outputRatioEma = 0.9 * this.outputRatioEma + 0.1 * Math.min(1, choice.seq.generated / Math.max(1, state.maxTokens));
    }
    choice.matcher?.dispose();
    this.scheduler.remove(choice.seq);
    this.bySeq.delete(choice.seq);
    const logprobs = choice.pendingLogprobs.length > 0 ? choice.pendingLogprobs.splice(0) : undefined;
    state.emit({ type: 'finish', id: state.req.id, index, reason, text, logprobs });
    state.finishedChoices++;
    if (state.finishedChoices >= state.req.n) {
      this.requests.delete(state.req.id);
      const p = state.promptTokens.length;
      // Prompt tokens served from the prefix cache (first choice's admission), as OpenAI reports cached tokens.
      const cached = Math.min(p, state.choices[0]?.seq.cachedTokens ?? 0);
      state.emit({
        type: 'done',
        id: state.req.id,
        usage: {
          prompt_tokens: p,
          completion_tokens: state.completionTokens,
          total_tokens: p + state.completionTokens,
          prompt_tokens_details: { cached_tokens: cached },
        },
      });
    }
  }

  /** Frees cancelled requests and ends the ones past their deadline, before planning the next step. */
  private reap(): void {
    const now = this.now();
    for (const state of this.requests.values()) {
      if (state.cancelled) {
        for (const c of state.choices) {
          this.scheduler.remove(c.seq);
          this.bySeq.delete(c.seq);
        }
        state.matchers.forEach((m) => m.dispose());
        this.requests.delete(state.req.id);
        continue;
      }
      const deadline = state.req.deadline;
      if (deadline !== undefined && now > deadline) {
        for (let i = 0; i < state.choices.length; i++) {
          if (!state.choices[i]!.finished) this.finishChoice(state, i, 'deadline', '');
        }
      }
    }
  }

  private failUnschedulable(): void {
    for (const seq of [...this.scheduler.waiting]) {
      const owner = this.bySeq.get(seq);
      if (!owner) continue;
      const { state } = owner;
      state.emit({
        type: 'error',
        id: state.req.id,
        reason: 'overloaded',
        message: 'The edge KV cache cannot hold this request; it was not started.',
      });
      state.cancelled = true;
    }
    this.reap();
  }
}
