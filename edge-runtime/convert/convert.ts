/**
 * Hugging Face checkpoint folder -> model folder the edge runtime serves (and transformers.js loads): config.json,
 * tokenizer files, onnx/model.onnx | model_quantized.onnx | model_q4.onnx built by our own graph builders from the
 * checkpoint's tensors. Written into a temporary folder and renamed, so a failed run leaves nothing half-written.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { LinearOptions, WeightFormat } from '../graph/linear.js';
import { buildLlamaGraphInto } from '../graph/llama-graph.js';
import { buildGpt2GraphInto } from '../graph/gpt2-graph.js';
import { Checkpoint } from './checkpoint.js';
import { archFromConfig, ropeTablesFrom, type ArchSpec } from './hf-config.js';
import { collectGarbage, lazyGpt2Weights, lazyLlamaWeights, unusedTensors } from './load-weights.js';
import { StreamingGraphBuilder } from './streaming-onnx-writer.js';
import { silentProgress, type Progress } from './progress.js';
import { CheckpointError } from './safetensors.js';
import { writeTokenizerFiles } from './tokenizer-files.js';
import { linearOptionsFor, variantFile } from './variants.js';

export interface ConvertOptions {
  from: string;
  to: string;
  quant: WeightFormat[];
  /** Overrides the MatMulNBits accuracy level of the quantized variants (0: fp32 activations, for exact tests). */
  accuracyLevel?: number;
  int8Kernel?: 'dequantize' | 'nbits';
  /** MatMulNBits block size of the quantized variants (default 32). */
  blockSize?: LinearOptions['blockSize'];
  /** Llama family: fused RMSNorm and rotary kernels (default) or the plain-op subgraphs. */
  fused?: boolean;
  /** Weights in onnx/<file>_data beside each graph; automatic above protobuf's 2 GiB limit. */
  externalData?: boolean;
  /** Caps the context (and the rotary / position tables) below the config's maximum. */
  maxContext?: number;
  progress?: Progress;
}

export interface ConvertResult {
  dir: string;
  arch: ArchSpec;
  files: Partial<Record<WeightFormat, { path: string; bytes: number; ms: number }>>;
  notes: string[];
}

