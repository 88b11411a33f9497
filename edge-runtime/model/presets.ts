/** Shapes of the models the builder makes: tiny ones for tests and the embedded default, ~50M for benchmarks. */
import type { LlamaShape } from '../graph/llama-weights.js';
import type { Gpt2Shape } from '../graph/gpt2-weights.js';

/** `merges`: extra BPE merges beyond the 256 byte tokens; the vocabulary is 256 + merges + 3 special tokens. */
export type Preset =
  { family: 'llama'; merges: number; shape: Omit<LlamaShape, 'vocab'> } | { family: 'gpt2'; merges: number; shape: Omit<Gpt2Shape, 'vocab'> };

export const PRESETS = {
  'tiny-llama': {
    family: 'llama',
    merges: 0,
    shape: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 1024, ropeTheta: 10000, rmsEps: 1e-5 },
  },
  'tiny-gpt2': {
    family: 'gpt2',
    merges: 0,
    shape: { hidden: 64, layers: 2, heads: 4, maxPositions: 1024, lnEps: 1e-5 },
  },
  'small-llama': {
    family: 'llama',
    merges: 2000,
    shape: { hidden: 256, layers: 4, heads: 8, kvHeads: 4, headDim: 32, intermediate: 704, maxPositions: 2048, ropeTheta: 10000, rmsEps: 1e-5 },
  },
  'bench-50m': {
    family: 'llama',
    merges: 31741,
    shape: { hidden: 512, layers: 8, heads: 8, kvHeads: 4, headDim: 64, intermediate: 1408, maxPositions: 2048, ropeTheta: 10000, rmsEps: 1e-5 },
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
