/**
 * Runs forward passes of a paged decoder graph over one shared KV pool: builds the inputs for a batch of sequence
 * chunks, runs onnxruntime, scatters the new tokens' K/V into their pool slots and returns last-position logits.
 * Knows nothing about scheduling or sampling; the block manager decides which slots each token uses.
 */
import * as ort from 'onnxruntime-node';
import { rewriteToPaged, type PagedGraphInfo } from './paged-graph.js';

export interface KvLayout {
  layers: number;
  kvHeads: number;
  headDim: number;
  blockSize: number;
  numBlocks: number;
}

export interface ForwardEntry {
  /** Tokens whose K/V is not in the pool yet (a prefill chunk, or one decode token). */
  tokens: ArrayLike<number>;
  /** Tokens of this sequence already in the pool, before `tokens` (= position of tokens[0]). */
  startPos: number;
  /** Block ids covering positions [0, startPos + tokens.length). */
  blockTable: ArrayLike<number>;
}

export interface RunnerOptions {
  layout: KvLayout;
  vocabSize: number;
  threads?: number;
}

export class PagedModelRunner {
  readonly info: PagedGraphInfo;
  readonly layout: KvLayout;
  /** The KV pool: the only place KV lives. [num_blocks, kv_heads, block_size, head_dim] per layer, K and V. */
  readonly poolK: Float32Array[];
  readonly poolV: Float32Array[];
  private readonly poolTensors: Record<string, ort.Tensor> = {};
  private readonly blockFloats: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    info: PagedGraphInfo,
    private readonly opts: RunnerOptions,
  ) {
    this.info = info;
    this.layout = opts.layout;
    const { numBlocks, kvHeads, blockSize, headDim, layers } = opts.layout;
    this.blockFloats = kvHeads * blockSize * headDim;
    const dims = [numBlocks, kvHeads, blockSize, headDim];
    this.poolK = [];
    this.poolV = [];
    for (let l = 0; l < layers; l++) {
      const k = new Float32Array(numBlocks * this.blockFloats);
      const v = new Float32Array(numBlocks * this.blockFloats);
      this.poolK.push(k);
      this.poolV.push(v);
      // ORT reads input typed arrays in place: the tensors are views over the pool, created once.
      this.poolTensors[info.poolInputs[l]!.key] = new ort.Tensor('float32', k, dims);
      this.poolTensors[info.poolInputs[l]!.value] = new ort.Tensor('float32', v, dims);
    }
  }

  static async create(modelBytes: Uint8Array, opts: RunnerOptions): Promise<PagedModelRunner> {
    const { bytes, info } = rewriteToPaged(modelBytes, {
      kvHeads: opts.layout.kvHeads,
      headDim: opts.layout.headDim,
      blockSize: opts.layout.blockSize,
      lastLogitsOnly: true,
    });
    if (info.layers !== opts.layout.layers) {
      throw new Error(`graph has ${info.layers} layers of past K/V but config.json says ${opts.layout.layers}`);
    }
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: opts.threads ?? 0,
      interOpNumThreads: 1,
    });
    return new PagedModelRunner(session, info, opts);
  }

  /** Bytes the pool occupies (K and V, all layers). */
  get poolBytes(): number {
    return this.layout.layers * 2 * this.layout.numBlocks * this.blockFloats * 4;
  }

  /** Copies one block's K/V (all layers) for copy-on-write. */
  copyBlock(src: number, dst: number): void {
    const n = this.blockFloats;
    for (let l = 0; l < this.layout.layers; l++) {
      this.poolK[l]!.copyWithin(dst * n, src * n, src * n + n);
      this.poolV[l]!.copyWithin(dst * n, src * n, src * n + n);
    }
  }

  /**
   * One forward pass for a batch. Rows are left-padded to the longest chunk so every row's last real token sits at
   * the last position (the graph only computes logits there). Returns one logits row (vocab floats) per entry.
   */
  async forward(entries: readonly ForwardEntry[]): Promise<Float32Array[]> {
    const { blockSize } = this.layout;
    const B = entries.length;
    let S = 1;
    let maxBlocks = 1;
    for (const e of entries) {
      S = Math.max(S, e.tokens.length);
      maxBlocks = Math.max(maxBlocks, Math.ceil(e.startPos / blockSize));
    }
    const P = maxBlocks * blockSize;
    const ids = new BigInt64Array(B * S);
    const pos = new BigInt64Array(B * S);
    const mask = new BigInt64Array(B * (P + S));
    const table = new BigInt64Array(B * maxBlocks);
    for (let b = 0; b < B; b++) {
      const e = entries[b]!;
      const len = e.tokens.length;
      const pad = S - len;
      for (let j = 0; j < len; j++) {
        ids[b * S + pad + j] = BigInt(e.tokens[j]!);
        pos[b * S + pad + j] = BigInt(e.startPos + j);
      }
      const m = b * (P + S);
      for (let k = 0; k < e.startPos; k++) mask[m + k] = 1n;
      for (let j = pad; j < S; j++) mask[m + P + j] = 1n;
      const pastBlocks = Math.ceil(e.startPos / blockSize);
      for (let k = 0; k < pastBlocks; k++) table[b * maxBlocks + k] = BigInt(e.blockTable[k]!);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, S]),
      attention_mask: new ort.Tensor('int64', mask, [B, P + S]),
      block_table: new ort.Tensor('int64', table, [B, maxBlocks]),
      ...this.poolTensors,
    };
    if (this.info.hasPositionIds) feeds['position_ids'] = new ort.Tensor('int64', pos, [B, S]);
    const out = await this.session.run(feeds);
    this.scatterNewKv(entries, out, S);
    const logits = out['logits']!;
    const data = logits.data as Float32Array;
    const V = this.opts.vocabSize;
    const rowStride = this.info.lastLogitsOnly ? V : S * V;
    const rows: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      const start = b * rowStride + rowStride - V;
      rows.push(data.subarray(start, start + V));
    }
    return rows;
  }

  /** Writes each row's new K/V ([B, kvh, S, hd] outputs) into the pool slots its block table gives. */
  private scatterNewKv(entries: readonly ForwardEntry[], out: ort.InferenceSession.ReturnType, S: number): void {
    const { kvHeads, headDim, blockSize, layers } = this.layout;
    for (let l = 0; l < layers; l++) {
      const nk = out[this.info.newKvOutputs[l]!.key]!.data as Float32Array;
      const nv = out[this.info.newKvOutputs[l]!.value]!.data as Float32Array;
      const pk = this.poolK[l]!;
      const pv = this.poolV[l]!;
      for (let b = 0; b < entries.length; b++) {
        const e = entries[b]!;
        const pad = S - e.tokens.length;
        for (let j = 0; j < e.tokens.length; j++) {
          const p = e.startPos + j;
          const block = e.blockTable[Math.floor(p / blockSize)]!;
          const off = p % blockSize;
          for (let h = 0; h < kvHeads; h++) {
            const src = ((b * kvHeads + h) * S + pad + j) * headDim;
            const dst = ((block * kvHeads + h) * blockSize + off) * headDim;
            pk.set(nk.subarray(src, src + headDim), dst);
            pv.set(nv.subarray(src, src + headDim), dst);
          }
        }
      }
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
