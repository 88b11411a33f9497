/** A tiny random BERT-style encoder folder for tests: real graph, real tokenizer, meaningless vectors. */
import { writeEncoderFolder } from './encoder-folder.js';
import type { EncoderGraphOptions } from './encoder-graph.js';
import { randomEncoderWeights, type EncoderShape, type EncoderWeights } from './encoder-weights.js';
import { wordPieceVocab } from './wordpiece-tokenizer.js';

const WORDS = (
  'the a an of to in is it what how why when where who which do does can you me my your please tell about explain ' +
  'weather capital city country france paris spain madrid rain sun today tomorrow price cost order refund account ' +
  'password reset email help hello world cat dog red blue green one two three four five'
).split(' ');

export const TEST_ENCODER_SHAPE: Omit<EncoderShape, 'vocab'> = {
  hidden: 32,
  heads: 4,
  layers: 2,
  intermediate: 64,
  maxPositions: 64,
  typeVocab: 2,
  embeddingNorm: true,
  eps: 1e-12,
};

export async function writeTestEncoderFolder(
  dir: string,
  opts: EncoderGraphOptions & { seed?: number; shape?: Partial<Omit<EncoderShape, 'vocab'>> } = {},
): Promise<{ weights: EncoderWeights; vocab: string[] }> {
  const vocab = wordPieceVocab(WORDS);
  const weights = randomEncoderWeights({ ...TEST_ENCODER_SHAPE, ...opts.shape, vocab: vocab.length }, opts.seed ?? 7);
  await writeEncoderFolder(dir, weights, vocab, opts);
  return { weights, vocab };
}
