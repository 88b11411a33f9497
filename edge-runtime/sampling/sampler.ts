/**
 * Next-token selection: logit bias, repetition / frequency / presence penalties, temperature, top-k, top-p, min-p,
 * seeded sampling (greedy at temperature 0), and logprobs. Each choice has its own random stream, so a sequence's
 * tokens do not depend on its batch neighbours. Scratch buffers are reused: nothing is allocated per token but the
 * small candidate lists.
 */
import type { EngineSampling } from '../engine/protocol.js';
import type { SamplerPort, SampleResult } from '../engine/ports.js';
import { seededRandom } from '../graph/llama-weights.js';

export class Sampler implements SamplerPort {
  private scratch = new Float32Array(0);

  rng(seed: number | undefined, choice: number): () => number {
    const base = seed ?? Math.floor(Math.random() * 2 ** 32);
    return seededRandom((base ^ Math.imul(choice + 1, 0x9e3779b1)) >>> 0);
  }

  sample(
    logits: Float32Array,
    p: EngineSampling,
    ctx: {
      promptTokens: readonly number[];
      outputCounts: Map<number, number>;
      rng: () => number;
      topLogprobs: number | undefined;
      allowed?: Int32Array;
    },
  ): SampleResult {
    const V = logits.length;
    if (this.scratch.length !== V) this.scratch = new Float32Array(V);
    const x = this.scratch;
    x.set(logits);
    // Constrained decoding: tokens the grammar forbids get no probability at all (before penalties, so nothing revives them).
    if (ctx.allowed) applyMask(x, ctx.allowed);
    if (p.logitBias)
      for (const [tok, b] of Object.entries(p.logitBias)) {
        const i = Number(tok);
        if (i >= 0 && i < V) x[i]! += b;
      }
    if (p.repetitionPenalty !== 1) {
      const seen = new Set<number>(ctx.promptTokens);
      for (const t of ctx.outputCounts.keys()) seen.add(t);
      for (const t of seen) if (t < V) x[t] = x[t]! > 0 ? x[t]! / p.repetitionPenalty : x[t]! * p.repetitionPenalty;
    }
    if (p.frequencyPenalty !== 0 || p.presencePenalty !== 0) {
      for (const [t, n] of ctx.outputCounts) if (t < V) x[t]! -= p.frequencyPenalty * n + p.presencePenalty;
    }
    let max = -Infinity;
    let arg = 0;
    for (let i = 0; i < V; i++)
      if (x[i]! > max) {
        max = x[i]!;
        arg = i;
      }
    // Log-softmax of the processed logits (before temperature) gives the reported logprobs. It costs a pass of exp()
    // over the vocabulary per token, so it is computed only when logprobs were asked for.
    let logZ = 0;
    if (ctx.topLogprobs !== undefined) {
      let z = 0;
      for (let i = 0; i < V; i++) z += Math.exp(x[i]! - max);
      logZ = max + Math.log(z);
    }

    let token: number;
    if (p.temperature === 0 || p.topK === 1) token = arg;
    else token = this.draw(x, max, p, ctx.rng());
    const result: SampleResult = { token, logprob: ctx.topLogprobs !== undefined ? x[token]! - logZ : 0 };
    if (ctx.topLogprobs !== undefined && ctx.topLogprobs > 0) {
      result.top = topN(x, ctx.topLogprobs).map((i) => ({ token: i, logprob: x[i]! - logZ }));
    }
    return result;
  }

  private draw(x: Float32Array, max: number, p: EngineSampling, r: number): number {
    const V = x.length;
    const t = p.temperature;
    // Candidates in descending order of probability, cut by top-k, min-p and top-p.
    let cands: number[];
    if (p.topK > 0 && p.topK < V) cands = topN(x, p.topK);
    else {
      // Probabilities below max/1e4 rarely matter; if the kept set does not reach top_p, fall back to every token.
      const floor = max - Math.log(1e4) * t;
      cands = [];
      for (let i = 0; i < V; i++) if (x[i]! >= floor) cands.push(i);
      cands.sort((a, b) => x[b]! - x[a]! || a - b);
    }
    const probs = cands.map((i) => Math.exp((x[i]! - max) / t));
    let total = 0;
    for (let i = 0; i < V; i++) total += Math.exp((x[i]! - max) / t);
    let keptMass = probs.reduce((a, b) => a + b, 0);
    if (p.topP < 1 && keptMass / total < p.topP && cands.length < V && !(p.topK > 0)) {
      cands = Array.from({ length: V }, (_, i) => i).sort((a, b) => x[b]! - x[a]! || a - b);
      probs.length = 0;
      for (const i of cands) probs.push(Math.exp((x[i]! - max) / t));
      keptMass = total;
    }
    let n = cands.length;
    if (p.minP > 0) {
      const cut = p.minP * probs[0]!;
      while (n > 1 && probs[n - 1]! < cut) n--;
    }
    if (p.topP < 1) {
      let cum = 0;
      for (let k = 0; k < n; k++) {
        cum += probs[k]! / total;
        if (cum >= p.topP) {
          n = k + 1;
          break;
        }
      }
    }
    let mass = 0;
    for (let k = 0; k < n; k++) mass += probs[k]!;
    let acc = r * mass;
    let lastPositive = 0;
    for (let k = 0; k < n; k++) {
      acc -= probs[k]!;
      if (acc <= 0) return cands[k]!;
      if (probs[k]! > 0) lastPositive = k;
    }
    // Rounding left a sliver: the last token with any probability (never one a grammar masked out).
    return cands[lastPositive]!;
  }
}

/** Sets every logit whose bit is clear in the bitmask (bit i of word i>>5) to -Infinity. */
export function applyMask(x: Float32Array, allowed: Int32Array): void {
  for (let w = 0; w < allowed.length; w++) {
    const bits = allowed[w]!;
    if (bits === -1) continue;
    const base = w << 5;
    for (let b = 0; b < 32 && base + b < x.length; b++) if (((bits >>> b) & 1) === 0) x[base + b] = -Infinity;
  }
  // Ids past the mask's width (a model wider than the grammar's vocabulary) are never allowed.
  for (let i = allowed.length << 5; i < x.length; i++) x[i] = -Infinity;
}

/** Indices of the n largest values, descending (ties: lower id first); O(V log n). */
export function topN(x: Float32Array, n: number): number[] {
  const heap: number[] = [];
  const worse = (a: number, b: number) => x[a]! < x[b]! || (x[a] === x[b] && a > b);
  for (let i = 0; i < x.length; i++) {
    if (heap.length < n) {
      heap.push(i);
      let c = heap.length - 1;
      while (c > 0) {
        const par = (c - 1) >> 1;
        if (worse(heap[c]!, heap[par]!)) {
          [heap[c], heap[par]] = [heap[par]!, heap[c]!];
          c = par;
        } else break;
      }
    } else if (worse(heap[0]!, i)) {
      heap[0] = i;
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        const rr = l + 1;
        let m = c;
        if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
        if (rr < heap.length && worse(heap[rr]!, heap[m]!)) m = rr;
        if (m === c) break;
        [heap[c], heap[m]] = [heap[m]!, heap[c]!];
        c = m;
      }
    }
  }
  return heap.sort((a, b) => x[b]! - x[a]! || a - b);
}
