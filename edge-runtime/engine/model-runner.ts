/**
 * Runs forward passes of a decoder over one shared paged KV pool: builds the inputs for a batch of sequence chunks,
 * runs onnxruntime, scatters the new tokens' K/V into their pool slots and returns last-position logits. Knows
 * nothing about scheduling or sampling; the block manager decides which slots each token uses.
 *
 * Three execution paths, tried in this order at load and kept only when proven (load-proof.ts):
 * - `paged`: the graph rewritten to gather its past from the pool inside ORT (paged-graph.ts); fastest.
 * - `assembled`: the unmodified graph, past tensors assembled from the pool in JS (padded to the longest row, holes
 *   masked), `present.*` read back; batching kept, ~2.5-8x slower per step at long contexts (PLATFORM.md).
 * - `assembled-grouped`: as `assembled`, but only rows with the same past length share a pass, so no row ever sees
 *   padding; for graphs that derive positions or masks from the past length in ways padding breaks.
 */
import * as ort from 'onnxruntime-node';
import { onnx, type O } from '../graph/onnx.js';
import { GraphRewriteError, narrowLogitsToLast, presentIsRowAligned, rewriteToPaged, type PagedGraphInfo } from './paged-graph.js';
import { proveForward, referencePlan, type ProofPlan, type ProofResult } from './load-proof.js';
import type { ForwardEntry, KvLayout } from './forward-entry.js';

export type { ForwardEntry, KvLayout } from './forward-entry.js';

export type ExecutionMode = 'paged' | 'assembled' | 'assembled-grouped';
export type ThreadSpinning = 'off' | 'within-run' | 'on';
export const EXECUTION_MODES: readonly ExecutionMode[] = ['paged', 'assembled', 'assembled-grouped'];

/** Which path serves the model and why: logged once at load, shown by /health, /metrics and `edge inspect`. */
export interface ExecutionPath {
  mode: ExecutionMode;
  /** One sentence: why this path (and why not the faster ones). */
  reason: string;
  proof?: Pick<ProofResult, 'maxDiff' | 'tolerance' | 'rows'>;
  /** Paths tried before this one, with why each was rejected. */
  rejected: Array<{ mode: ExecutionMode; why: string }>;
}

export interface RunnerOptions {
  layout: KvLayout;
  vocabSize: number;
  threads?: number;
  /** 'auto' (default) tries paged, then assembled, then assembled-grouped; a mode forces that path (still proven). */
  path?: ExecutionMode | 'auto';
  /** Prove the chosen path against the unmodified graph at load (default true). */
  prove?: boolean;
  /** The graph quantizes activations across the batch: prove rows alone, in one prefill chunk. */
  dynamicQuant?: boolean;
  /** Max |logits difference| the proof accepts (default 1e-4). */
  tolerance?: number;
  /** Tolerance relative to the row's max |logit| (for int8-activation kernels, whose noise scales with the logits). */
  relativeTolerance?: boolean;
  /** Extra onnxruntime session options (profiling in bench/edge-profile.ts); merged over the defaults. */
  ortOptions?: ort.InferenceSession.SessionOptions;
  /** Folder the model's external data files live in (model bytes from a file with `model.onnx_data` beside it). */
  externalDataDir?: string;
  /**
   * Paged path: fuse MatMulNBits over one activation (q/k/v, gate/up) into one each (fuse-projections.ts), proven like
   * the rest; when the fused graph fails its proof the unfused one is tried. Default true.
   */
  fuseProjections?: boolean;
  /**
   * Whether onnxruntime's pool threads spin waiting for work instead of sleeping: 'off' (default), 'within-run' (spin
   * between the kernels of a run, sleep after it: ORT's force_spinning_stop) or 'on' (ORT's own default). On an idle
   * box 'within-run' was as fast as 'on' and 5-10% more tok/s than 'off'; with another process busy, 'off' served
   * 1.5-2x the tok/s of both (docs/ARCHITECTURE.md, Edge throughput). 'off' because a gateway's box is rarely idle.
   */
  threadSpinning?: ThreadSpinning;
}

