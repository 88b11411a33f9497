/**
 * Writes an encoder model folder in the layout Hugging Face / transformers.js feature-extraction exports use:
 * config.json (model_type bert), tokenizer.json (WordPiece), tokenizer_config.json, onnx/model.onnx.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEncoderGraph, type EncoderGraphOptions } from './encoder-graph.js';
import type { EncoderWeights } from './encoder-weights.js';
import { WORDPIECE_TOKENIZER_CONFIG, wordPieceTokenizerJson } from './wordpiece-tokenizer.js';

export async function writeEncoderFolder(
  dir: string,
  weights: EncoderWeights,
  vocab: readonly string[],
  opts: EncoderGraphOptions = {},
): Promise<void> {
  const s = weights.shape;
  if (vocab.length !== s.vocab) throw new Error(`vocabulary has ${vocab.length} tokens, the model ${s.vocab}`);
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const config = {
    model_type: 'bert',
    architectures: ['BertModel'],
    vocab_size: s.vocab,
    hidden_size: s.hidden,
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    intermediate_size: s.intermediate,
    max_position_embeddings: s.maxPositions,
    type_vocab_size: s.typeVocab,
    layer_norm_eps: s.eps,
    hidden_act: 'gelu',
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab)));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...WORDPIECE_TOKENIZER_CONFIG, model_max_length: s.maxPositions }, null, 2));
  await writeFile(join(dir, 'onnx', 'model.onnx'), buildEncoderGraph(weights, opts));
}
