/**
 * `switchyard edge inspect DIR`: what a folder holds and what the engine will do with it, decided the same way the
 * engine decides at load (variant choice, external data, fp16 upcast, execution path with its load-time proof), so
 * the answer is not a guess. Loads the model once with a tiny KV pool.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFolder } from '../model/model-folder.js';
import { chooseVariant, VARIANT_NAMES, VARIANT_FILES, type VariantName } from '../model/variants.js';
import { loadOnnxFile } from '../model/load-onnx.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { PagedModelRunner, type ExecutionMode } from '../engine/model-runner.js';

export interface ModelInspection {
  dir: string;
  /** config.json architectures[0] (or model_type when absent). */
  architecture: string;
  modelType: string;
  family: 'llama' | 'gpt2';
  /** Counted from the chosen file's weights (4-bit weights as K x N). */
  parameters: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxContext: number;
  files: Array<{ file: string; variant: VariantName | null; bytes: number }>;
  variant: { chosen: VariantName; file: string; reason: string };
  tokenizer: { vocabSize: number; chatTemplate: boolean; eosIds: number[] };
  execution:
    | {
        ok: true;
        path: ExecutionMode;
        reason: string;
        proofMaxDiff?: number;
        rejected: Array<{ mode: ExecutionMode; why: string }>;
        fp16Upcast: boolean;
        externalData: string[];
        dynamicQuant: boolean;
      }
    | { ok: false; error: string };
  /** float32 K and V, all layers: what one token of context costs in the KV pool. */
  kvBytesPerToken: number;
  /** Operator counts of the chosen file (domain-qualified for contrib ops). */
  ops: Record<string, number>;
}

export async function inspectModelFolder(
  dir: string,
  opts: { variant?: string; blockSize?: number; threads?: number } = {},
): Promise<ModelInspection> {
  const spec = loadModelFolder(dir);
  const config = spec.config;
  const choice = chooseVariant(dir, opts.variant ?? 'auto');
  const file = await loadOnnxFile(choice.path);
  const files = readdirSync(join(dir, 'onnx'))
    .sort()
    .map((f) => ({
      file: f,
      variant: VARIANT_NAMES.find((v) => VARIANT_FILES[v] === f) ?? null,
      bytes: statSync(join(dir, 'onnx', f)).size,
    }));
  const tokenizer = new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig, spec.eosIds);
  const blockSize = opts.blockSize ?? 16;
  let execution: ModelInspection['execution'];
  try {
    const runner = await PagedModelRunner.create(file.bytes, {
      // Enough blocks for the load-time proof's two sequences, nothing more.
      layout: { layers: spec.layers, kvHeads: spec.kvHeads, headDim: spec.headDim, blockSize, numBlocks: 4 },
      vocabSize: spec.vocab,
      threads: opts.threads ?? 1,
      dynamicQuant: file.dynamicQuant,
      ...(file.externalDataDir ? { externalDataDir: file.externalDataDir } : {}),
    });
    execution = {
      ok: true,
      path: runner.path.mode,
      reason: runner.path.reason,
      proofMaxDiff: runner.path.proof?.maxDiff,
      rejected: runner.path.rejected,
      fp16Upcast: file.fp16Upcast > 0,
      externalData: file.externalData,
      dynamicQuant: file.dynamicQuant,
    };
    await runner.release();
  } catch (err) {
    execution = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  return {
    dir,
    architecture: config.architectures?.[0] ?? config.model_type,
    modelType: config.model_type,
    family: spec.family,
    parameters: file.parameters,
    layers: spec.layers,
    kvHeads: spec.kvHeads,
    headDim: spec.headDim,
    vocab: spec.vocab,
    maxContext: spec.maxContext,
    files,
    variant: { chosen: choice.variant, file: choice.file, reason: choice.reason },
    tokenizer: { vocabSize: tokenizer.vocabSize, chatTemplate: Boolean(spec.tokenizerConfig.chat_template), eosIds: spec.eosIds },
    execution,
    kvBytesPerToken: spec.layers * 2 * spec.kvHeads * spec.headDim * 4,
    ops: file.ops,
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** Plain-text report for the CLI. */
export function formatInspection(r: ModelInspection): string {
  const e = r.execution;
  const lines = [
    `model folder   ${r.dir}`,
    `architecture   ${r.architecture} (${r.modelType}), ${human(r.parameters)} parameters`,
    `shape          ${r.layers} layers, ${r.kvHeads} KV heads x ${r.headDim}, vocab ${r.vocab}, context ${r.maxContext}`,
    `files          ${r.files.map((f) => `${f.file}${f.variant ? ` [${f.variant}]` : ''} ${human(f.bytes)}B`).join(', ')}`,
    `variant        ${r.variant.reason}`,
    `tokenizer      tokenizer.json, ${r.tokenizer.vocabSize} tokens; chat template ${r.tokenizer.chatTemplate ? 'found' : 'not found (only /v1/completions)'}; eos ${r.tokenizer.eosIds.join(', ') || 'none'}`,
    e.ok
      ? `execution      ${e.path}: ${e.reason}${e.fp16Upcast ? '; fp16 weights upcast to fp32 at load' : ''}${e.externalData.length ? `; external data ${e.externalData.join(', ')}` : ''}${e.dynamicQuant ? '; dynamically quantized: a row depends on its batch neighbours' : ''}`
      : `execution      cannot serve: ${e.error}`,
    `KV per token   ${r.kvBytesPerToken} bytes (float32 K and V, all layers)`,
  ];
  return lines.join('\n');
}
