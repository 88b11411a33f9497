/** The LM head writing `logits`: its own [hidden, vocab] matrix, or tied to the [vocab, hidden] token embedding. */
import type { GraphBuilder } from './graph-builder.js';
import { linear, type LinearOptions } from './linear.js';
import { transpose } from './seeded-random.js';

export type HeadWeights =
  | { tied: false; head: Float32Array }
  /** `embedName`: the embedding initializer already in the graph; `embed`: its data, [vocab, hidden]. */
  | { tied: true; embedName: string; embed: Float32Array };

export function lmHead(g: GraphBuilder, x: string, w: HeadWeights, hidden: number, vocab: number, lin: LinearOptions): string {
  if (!w.tied) return linear(g, x, 'lm_head', w.head, hidden, vocab, lin, 'logits');
  // fp32: the file holds the matrix once and the head reads it through a Transpose (ORT folds it when loading), so
  // the reference reading the embedding back proves the tie. Quantized files quantize the transposed copy.
  if (lin.format === 'fp32') return g.o('MatMul', [x, g.o('Transpose', [w.embedName], { perm: [1, 0] })], {}, 'logits');
  return linear(g, x, 'lm_head', transpose(w.embed, vocab, hidden), hidden, vocab, lin, 'logits');
}