/** Where the last forward pass spent its time (ms): inputs built in JS, inside onnxruntime, new K/V scattered. */
export interface PassTiming {
  buildMs: number;
  runMs: number;
  scatterMs: number;
}

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

type Pool = { k: Float32Array[]; v: Float32Array[] };

function sessionOptions(opts: RunnerOptions): ort.InferenceSession.SessionOptions {
  const spinning = opts.threadSpinning ?? 'off';
  const spin = spinning === 'off' ? '0' : '1';
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? 0,
    interOpNumThreads: 1,
    ...opts.ortOptions,
    extra: {
      session: {
        'intra_op.allow_spinning': spin,
        'inter_op.allow_spinning': spin,
        ...(spinning === 'within-run' ? { force_spinning_stop: '1' } : {}),
        // A model given as bytes has no folder of its own: ORT resolves external data against this one.
        ...(opts.externalDataDir ? { model_external_initializers_file_folder_path: opts.externalDataDir } : {}),
        ...(opts.ortOptions?.extra as { session?: Record<string, string> } | undefined)?.session,
      },
    },
  };
}

/**
 * A zeroed Float32Array whose pages are resident now. A fresh typed array is mapped lazily, so an untouched pool became
 * resident block by block as traffic first wrote each block (the prefix cache hands out never-used blocks before
 * evicting cached ones): RSS crept up by the whole KV budget over the first thousands of requests (docs/ARCHITECTURE.md, "Memory under a long run").
 * Writing it once at load makes RSS the steady state from the start and an over-large kv_budget_mb fail at load.
 */
function residentFloats(n: number): Float32Array {
  const a = new Float32Array(n);
  // One write per 4 KiB page is enough to fault it in; the values stay 0.
  for (let i = 0; i < n; i += 1024) a[i] = 0;
  return a;
}

/** Max |logits difference| a path may show against the unmodified graph when both compute in fp32. */
const EXACT_TOLERANCE = 1e-4;

/**
 * The same model with every MatMulNBits at accuracy_level 0 (fp32 activations), or undefined when none computes with
 * int8 activations: what the load proof runs on, so it compares graph rewrites and not quantization noise.
 */
function exactActivationTwin(bytes: Uint8Array): Uint8Array | undefined {
  const model = onnx.ModelProto.decode(bytes);
  let changed = false;
  for (const n of model.graph?.node ?? []) {
    if (n.opType !== 'MatMulNBits') continue;
    const level = (n.attribute ?? []).find((a) => a.name === 'accuracy_level');
    if (level && Number(level.i ?? 0) > 0) ((level.i = 0), (changed = true));
  }
  return changed ? onnx.ModelProto.encode(model).finish() : undefined;
}

function narrowed(bytes: Uint8Array): { bytes: Uint8Array; rowAligned: boolean } {
  const model = onnx.ModelProto.decode(bytes);
  narrowLogitsToLast(model.graph as O.GraphProto);
  return { bytes: onnx.ModelProto.encode(model).finish(), rowAligned: presentIsRowAligned(model.graph!) };
}

