/**
 * Writes model folders in the styles users bring, for tests and `edge inspect` demos: "hf-export" (what
 * torch.onnx.export of Hugging Face's eager modules emits, Optimum names) and "ort-fused" (what ORT's transformer
 * optimizer / the onnxruntime-genai builder emit: GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization). Variants: fp32 (model.onnx), fp16 weights
 * (model_fp16.onnx), weight-only 4-bit (model_q4.onnx) and int8 (model_quantized.onnx); optionally with external data
 * (`<file>_data` next to each .onnx). config.json and the tokenizer files are the same as buildModelFolder writes.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildHfExportLlama } from '../graph/hf-export-llama.js';
import { buildHfExportGpt2 } from '../graph/hf-export-gpt2.js';
import { buildOrtFusedLlama } from '../graph/ort-fused-llama.js';
import { buildOrtFusedGpt2 } from '../graph/ort-fused-gpt2.js';
import { randomLlamaWeights, seededRandom, type LlamaShape } from '../graph/llama-weights.js';
import { randomGpt2Weights, type Gpt2Shape } from '../graph/gpt2-weights.js';
import { storeWeightsAsFp16, toFullFp16 } from '../graph/fp16.js';
import { splitExternalData } from '../graph/external-data.js';
import { quantizeDynamic } from '../graph/dynamic-quant.js';
import type { WeightFormat } from '../graph/linear.js';
import { buildModelFolder } from './build-model.js';
import { PRESETS, type PresetName } from './presets.js';
import { VARIANT_FILES } from './variants.js';

export type ExportStyle = 'hf-export' | 'ort-fused';
/**
 * fp16: float16 weights Cast to float32 where read (mixed precision); fp16-full: float16 everywhere (weights, I/O,
 * activations) as Optimum's model_fp16.onnx, written to the same file; q4f16: 4-bit MatMulNBits with float16
 * activations and scales (model_q4f16.onnx). int8: weight-only (DequantizeLinear); int8-dynamic: quantize_dynamic
 * style, written as model_quantized.onnx too.
 */
export type ExportVariant = 'fp32' | 'fp16' | 'fp16-full' | 'q4' | 'q4f16' | 'int8' | 'int8-dynamic';

function variantBytes(v: ExportVariant, graph: (format: WeightFormat) => Uint8Array): { bytes: Uint8Array; file: string } {
  switch (v) {
    case 'fp16':
      return { bytes: storeWeightsAsFp16(graph('fp32')), file: VARIANT_FILES.fp16 };
    case 'fp16-full':
      return { bytes: toFullFp16(graph('fp32')), file: VARIANT_FILES.fp16 };
    case 'q4f16':
      return { bytes: toFullFp16(graph('q4')), file: VARIANT_FILES.q4f16 };
    case 'int8-dynamic':
      return { bytes: quantizeDynamic(graph('fp32')), file: VARIANT_FILES.int8 };
    default:
      return { bytes: graph(v), file: VARIANT_FILES[v] };
  }
}
/** qwen2: q/k/v biases; phi3: fused qkv_proj and gate_up_proj; mistral: the Llama graph under Mistral's name. */
export type LlamaArchitecture = 'llama' | 'qwen2' | 'mistral' | 'phi3';

const ARCHITECTURES: Record<LlamaArchitecture, string> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mistral: 'MistralForCausalLM',
  phi3: 'Phi3ForCausalLM',
};

function smallNormal(seed: number, n: number, std: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() + rand() + rand() - 1.5) * 2 * std;
  return out;
}

export interface ExportFolderOptions {
  preset: PresetName;
  seed: number;
  outDir: string;
  style?: ExportStyle;
  variants: ExportVariant[];
  /** Llama-family architecture written (config.json model_type/architectures and graph details); default llama. */
  architecture?: LlamaArchitecture;
  /** false writes the older export that derives positions from the past length (no position_ids input). */
  positionIds?: boolean;
  /** MatMulNBits accuracy_level of q4 files (0: fp32 activations; 4: int8 activations, what genai writes by default). */
  accuracyLevel?: number;
  /** Move initializers of at least 1 KiB into `<file>_data`, as exporters do for models over 2 GB. */
  externalData?: boolean;
}

export async function buildExportFolder(opts: ExportFolderOptions): Promise<{ dir: string; shape: LlamaShape | Gpt2Shape }> {
  const tmp = `${opts.outDir}.tmp-${process.pid}-${Date.now()}`;
  // Same config.json and tokenizer as the project's own folders (same seed gives the same weights below).
  const { shape } = await buildModelFolder({ preset: opts.preset, seed: opts.seed, outDir: tmp, variants: [] });
  const preset = PRESETS[opts.preset];
  let graph: (format: WeightFormat) => Uint8Array;
  if (preset.family === 'gpt2') {
    const s = shape as Gpt2Shape;
    const w = randomGpt2Weights(s, opts.seed);
    graph =
      opts.style === 'ort-fused'
        ? (format) => buildOrtFusedGpt2(s, w, { format, accuracyLevel: opts.accuracyLevel ?? 0 })
        : (format) => buildHfExportGpt2(s, w, { format, accuracyLevel: opts.accuracyLevel ?? 0 }, { positionIds: opts.positionIds });
  } else {
    const s = shape as LlamaShape;
    const w = randomLlamaWeights(s, opts.seed);
    const arch = opts.architecture ?? 'llama';
    const qkvBias =
      arch === 'qwen2'
        ? w.layers.map((_, l) => ({
            q: smallNormal(opts.seed * 1000 + l * 3, s.heads * s.headDim, 0.3),
            k: smallNormal(opts.seed * 1000 + l * 3 + 1, s.kvHeads * s.headDim, 0.3),
            v: smallNormal(opts.seed * 1000 + l * 3 + 2, s.kvHeads * s.headDim, 0.3),
          }))
        : undefined;
    if (arch !== 'llama') {
      const cfgPath = join(tmp, 'config.json');
      const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown>;
      await writeFile(cfgPath, JSON.stringify({ ...cfg, model_type: arch, architectures: [ARCHITECTURES[arch]] }, null, 2));
    }
    graph =
      opts.style === 'ort-fused'
        ? (format) => buildOrtFusedLlama(s, w, { format, accuracyLevel: opts.accuracyLevel ?? 0 }, { packedQkv: arch === 'phi3' })
        : (format) =>
            buildHfExportLlama(
              s,
              w,
              { format, accuracyLevel: opts.accuracyLevel ?? 0 },
              { positionIds: opts.positionIds, qkvBias, fused: arch === 'phi3' },
            );
  }
  for (const v of opts.variants) {
    const { bytes, file } = variantBytes(v, graph);
    if (opts.externalData) {
      const split = splitExternalData(bytes, `${file}_data`);
      await writeFile(join(tmp, 'onnx', file), split.model);
      await writeFile(join(tmp, 'onnx', `${file}_data`), split.data);
    } else {
      await writeFile(join(tmp, 'onnx', file), bytes);
    }
  }
  await rm(opts.outDir, { recursive: true, force: true });
  await rename(tmp, opts.outDir);
  return { dir: opts.outDir, shape };
}
