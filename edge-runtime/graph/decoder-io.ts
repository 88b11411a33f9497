/**
 * The HF/Optimum decoder I/O contract every graph here follows (and transformers.js and the paged rewrite expect):
 * input_ids, attention_mask, position_ids, past_key_values.{i}.key|value -> logits, present.{i}.key|value.
 */
import type { GraphBuilder } from './graph-builder.js';

export const pastName = (layer: number, kind: 'key' | 'value'): string => `past_key_values.${layer}.${kind}`;
export const presentName = (layer: number, kind: 'key' | 'value'): string => `present.${layer}.${kind}`;

export interface DecoderInputs {
  ids: string;
  mask: string;
  positions: string;
}

/** Declares the inputs: ids/positions [batch, seq] int64, mask [batch, past+seq] int64, past K/V [batch, kv, past, hd]. */
export function declareDecoderInputs(g: GraphBuilder, layers: number, kvHeads: number, headDim: number): DecoderInputs {
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < layers; l++) {
    g.input(pastName(l, 'key'), 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]);
    g.input(pastName(l, 'value'), 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]);
  }
  return { ids, mask, positions };
}

/**
 * One layer's cache path, exactly `Concat(past, new, axis=2) -> present` for K and V: the pattern the engine's paged
 * rewrite looks for (PLATFORM.md), so it must stay a single Concat whose first input is the graph input.
 */
export function cacheConcat(g: GraphBuilder, layer: number, newK: string, newV: string, kvHeads: number, headDim: number): { k: string; v: string } {
  const k = g.o('Concat', [pastName(layer, 'key'), newK], { axis: 2 }, presentName(layer, 'key'));
  const v = g.o('Concat', [pastName(layer, 'value'), newV], { axis: 2 }, presentName(layer, 'value'));
  g.output(k, 'float32', ['batch_size', kvHeads, 'total_sequence_length', headDim]);
  g.output(v, 'float32', ['batch_size', kvHeads, 'total_sequence_length', headDim]);
  return { k, v };
}

/** Declares `logits` [batch, seq, vocab]; call after the head wrote it. */
export function declareLogits(g: GraphBuilder, vocab: number): void {
  g.output('logits', 'float32', ['batch_size', 'sequence_length', vocab]);
}