export class PagedModelRunner {
  /** Rewrite details when the path is `paged`. */
  readonly info: PagedGraphInfo | undefined;
  readonly layout: KvLayout;
  /** The KV pool: the only place KV lives. [num_blocks, kv_heads, block_size, head_dim] per layer, K and V. */
  readonly poolK: Float32Array[];
  readonly poolV: Float32Array[];
  path: ExecutionPath;
  /** The last pass's time split; cheap enough to keep always (three clock reads per pass). */
  readonly lastPass: PassTiming = { buildMs: 0, runMs: 0, scatterMs: 0 };
  private readonly poolTensors: Record<string, ort.Tensor> = {};
  /** Pool row (one block of one head) that is never written: what masked past blocks gather. */
  private zeroRow = 0;
  private readonly blockFloats: number;
  private readonly takesPositions: boolean;
  /** Assembled paths: present holds row b's new K/V at its own past length (GQA), not after the padded past. */
  private rowAligned = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly mode: ExecutionMode,
    info: PagedGraphInfo | undefined,
    pool: Pool,
    private readonly opts: RunnerOptions,
  ) {
    this.info = info;
    this.layout = opts.layout;
    const { numBlocks, kvHeads, blockSize, headDim, layers } = opts.layout;
    this.blockFloats = kvHeads * blockSize * headDim;
    this.poolK = pool.k;
    this.poolV = pool.v;
    this.takesPositions = session.inputNames.includes('position_ids');
    this.path = { mode, reason: '', rejected: [] };
    if (info) {
      this.zeroRow = numBlocks * kvHeads;
      const dims = [this.zeroRow + 1, blockSize * headDim];
      for (let l = 0; l < layers; l++) {
        // ORT reads input typed arrays in place: the tensors are views over the pool, created once.
        this.poolTensors[info.poolInputs[l]!.key] = new ort.Tensor('float32', pool.k[l]!, dims);
        this.poolTensors[info.poolInputs[l]!.value] = new ort.Tensor('float32', pool.v[l]!, dims);
      }
    }
  }

  /**
   * Builds the runner from self-contained model bytes (external data inlined, fp16 upcast: model/load-onnx.ts),
   * choosing and proving the execution path. Throws ModelLoadError naming every path's failure when none is proven.
   */
  static async create(modelBytes: Uint8Array, opts: RunnerOptions): Promise<PagedModelRunner> {
    const { numBlocks, kvHeads, blockSize, headDim, layers } = opts.layout;
    // One extra (block, head) row past the blocks stays zero: masked past blocks read it (paged path), as the padding
    // of the assembled path is zeros.
    const floats = (numBlocks * kvHeads + 1) * blockSize * headDim;
    const pool: Pool = { k: [], v: [] };
    for (let l = 0; l < layers; l++) (pool.k.push(residentFloats(floats)), pool.v.push(residentFloats(floats)));
    const wanted = opts.path ?? 'auto';
    const modes = wanted === 'auto' ? EXECUTION_MODES : [wanted];
    const prove = opts.prove ?? true;
    const shape = { ...opts.layout, vocab: opts.vocabSize };
    // int8 activations round every activation, which turns any rewrite's last-bit differences into ~1e-2 logit noise
    // (the paged path failed a 2e-3 relative bar on bench-50m q4 and the engine fell back to the ~3x slower assembled
    // path). The rewrite does not depend on the accuracy level, so it is proven exactly on the fp32-activation twin.
    const twin = prove ? exactActivationTwin(modelBytes) : undefined;
    const proofBytes = twin ?? modelBytes;
    const tolerance = twin ? EXACT_TOLERANCE : (opts.tolerance ?? EXACT_TOLERANCE);
    // Relative to max |logit| (at least 1) on the twin too: a 30-layer q4 model's fp32 summation-order noise reached
    // 1.6e-4 absolute on logits of ~10 (SmolLM2-135M shape), while a wrong read moves them by 1e-2 or more.
    const relative = twin ? true : opts.relativeTolerance;
    let plan: ProofPlan | undefined;
    if (prove) {
      const reference = await ort.InferenceSession.create(proofBytes, sessionOptions(opts));
      try {
        plan = await referencePlan(reference, shape);
      } catch (err) {
        throw new ModelLoadError(
          `the model's own graph does not run as a decoder with past: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      } finally {
        await reference.release();
      }
    }
    const rejected: ExecutionPath['rejected'] = [];
    const unmodified = new Map<Uint8Array, { session: ort.InferenceSession; rowAligned: boolean }>();
    let fusedGroups: number | undefined;
    const build = async (mode: ExecutionMode, bytes: Uint8Array, fuse = false): Promise<PagedModelRunner> => {
      if (mode === 'paged') {
        const { bytes: paged, info } = rewriteToPaged(bytes, { kvHeads, headDim, blockSize, lastLogitsOnly: true, fuseProjections: fuse });
        if (fuse) fusedGroups = info.fusedProjections;
        if (info.layers !== layers) throw new GraphRewriteError(`graph has ${info.layers} layers of past K/V but config.json says ${layers}`);
        return new PagedModelRunner(await ort.InferenceSession.create(paged, sessionOptions(opts)), mode, info, pool, opts);
      }
      let u = unmodified.get(bytes);
      if (!u) {
        const n = narrowed(bytes);
        u = {
          session: await ort.InferenceSession.create(n.bytes, sessionOptions(opts)),
          rowAligned: n.rowAligned,
        };
        unmodified.set(bytes, u);
      }
      const runner = new PagedModelRunner(u.session, mode, undefined, pool, opts);
      runner.rowAligned = u.rowAligned;
      return runner;
    };
    const releaseUnmodified = async (keep?: ort.InferenceSession) => {
      for (const u of unmodified.values()) if (u.session !== keep) await u.session.release();
    };
    // The paged path with fused projections first, then without (only when fusing changed the graph and failed).
    const candidates = modes.flatMap((mode) =>
      mode === 'paged' && opts.fuseProjections !== false
        ? [
            { mode, fuse: true },
            { mode, fuse: false },
          ]
        : [{ mode, fuse: false }],
    );
    try {
      for (const { mode, fuse } of candidates) {
        if (mode === 'paged' && !fuse && fusedGroups === 0) continue;
        const label = (why: string) => (fuse && fusedGroups !== 0 ? `with fused projections: ${why}` : why);
        let runner: PagedModelRunner;
        try {
          runner = await build(mode, proofBytes, fuse);
        } catch (err) {
          rejected.push({ mode, why: label(err instanceof Error ? err.message.split('\n')[0]! : String(err)) });
          continue;
        }
        let proof: ProofResult | undefined;
        if (plan) {
          try {
            proof = await proveForward((e) => runner.forward(e), plan, shape, { batched: !opts.dynamicQuant, tolerance, relative });
            for (let b = 0; b < plan.blocksUsed; b++) runner.clearBlock(b);
          } catch (err) {
            proof = {
              ok: false,
              maxDiff: Infinity,
              tolerance,
              rows: 0,
              detail: `the proof run failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
            };
          }
          if (!proof.ok) {
            rejected.push({ mode, why: label(proof.detail) });
            // A failed path may have written NaN into scratch blocks; masked slots are still multiplied by 0.
            for (const a of [...pool.k, ...pool.v]) a.fill(0);
            if (mode === 'paged') await runner.session.release();
            continue;
          }
        }
        if (twin) {
          // Proven on the twin: serve the model as shipped (int8 activations), same path.
          const proven = runner;
          runner = await build(mode, modelBytes, fuse);
          if (mode === 'paged') await proven.session.release();
        }
        const because = rejected.length ? `; ${rejected.map((r) => `${r.mode} rejected: ${r.why}`).join('; ')}` : '';
        const how = twin ? ' on its fp32-activation twin (MatMulNBits accuracy_level 0; served with int8 activations)' : '';
        const proven = proof ? `proven at load${how}: ${proof.detail}` : 'not proven (proof disabled)';
        const fusedNote = runner.info?.fusedProjections ? ` with ${runner.info.fusedProjections} projection groups fused` : '';
        runner.path = {
          mode,
          reason: `${mode} path${fusedNote}, ${proven}${because}`,
          proof: proof && { maxDiff: proof.maxDiff, tolerance: proof.tolerance, rows: proof.rows },
          rejected,
        };
        await releaseUnmodified(mode === 'paged' ? undefined : runner.session);
        // The op type is stored as plain bytes in the protobuf: a search spares decoding a large model again.
        runner.groupQueryAttention = Buffer.from(modelBytes.buffer, modelBytes.byteOffset, modelBytes.byteLength).includes('GroupQueryAttention');
        return runner;
      }
    } catch (err) {
      await releaseUnmodified();
      throw err;
    }
    await releaseUnmodified();
    throw new ModelLoadError(
      `no execution path computes what the model's own graph computes: ${rejected.map((r) => `${r.mode}: ${r.why}`).join('; ')}`,
    );
  }

  /**
   * Whether prefill chunks of several sequences may share a pass. Not when the graph quantizes activations across the
   * batch (a row's logits would depend on its neighbours), nor for ORT's GroupQueryAttention, which refuses batch > 1
   * when sequence_length > 1 and a past is given ("batch_size must be 1 when ...").
   */
  get batchesPrefill(): boolean {
    return this.opts.dynamicQuant !== true && !this.groupQueryAttention;
  }
  private groupQueryAttention = false;

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

  private clearBlock(b: number): void {
    const n = this.blockFloats;
    for (let l = 0; l < this.layout.layers; l++) (this.poolK[l]!.fill(0, b * n, b * n + n), this.poolV[l]!.fill(0, b * n, b * n + n));
  }

  /**
   * One forward pass for a batch (several in `assembled-grouped` mode). Rows are left-padded to the longest chunk so
   * every row's last real token sits at the last position (the graph only computes logits there). Returns one logits
   * row (vocab floats) per entry.
   */
  async forward(entries: readonly ForwardEntry[]): Promise<Float32Array[]> {
    if (this.mode !== 'assembled-grouped') return this.pass(entries);
    const groups = new Map<string, number[]>();
    entries.forEach((e, i) => {
      const key = `${e.startPos}/${e.tokens.length}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const rows: Float32Array[] = new Array<Float32Array>(entries.length);
    for (const idx of groups.values()) {
      const out = await this.pass(idx.map((i) => entries[i]!));
      idx.forEach((i, j) => (rows[i] = out[j]!));
    }
    return rows;
  }

  private async pass(entries: readonly ForwardEntry[]): Promise<Float32Array[]> {
    const t0 = performance.now();
    const { blockSize } = this.layout;
    const B = entries.length;
    let S = 1;
    let maxPast = 0;
    for (const e of entries) {
      S = Math.max(S, e.tokens.length);
      maxPast = Math.max(maxPast, e.startPos);
    }
    // Paged: the longest row's past in whole blocks (at least one). Assembled: exactly the longest row's past.
    const P = this.info ? Math.max(1, Math.ceil(maxPast / blockSize)) * blockSize : maxPast;
    const ids = new BigInt64Array(B * S);
    const pos = new BigInt64Array(B * S);
    const mask = new BigInt64Array(B * (P + S));
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
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, S]),
      attention_mask: new ort.Tensor('int64', mask, [B, P + S]),
    };
    if (this.takesPositions) feeds['position_ids'] = new ort.Tensor('int64', pos, [B, S]);
    if (this.info) {
      // Pool row of (row b, head h, past block k): block * kv_heads + h; blocks past the row's own read the zero row.
      const { kvHeads } = this.layout;
      const blocks = P / blockSize;
      const index = new BigInt64Array(B * kvHeads * blocks).fill(BigInt(this.zeroRow));
      // Written through the low 32-bit words (little-endian, rows < 2^31): no BigInt per element.
      const low = new Int32Array(index.buffer);
      for (let b = 0; b < B; b++) {
        const e = entries[b]!;
        const own = Math.ceil(e.startPos / blockSize);
        for (let k = 0; k < own; k++) {
          const block = e.blockTable[k]!;
          for (let h = 0; h < kvHeads; h++) low[2 * ((b * kvHeads + h) * blocks + k)] = block * kvHeads + h;
        }
      }
      feeds['kv_index'] = new ort.Tensor('int64', index, [B, kvHeads, blocks]);
      Object.assign(feeds, this.poolTensors);
    } else {
      this.assemblePast(entries, P, feeds);
    }
    const t1 = performance.now();
    const out = await this.session.run(feeds);
    const t2 = performance.now();
    for (let l = 0; l < this.layout.layers; l++) {
      if (this.info) {
        const nk = out[this.info.newKvOutputs[l]!.key]!.data as Float32Array;
        const nv = out[this.info.newKvOutputs[l]!.value]!.data as Float32Array;
        this.scatter(l, entries, nk, nv, S, () => 0);
      } else {
        // present = [past (P) | this chunk (S)]: the new K/V starts at P, or (GQA) right after the row's own past.
        const present = out[`present.${l}.key`]!;
        const pk = present.data as Float32Array;
        const pv = out[`present.${l}.value`]!.data as Float32Array;
        const T = Number(present.dims[2]);
        this.scatter(l, entries, pk, pv, T, this.rowAligned ? (b, pad) => entries[b]!.startPos - pad : () => P);
      }
    }
    const logits = out['logits']!;
    const data = logits.data as Float32Array;
    const V = this.opts.vocabSize;
    const rowStride = Number(logits.dims[1]) * V;
    const rows: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      const start = b * rowStride + rowStride - V;
      rows.push(data.subarray(start, start + V));
    }
    this.lastPass.buildMs = t1 - t0;
    this.lastPass.runMs = t2 - t1;
    this.lastPass.scatterMs = performance.now() - t2;
    return rows;
  }

  /** Feeds past_key_values.* as [B, kvh, P, hd] copied out of the pool; rows shorter than P leave masked zeros. */
  private assemblePast(entries: readonly ForwardEntry[], P: number, feeds: Record<string, ort.Tensor>): void {
    const { kvHeads, headDim, blockSize, layers } = this.layout;
    const B = entries.length;
    for (let l = 0; l < layers; l++) {
      const k = new Float32Array(B * kvHeads * P * headDim);
      const v = new Float32Array(B * kvHeads * P * headDim);
      const pk = this.poolK[l]!;
      const pv = this.poolV[l]!;
      for (let b = 0; b < B; b++) {
        const e = entries[b]!;
        for (let p = 0; p < e.startPos; p++) {
          const block = e.blockTable[Math.floor(p / blockSize)]!;
          const off = p % blockSize;
          for (let h = 0; h < kvHeads; h++) {
            const src = ((block * kvHeads + h) * blockSize + off) * headDim;
            const dst = ((b * kvHeads + h) * P + p) * headDim;
            k.set(pk.subarray(src, src + headDim), dst);
            v.set(pv.subarray(src, src + headDim), dst);
          }
        }
      }
      feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', k, [B, kvHeads, P, headDim]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', v, [B, kvHeads, P, headDim]);
    }
  }

  /**
   * Writes each row's new K/V into the pool slots its block table gives. `nk`/`nv` are [B, kvh, len, hd]; row b's
   * chunk sits at positions [offset(b) + pad, offset(b) + S) (left-padded to S).
   */
  private scatter(
    l: number,
    entries: readonly ForwardEntry[],
    nk: Float32Array,
    nv: Float32Array,
    len: number,
    offsetOf: (b: number, pad: number) => number,
  ): void {
    const { kvHeads, headDim, blockSize } = this.layout;
    const pk = this.poolK[l]!;
    const pv = this.poolV[l]!;
    let S = 1;
    for (const e of entries) S = Math.max(S, e.tokens.length);
    for (let b = 0; b < entries.length; b++) {
      const e = entries[b]!;
      const pad = S - e.tokens.length;
      const offset = offsetOf(b, pad);
      for (let j = 0; j < e.tokens.length; j++) {
        const p = e.startPos + j;
        const block = e.blockTable[Math.floor(p / blockSize)]!;
        const off = p % blockSize;
        for (let h = 0; h < kvHeads; h++) {
          const src = ((b * kvHeads + h) * len + offset + pad + j) * headDim;
          const dst = ((block * kvHeads + h) * blockSize + off) * headDim;
          pk.set(nk.subarray(src, src + headDim), dst);
          pv.set(nv.subarray(src, src + headDim), dst);
        }
      }
    }
  }

  /** Ends onnxruntime profiling (when `ortOptions.enableProfiling` was set): ORT writes `<profileFilePrefix>_<date>.json`. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
