/** Wires one engine from a model folder: paged runner + KV block manager + tokenizer + sampler + scheduler. */
import { readFile } from 'node:fs/promises';
import { loadModelFolder, variantPath } from '../model/model-folder.js';
import { PagedBlockManager } from '../kv/paged-block-manager.js';
import { Sampler } from '../sampling/sampler.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { EngineCore } from '../engine/engine-core.js';
import type { EngineOptions } from '../engine/engine-options.js';
import { PagedModelRunner } from '../engine/model-runner.js';
import { XGrammarConstraints } from '../grammar/xgrammar-constraints.js';
import { tokenVocabulary } from '../grammar/token-vocabulary.js';

export interface CreatedEngine {
  core: EngineCore;
  runner: PagedModelRunner;
  kv: PagedBlockManager;
  tokenizer: TextTokenizer;
  maxContext: number;
}

/** Bytes one block takes across all layers (K and V, float32). */
export function bytesPerBlock(layers: number, kvHeads: number, headDim: number, blockSize: number): number {
  return layers * 2 * kvHeads * blockSize * headDim * 4;
}

export async function createEngine(opts: EngineOptions & { prefixCaching?: boolean }): Promise<CreatedEngine> {
  const spec = loadModelFolder(opts.modelDir);
  const bytes = await readFile(variantPath(spec, opts.variant));
  const perBlock = bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, opts.blockSize);
  const numBlocks = Math.floor(opts.kvBudgetBytes / perBlock);
  if (numBlocks < 2)
    throw new Error(`KV budget of ${opts.kvBudgetBytes} bytes holds ${numBlocks} block(s) of ${perBlock} bytes; raise edge.kv_budget_mb`);
  const runner = await PagedModelRunner.create(bytes, {
    layout: { layers: spec.layers, kvHeads: spec.kvHeads, headDim: spec.headDim, blockSize: opts.blockSize, numBlocks },
    vocabSize: spec.vocab,
    threads: opts.threads,
  });
  const kv = new PagedBlockManager(numBlocks, opts.blockSize, opts.prefixCaching ?? true);
  const tokenizer = new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig, spec.eosIds);
  const core = new EngineCore(runner, kv, tokenizer, new Sampler(), {
    modelId: opts.modelId,
    maxContext: spec.maxContext,
    limits: { maxNumSeqs: opts.maxNumSeqs, maxBatchedTokens: opts.maxBatchedTokens },
    // xgrammar starts lazily, on the first request that asks for constrained output.
    grammar: new XGrammarConstraints(tokenVocabulary(spec.tokenizerJson, spec.vocab), spec.vocab, tokenizer.eosIds),
  });
  return { core, runner, kv, tokenizer, maxContext: spec.maxContext };
}
