/**
 * A deterministic bag-of-words encoder for benches and semantic-cache tests, built as a real ONNX encoder (the same
 * graph as a BERT export, zero transformer layers): each word's embedding is a pseudo-random unit vector seeded by a
 * hash of the word, scaled by a weight (content words 1, English function words 0.1, sub-word pieces 0.3, special
 * tokens 0), then mean-pooled and normalised like any feature-extraction model. Two texts are close exactly when they
 * share their content words: it recognises paraphrases that keep the content words and reorder or vary the rest, and
 * does NOT understand synonyms. Production uses a trained model (all-MiniLM-L6-v2, bge-small) in the same slot.
 */
import { writeEncoderFolder } from './encoder-folder.js';
import type { EncoderWeights } from './encoder-weights.js';
import { SPECIAL_TOKENS, wordPieceVocab } from './wordpiece-tokenizer.js';

/** Function words a question template varies without changing what is asked. */
export const FUNCTION_WORDS = (
  'a an the of to in on at for from by with about as into than then and or but if so is are was were be been being am do does did ' +
  'can could would should will shall may might must what which who whom whose when where why how i me my mine you your yours we us ' +
  'our it its this that these those there here please tell show give let know want like need just kindly quick question ' +
  'hey hi hello thanks thank any some much many also really actually exactly again ? , . ! \' " : ;'
).split(' ');

const FUNCTION_WEIGHT = 0.1;
const PIECE_WEIGHT = 0.3;

/** FNV-1a, 32 bit. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A unit vector seeded by the word (xorshift32 + Box-Muller). */
function hashedUnitVector(word: string, dim: number): Float32Array {
  let s = fnv1a(word) || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export function hashedEncoderWeights(vocab: readonly string[], dim: number): EncoderWeights {
  const special = new Set<string>(SPECIAL_TOKENS);
  const functionWords = new Set(FUNCTION_WORDS);
  const wordEmbeddings = new Float32Array(vocab.length * dim);
  vocab.forEach((token, id) => {
    if (special.has(token)) return;
    const weight = functionWords.has(token) ? FUNCTION_WEIGHT : token.startsWith('##') || token.length === 1 ? PIECE_WEIGHT : 1;
    wordEmbeddings.set(
      hashedUnitVector(token, dim).map((x) => x * weight),
      id * dim,
    );
  });
  const maxPositions = 512;
  return {
    shape: { vocab: vocab.length, hidden: dim, heads: 1, layers: 0, intermediate: dim, maxPositions, typeVocab: 0, embeddingNorm: false, eps: 1e-12 },
    wordEmbeddings,
    // No order information: a bag of words.
    positionEmbeddings: new Float32Array(maxPositions * dim),
    typeEmbeddings: new Float32Array(dim),
    embNormGain: new Float32Array(dim).fill(1),
    embNormBias: new Float32Array(dim),
    layers: [],
  };
}

/** Writes the encoder folder; `words` are the whole words it knows (others split into character pieces). */
export async function writeHashedEncoderFolder(dir: string, words: readonly string[], dim = 256): Promise<void> {
  const numbers = Array.from({ length: 1000 }, (_, i) => String(i));
  const vocab = wordPieceVocab([...FUNCTION_WORDS, ...numbers, ...words]);
  await writeEncoderFolder(dir, hashedEncoderWeights(vocab, dim), vocab);
}
