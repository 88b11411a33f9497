/** Wires one engine from a model folder: paged runner + KV block manager + tokenizer + sampler + scheduler. */
import { loadModelFolder } from '../model/model-folder.js';
import { chooseVariant } from '../model/variants.js';
import { loadOnnxFile } from '../model/load-onnx.js';
import { PagedBlockManager } from '../kv/paged-block-manager.js';
import { Sampler } from '../sampling/sampler.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { EngineCore } from '../engine/engine-core.js';
import type { EngineOptions } from '../engine/engine-options.js';
import type { EngineLoadReport } from '../engine/protocol.js';
import { PagedModelRunner } from '../engine/model-runner.js';
import { XGrammarConstraints } from '../grammar/xgrammar-constraints.js';
import { tokenVocabulary } from '../grammar/token-vocabulary.js';

export interface CreatedEngine {
  core: EngineCore;
  runner: PagedModelRunner;
  kv: PagedBlockManager;
  tokenizer: TextTokenizer;
  maxContext: number;
  /** Variant and execution path chosen, and why (also in every stats message). */
  load: EngineLoadReport;
}

/** Bytes one block takes across all layers (K and V, float32). */
export function bytesPerBlock(layers: number, kvHeads: number, headDim: number, blockSize: number): number {
  return layers * 2 * kvHeads * blockSize * headDim * 4;
}

export async function createEngine(
  opts: Omit<EngineOptions, 'executionPath'> & {
    executionPath?: EngineOptions['executionPath'];
    prefixCaching?: boolean;
    log?: (line: string) => void;
  },
): Promise<CreatedEngine> {
  const began = Date.now();
  const spec = loadModelFolder(opts.modelDir);
  const choice = chooseVariant(spec.dir, opts.variant);
  const file = await loadOnnxFile(choice.path);
  const perBlock = bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, opts.blockSize);
  const numBlocks = Math.floor(opts.kvBudgetBytes / perBlock);
  if (numBlocks < 2)
    throw new Error(`KV budget of ${opts.kvBudgetBytes} bytes holds ${numBlocks} block(s) of ${perBlock} bytes; raise edge.kv_budget_mb`);
  const runner = await PagedModelRunner.create(file.bytes, {
    layout: { layers: spec.layers, kvHeads: spec.kvHeads, headDim: spec.headDim, blockSize: opts.blockSize, numBlocks },
    vocabSize: spec.vocab,
    threads: opts.threads,
    threadSpinning: opts.threadSpinning,
    path: opts.executionPath ?? 'auto',
    dynamicQuant: file.dynamicQuant,
    // int8-activation files (MatMulNBits accuracy_level >= 1) are proven on their fp32-activation twin (model-runner.ts).
    ...(file.externalDataDir ? { externalDataDir: file.externalDataDir } : {}),
  });
  const load: EngineLoadReport = {
    variant: choice.variant,
    file: choice.file,
    variantReason: choice.reason,
    path: runner.path.mode,
    pathReason: runner.path.reason,
    proofMaxDiff: runner.path.proof?.maxDiff,
    fp16Upcast: file.fp16Upcast > 0,
    externalData: file.externalData,
    dynamicQuant: file.dynamicQuant,
    loadMs: Date.now() - began,
  };
  opts.log?.(
    `edge model ${opts.modelId}: ${choice.reason}; ${runner.path.reason}${load.fp16Upcast ? '; fp16 weights upcast to fp32' : ''}${
      load.externalData.length ? `; external data ${load.externalData.join(', ')}` : ''
    }${load.dynamicQuant ? '; dynamically quantized: a row depends on its batch neighbours' : ''} (${load.loadMs} ms)`,
  );
  const kv = new PagedBlockManager(numBlocks, opts.blockSize, opts.prefixCaching ?? true);
  const tokenizer = new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig, spec.eosIds);
  const core = new EngineCore(runner, kv, tokenizer, new Sampler(), {
    modelId: opts.modelId,
    maxContext: spec.maxContext,
    limits: { maxNumSeqs: opts.maxNumSeqs, maxBatchedTokens: opts.maxBatchedTokens },
    load,
    // xgrammar starts lazily, on the first request that asks for constrained output.
    grammar: new XGrammarConstraints(tokenVocabulary(spec.tokenizerJson, spec.vocab), spec.vocab, tokenizer.eosIds),
  });
  return { core, runner, kv, tokenizer, maxContext: spec.maxContext, load };
}
