/**
 * Runs a decoder graph as it is on disk (no paging): builds feeds for the HF/Optimum I/O names, carries present ->
 * past, and decodes greedily. The yardstick that transformers.js, the reference and the engine are compared with.
 */
import * as ort from 'onnxruntime-node';
import { pastName, presentName } from './decoder-io.js';

export interface DecoderDims {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
}

export type KvFeeds = Record<string, ort.Tensor>;

const i64 = (rows: number[][]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]?.length ?? 0]);

/** Empty past K/V ([batch, kv, 0, hd]) for a first step. */
export function emptyPast(d: DecoderDims, batch = 1): KvFeeds {
  const f: KvFeeds = {};
  for (let l = 0; l < d.layers; l++) {
    for (const kind of ['key', 'value'] as const) f[pastName(l, kind)] = new ort.Tensor('float32', new Float32Array(0), [batch, d.kvHeads, 0, d.headDim]);
  }
  return f;
}

/** A step's present.* outputs renamed as the next step's past_key_values.* inputs. */
export function presentAsPast(out: ort.InferenceSession.OnnxValueMapType, layers: number): KvFeeds {
  const f: KvFeeds = {};
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value'] as const) f[pastName(l, kind)] = out[presentName(l, kind)] as ort.Tensor;
  }
  return f;
}

/**
 * Feeds for rows of equal length after `pastLength` cached positions. Without an explicit mask every position is
 * attended and positions count up from `pastLength`.
 */
export function decoderFeeds(d: DecoderDims, rows: number[][], pastLength: number, past?: KvFeeds, opts: { attentionMask?: number[][]; positionIds?: number[][] } = {}): KvFeeds {
  const S = rows[0]?.length ?? 0;
  const mask = opts.attentionMask ?? rows.map(() => new Array<number>(pastLength + S).fill(1));
  const positions = opts.positionIds ?? rows.map(() => Array.from({ length: S }, (_, i) => pastLength + i));
  return { input_ids: i64(rows), attention_mask: i64(mask), position_ids: i64(positions), ...(past ?? emptyPast(d, rows.length)) };
}

export function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
}

/**
 * Greedy decoding of one sequence: prefill the prompt, then one token per step through present -> past. Stops after
 * `maxNew` tokens or on an EOS id (included, as transformers.js does). `rows` holds the logits each token was picked from.
 */
export async function greedyDecode(session: ort.InferenceSession, d: DecoderDims, prompt: number[], maxNew: number, eosIds: readonly number[] = []): Promise<{ tokens: number[]; rows: Float32Array[] }> {
  const tokens: number[] = [];
  const rows: Float32Array[] = [];
  let past: KvFeeds | undefined;
  let input = prompt;
  let pastLength = 0;
  while (tokens.length < maxNew) {
    const out = await session.run(decoderFeeds(d, [input], pastLength, past));
    const logits = out['logits']!.data as Float32Array;
    const row = Float32Array.from(logits.subarray((input.length - 1) * d.vocab, input.length * d.vocab));
    const next = argmax(row);
    tokens.push(next);
    rows.push(row);
    if (eosIds.includes(next)) break;
    past = presentAsPast(out, d.layers);
    pastLength += input.length;
    input = [next];
  }
  return { tokens, rows };
}