export function readCheckpointConfig(from: string): { raw: Record<string, unknown>; path: string } {
  const path = join(from, 'config.json');
  if (!existsSync(path)) throw new CheckpointError(`${path}: missing (a checkpoint folder needs config.json)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CheckpointError(`${path}: not a JSON object`);
  return { raw: raw as Record<string, unknown>, path };
}

export async function convertCheckpoint(opts: ConvertOptions): Promise<ConvertResult> {
  const progress = opts.progress ?? silentProgress;
  const from = resolve(opts.from);
  const to = resolve(opts.to);
  if (from === to) throw new CheckpointError(`${to}: --to must differ from --from (the checkpoint folder is never overwritten)`);
  if (existsSync(to) && readdirSync(to).some((f) => f.endsWith('.safetensors'))) {
    throw new CheckpointError(`${to}: holds .safetensors files; refusing to replace what looks like a checkpoint`);
  }
  const { raw, path: cfgPath } = readCheckpointConfig(from);
  const arch = archFromConfig(raw, cfgPath, { maxContext: opts.maxContext });
  const notes = [...arch.notes];
  const ck = await Checkpoint.open(from);
  const tmp = `${to}.tmp-${process.pid}-${Date.now()}`;
  try {
    let build: (format: WeightFormat, g: StreamingGraphBuilder) => void;
    let used: Set<string>;
    const onTensor = () => progress.tick();
    if (arch.family === 'llama') {
      const lazy = lazyLlamaWeights(ck, arch.shape, arch.tieWordEmbeddings, onTensor);
      used = lazy.used;
      if (lazy.tied) notes.push('tied embeddings: lm_head is the embedding table');
      if (lazy.weights.biases?.some((b) => Object.keys(b).length > 0)) notes.push('linear biases included');
      if (arch.rope.kind !== 'default') notes.push(`rope scaling: ${arch.rope.kind}`);
      const weights = Object.assign(lazy.weights, { rope: ropeTablesFrom(arch.rope, arch.shape.maxPositions) });
      build = (format, g) =>
        void buildLlamaGraphInto(g, arch.shape, weights, { ...linearOptionsFor(format, opts), weightsAsRows: true }, { fused: opts.fused ?? true });
    } else {
      const trained = (raw['n_positions'] as number | undefined) ?? arch.shape.maxPositions;
      const lazy = lazyGpt2Weights(ck, arch.shape, trained, onTensor);
      used = lazy.used;
      build = (format, g) => void buildGpt2GraphInto(g, arch.shape, lazy.weights, linearOptionsFor(format, opts));
    }
    const unused = unusedTensors(ck, used);
    if (unused.length > 0) {
      const where = ck.info(unused[0]!)?.file ?? ck.dir;
      throw new CheckpointError(
        `${where}: tensor '${unused[0]}'${unused.length > 1 ? ` and ${unused.length - 1} more` : ''} not used by the ${arch.modelType} graph: the checkpoint has parts this converter does not build`,
      );
    }
    await mkdir(join(tmp, 'onnx'), { recursive: true });
    const files: ConvertResult['files'] = {};
    const externalFiles: WeightFormat[] = [];
    for (const format of opts.quant) {
      // The previous variant's weights are garbage now: collect them before this one's are read.
      collectGarbage();
      const t0 = performance.now();
      // Tensors are read as the graph takes them (one progress tick each), then the file is streamed out.
      progress.start(`${format}: read + build`, used.size);
      const g = new StreamingGraphBuilder(arch.family === 'llama' ? 'switchyard-llama' : 'switchyard-gpt2');
      build(format, g);
      progress.done();
      // protobuf caps a message at 2 GiB: bigger models keep their weights in onnx/<file>_data beside the graph.
      const external = opts.externalData ?? g.needsExternalData();
      if (external) externalFiles.push(format);
      const name = variantFile(format);
      // Writing a multi-GB file takes a while too: its own bar, in MiB.
      const totalMiB = Math.ceil(g.payloadBytes() / 2 ** 20);
      progress.start(`${format}: write onnx/${name}`, totalMiB);
      let shownMiB = 0;
      const onBytes = (written: number) => {
        const mib = Math.min(Math.floor(written / 2 ** 20), totalMiB);
        if (mib > shownMiB) (progress.tick(mib - shownMiB), (shownMiB = mib));
      };
      // writeTo lets go of the weights it wrote (something kept the spent builder alive into the next variant).
      const bytes = await g.writeTo(join(tmp, 'onnx', name), { externalData: external, onBytes });
      progress.tick(totalMiB - shownMiB);
      progress.done();
      files[format] = { path: join(to, 'onnx', name), bytes, ms: performance.now() - t0 };
      progress.note(`${format}: wrote onnx/${name} (${(bytes / 1e6).toFixed(1)} MB)`);
    }
    await writeTokenizerFiles(from, tmp, { bos: raw['bos_token_id'], eos: raw['eos_token_id'], pad: raw['pad_token_id'] });
    if (externalFiles.length > 0) notes.push(`weights as external data (onnx/*.onnx_data): ${externalFiles.join(', ')}`);
    const config = outputConfig(raw, arch, from, notes);
    // transformers.js only fetches the _data files when told to.
    if (externalFiles.length > 0) config['transformers.js_config'] = { use_external_data_format: true };
    await writeFile(join(tmp, 'config.json'), JSON.stringify(config, null, 2));
    await rm(to, { recursive: true, force: true });
    await rename(tmp, to);
    return { dir: to, arch, files, notes };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    await ck.close();
  }
}

/** The checkpoint's config with what the converted graph fixed made explicit (head_dim, KV heads, context, dtype). */
function outputConfig(raw: Record<string, unknown>, arch: ArchSpec, from: string, notes: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw, torch_dtype: 'float32' };
  delete out['quantization_config'];
  if (arch.family === 'llama') {
    Object.assign(out, {
      head_dim: arch.shape.headDim,
      num_key_value_heads: arch.shape.kvHeads,
      max_position_embeddings: arch.shape.maxPositions,
    });
  } else {
    Object.assign(out, { n_positions: arch.shape.maxPositions, n_ctx: arch.shape.maxPositions });
  }
  out['switchyard'] = { converted_from: basename(from), notes };
  return out;
}
