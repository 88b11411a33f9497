/**
 * The load-time proof that a serving path computes what the unmodified graph computes. Two sequences (one short, one
 * crossing a block boundary and prefilled in two chunks, so S > 1 with a past is covered) are run through the
 * candidate path on scratch blocks of the pool: prefill, then two decode steps batched together (so padded past
 * holes are covered). Every last-position logits row is compared with the unmodified graph run one sequence at a
 * time with exact-length past tensors, the way every exporter's own test runs it.
 */
import * as ort from 'onnxruntime-node';
import type { ForwardEntry } from './forward-entry.js';

export interface ProofResult {
  ok: boolean;
  maxDiff: number;
  tolerance: number;
  /** Logits rows compared. */
  rows: number;
  detail: string;
}

export interface ProofShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  blockSize: number;
  numBlocks: number;
}

/** Last-position logits of each step, running the unmodified graph alone with exact past (present -> past). */
async function referenceSteps(session: ort.InferenceSession, s: ProofShape, steps: number[][]): Promise<Float32Array[]> {
  const takesPositions = session.inputNames.includes('position_ids');
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < s.layers; l++) {
    for (const kind of ['key', 'value']) {
      past[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, s.kvHeads, 0, s.headDim]);
    }
  }
  const rows: Float32Array[] = [];
  let pos = 0;
  for (const input of steps) {
    const S = input.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(input.map(BigInt)), [1, S]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + S).fill(1n), [1, pos + S]),
      ...past,
    };
    if (takesPositions) feeds['position_ids'] = new ort.Tensor('int64', BigInt64Array.from(input.map((_, i) => BigInt(pos + i))), [1, S]);
    const r = await session.run(feeds);
    const logits = r['logits']!;
    const Sl = Number(logits.dims[1]);
    const data = logits.data as Float32Array;
    rows.push(Float32Array.from(data.subarray((Sl - 1) * s.vocab, Sl * s.vocab)));
    past = {};
    for (let l = 0; l < s.layers; l++) {
      for (const kind of ['key', 'value']) past[`past_key_values.${l}.${kind}`] = r[`present.${l}.${kind}`]!;
    }
    pos += S;
  }
  return rows;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i]! - b[i]!);
    if (!(x <= d)) d = Number.isNaN(x) ? Infinity : x;
  }
  return d;
}

/** The proof's sequences with the unmodified graph's logits for each step (computed once, before any candidate). */
export interface ProofPlan {
  seqs: Array<{ prompt: number[]; decode: number[]; table: number[]; ref: Float32Array[] }>;
  blocksUsed: number;
}

/**
 * Runs the unmodified graph on the proof's sequences. Done before any candidate session exists, so the reference
 * session can be released first and a model is never held in memory three times at load.
 */
export async function referencePlan(reference: ort.InferenceSession, s: ProofShape): Promise<ProofPlan> {
  const needIn = [
    'input_ids',
    'attention_mask',
    ...Array.from({ length: s.layers }, (_, l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`]).flat(),
  ];
  const needOut = ['logits', ...Array.from({ length: s.layers }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat()];
  const missing = [...needIn.filter((n) => !reference.inputNames.includes(n)), ...needOut.filter((n) => !reference.outputNames.includes(n))];
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''} (expected Optimum decoder-with-past names for ${s.layers} layers)`,
    );
  }
  const tok = (i: number) => (i * 37 + 11) % s.vocab;
  const decodes = 2;
  const lenA = Math.min(5, s.blockSize);
  const blocksFor = (n: number) => Math.ceil((n + decodes) / s.blockSize);
  const seqs: ProofPlan['seqs'] = [];
  let next = 0;
  const add = async (len: number, offset: number) => {
    const table = Array.from({ length: blocksFor(len) }, () => next++);
    const prompt = Array.from({ length: len }, (_, i) => tok(i + offset));
    const decode = Array.from({ length: decodes }, (_, i) => tok(1000 + offset + i));
    seqs.push({ prompt, decode, table, ref: await referenceSteps(reference, s, [prompt, ...decode.map((t) => [t])]) });
  };
  await add(lenA, 0);
  // The second sequence crosses a block boundary when the pool allows it.
  const lenB = s.blockSize + 3;
  if (blocksFor(lenA) + blocksFor(lenB) <= s.numBlocks) await add(lenB, 100);
  else if (blocksFor(lenA) * 2 <= s.numBlocks) await add(Math.max(1, lenA - 1), 100);
  return { seqs, blocksUsed: next };
}

/**
 * Proves `forward` (which writes K/V into the pool blocks its entries name) against the plan's reference logits.
 * `batched: false` runs every step alone and prefills in one chunk, for dynamically quantized graphs whose rows
 * depend on their neighbours. Uses blocks [0, plan.blocksUsed) of the pool; the caller clears them afterwards.
 */
export async function proveForward(
  forward: (entries: ForwardEntry[]) => Promise<Float32Array[]>,
  plan: ProofPlan,
  s: ProofShape,
  opts: { batched: boolean; tolerance: number; relative?: boolean },
): Promise<ProofResult> {
  let maxDiff = 0;
  let rows = 0;
  const worst = { where: '' };
  const check = (got: Float32Array, want: Float32Array, where: string) => {
    const d = maxAbsDiff(got, want) / (opts.relative ? Math.max(1, maxAbs(want)) : 1);
    rows++;
    if (d > maxDiff || (d === Infinity && !worst.where)) {
      maxDiff = d;
      worst.where = where;
    }
  };
  for (const [i, q] of plan.seqs.entries()) {
    // Chunked prefill: a chunk that fills the first block, then the rest with that past (S > 1 with a past).
    const split = opts.batched && q.prompt.length > s.blockSize ? s.blockSize + 1 : q.prompt.length;
    let got = await forward([{ tokens: q.prompt.slice(0, split), startPos: 0, blockTable: q.table }]);
    if (split < q.prompt.length) got = await forward([{ tokens: q.prompt.slice(split), startPos: split, blockTable: q.table }]);
    check(got[0]!, q.ref[0]!, `sequence ${i} prefill`);
  }
  const decodes = plan.seqs[0]?.decode.length ?? 0;
  for (let d = 0; d < decodes; d++) {
    const entries = plan.seqs.map((q) => ({ tokens: [q.decode[d]!], startPos: q.prompt.length + d, blockTable: q.table }));
    let got: Float32Array[] = [];
    if (opts.batched) got = await forward(entries);
    else for (const e of entries) got.push((await forward([e]))[0]!);
    plan.seqs.forEach((q, i) => check(got[i]!, q.ref[d + 1]!, `sequence ${i} decode ${d + 1}${opts.batched ? ' (batched)' : ''}`));
  }
  const ok = maxDiff <= opts.tolerance;
  const rel = opts.relative ? ' relative to max |logit|' : '';
  return {
    ok,
    maxDiff,
    tolerance: opts.tolerance,
    rows,
    detail: ok
      ? `${rows} logits rows within ${maxDiff.toExponential(2)}${rel} of the unmodified graph (tolerance ${opts.tolerance}${rel})`
      : `logits differ from the unmodified graph by ${maxDiff === Infinity ? 'NaN/Inf' : maxDiff.toExponential(2) + rel} at ${worst.where} (tolerance ${opts.tolerance}${rel})`,
  };
}
