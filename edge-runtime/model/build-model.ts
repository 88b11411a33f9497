/**
 * Writes a model folder in the layout transformers.js and Hugging Face ONNX exports use: config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx (fp32), onnx/model_quantized.onnx
 * (weight-only int8) and onnx/model_q4.onnx (4-bit MatMulNBits). Random weights from a seed; nothing is downloaded.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildLlamaGraph } from '../graph/llama-graph.js';
import { randomLlamaWeights, type LlamaShape } from '../graph/llama-weights.js';
import { buildGpt2Graph } from '../graph/gpt2-graph.js';
import { randomGpt2Weights, type Gpt2Shape } from '../graph/gpt2-weights.js';
import type { LinearOptions, WeightFormat } from '../graph/linear.js';
import { CHATML_TEMPLATE, writeByteLevelTokenizer } from '../tokenizer/byte-level-bpe.js';
import { PRESETS, type PresetName } from './presets.js';

export const VARIANT_FILES: Record<WeightFormat, string> = {
  fp32: 'model.onnx',
  int8: 'model_quantized.onnx',
  q4: 'model_q4.onnx',
};

export interface BuildOptions {
  preset: PresetName;
  seed: number;
  outDir: string;
  variants?: WeightFormat[];
  /** MatMulNBits accuracy level for the 4-bit file (0: fp32 activations; 4: int8 activations, fastest). */
  accuracyLevel?: number;
  /** MatMulNBits block size of the quantized files (default 32; see graph/linear.ts). */
  blockSize?: LinearOptions['blockSize'];
}

/** Parameter count of a built model (embeddings and LM head included). */
export function parameterCount(shape: LlamaShape | Gpt2Shape): number {
  if ('kvHeads' in shape) {
    const s = shape;
    return (
      s.vocab * s.hidden * 2 +
      s.layers * (s.hidden * (s.heads + 2 * s.kvHeads) * s.headDim + s.heads * s.headDim * s.hidden + 3 * s.hidden * s.intermediate)
    );
  }
  const s = shape;
  return s.vocab * s.hidden + s.maxPositions * s.hidden + s.layers * 12 * s.hidden * s.hidden;
}

export async function buildModelFolder(opts: BuildOptions): Promise<{ dir: string; shape: LlamaShape | Gpt2Shape }> {
  const preset = PRESETS[opts.preset];
  const tok = writeByteLevelTokenizer(preset.merges);
  const eos = tok.specialIds['<|im_end|>'];
  const bos = tok.specialIds['<|endoftext|>'];
  let shape: LlamaShape | Gpt2Shape;
  let graph: (format: WeightFormat) => Uint8Array;
  let config: Record<string, unknown>;
  if (preset.family === 'gpt2') {
    const s: Gpt2Shape = { ...preset.shape, vocab: tok.vocabSize };
    const weights = randomGpt2Weights(s, opts.seed);
    shape = s;
    graph = (format) => buildGpt2Graph(s, weights, { format, accuracyLevel: opts.accuracyLevel ?? 0 });
    config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: s.hidden,
      n_layer: s.layers,
      n_head: s.heads,
      n_positions: s.maxPositions,
      n_ctx: s.maxPositions,
      n_inner: 4 * s.hidden,
      vocab_size: s.vocab,
      layer_norm_epsilon: s.lnEps,
      activation_function: 'gelu_new',
      tie_word_embeddings: true,
    };
  } else {
    const s: LlamaShape = { ...preset.shape, vocab: tok.vocabSize };
    const weights = randomLlamaWeights(s, opts.seed);
    shape = s;
    graph = (format) =>
      buildLlamaGraph(s, weights, { format, accuracyLevel: opts.accuracyLevel ?? 0, ...(opts.blockSize ? { blockSize: opts.blockSize } : {}) });
    config = {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: s.hidden,
      intermediate_size: s.intermediate,
      num_hidden_layers: s.layers,
      num_attention_heads: s.heads,
      num_key_value_heads: s.kvHeads,
      head_dim: s.headDim,
      vocab_size: s.vocab,
      max_position_embeddings: s.maxPositions,
      rms_norm_eps: s.rmsEps,
      rope_theta: s.ropeTheta,
      hidden_act: 'silu',
      tie_word_embeddings: false,
    };
  }
  // Write into a temp folder and rename: a crash mid-build never leaves a half-written model behind.
  const tmp = `${opts.outDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(join(tmp, 'onnx'), { recursive: true });
  Object.assign(config, {
    bos_token_id: bos,
    eos_token_id: eos,
    pad_token_id: bos,
    torch_dtype: 'float32',
    switchyard: { preset: opts.preset, seed: opts.seed, note: 'random weights: the text it writes is meaningless' },
  });
  await writeFile(join(tmp, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(
    join(tmp, 'generation_config.json'),
    JSON.stringify({ bos_token_id: bos, eos_token_id: eos, pad_token_id: bos, do_sample: false }, null, 2),
  );
  await writeFile(join(tmp, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  await writeFile(
    join(tmp, 'tokenizer_config.json'),
    JSON.stringify(
      {
        tokenizer_class: 'PreTrainedTokenizerFast',
        bos_token: '<|endoftext|>',
        eos_token: '<|im_end|>',
        pad_token: '<|endoftext|>',
        unk_token: null,
        add_bos_token: false,
        model_max_length: shape.maxPositions,
        clean_up_tokenization_spaces: false,
        chat_template: CHATML_TEMPLATE,
      },
      null,
      2,
    ),
  );
  for (const v of opts.variants ?? (['fp32', 'int8', 'q4'] as WeightFormat[])) {
    await writeFile(join(tmp, 'onnx', VARIANT_FILES[v]), graph(v));
  }
  await rm(opts.outDir, { recursive: true, force: true });
  await rename(tmp, opts.outDir);
  return { dir: opts.outDir, shape };
}
