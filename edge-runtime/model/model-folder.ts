/** Reads and validates a model folder (HF/transformers.js layout); errors name the file and the field. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { chooseVariant, presentVariants, VARIANT_FILES, VariantError, type VariantName } from './variants.js';

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

const ids = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]);

const llamaConfig = z.looseObject({
  model_type: z.enum(['llama', 'qwen2', 'mistral', 'smollm', 'phi3']),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().optional(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  eos_token_id: ids.optional(),
});

const gpt2Config = z.looseObject({
  model_type: z.literal('gpt2'),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_positions: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  eos_token_id: ids.optional(),
});

const tokenizerConfig = z.looseObject({
  chat_template: z.string().optional(),
  bos_token: z.union([z.string(), z.looseObject({ content: z.string() })]).nullish(),
  eos_token: z.union([z.string(), z.looseObject({ content: z.string() })]).nullish(),
  add_bos_token: z.boolean().optional(),
});

export interface ModelSpec {
  dir: string;
  /** The config.json fields that name the model (for logs and `edge inspect`). */
  config: { model_type: string; architectures?: string[] };
  family: 'llama' | 'gpt2';
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxContext: number;
  eosIds: number[];
  tokenizerJson: object;
  tokenizerConfig: z.infer<typeof tokenizerConfig>;
  /** Weight files present, by variant (see variants.ts). */
  onnxFiles: Partial<Record<VariantName, string>>;
}

function readJson(dir: string, file: string): unknown {
  const path = join(dir, file);
  if (!existsSync(path))
    throw new ModelFolderError(`${path}: missing (a model folder needs config.json, tokenizer.json, tokenizer_config.json and onnx/*.onnx)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelFolderError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ModelFolderError(`${path}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
}

export function loadModelFolder(dir: string): ModelSpec {
  if (!existsSync(dir)) throw new ModelFolderError(`${dir}: model folder not found`);
  const raw = readJson(dir, 'config.json') as { model_type?: unknown };
  const cfgPath = join(dir, 'config.json');
  let spec: Omit<ModelSpec, 'dir' | 'config' | 'tokenizerJson' | 'tokenizerConfig' | 'onnxFiles' | 'eosIds'> & { eos?: number | number[] };
  if (raw?.model_type === 'gpt2') {
    const c = check(gpt2Config, raw, cfgPath);
    spec = {
      family: 'gpt2',
      layers: c.n_layer,
      kvHeads: c.n_head,
      headDim: c.n_embd / c.n_head,
      vocab: c.vocab_size,
      maxContext: c.n_positions,
      eos: c.eos_token_id,
    };
  } else {
    const c = check(llamaConfig, raw, cfgPath);
    spec = {
      family: 'llama',
      layers: c.num_hidden_layers,
      kvHeads: c.num_key_value_heads ?? c.num_attention_heads,
      headDim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
      vocab: c.vocab_size,
      maxContext: c.max_position_embeddings,
      eos: c.eos_token_id,
    };
  }
  if (!Number.isInteger(spec.headDim)) throw new ModelFolderError(`${cfgPath}: hidden size is not divisible by the number of attention heads`);
  const gen = existsSync(join(dir, 'generation_config.json')) ? (readJson(dir, 'generation_config.json') as { eos_token_id?: unknown }) : {};
  const genEos = ids.optional().safeParse(gen.eos_token_id);
  const eosIds = [spec.eos, genEos.success ? genEos.data : undefined].flat().filter((x): x is number => typeof x === 'number');
  const tokenizerJson = readJson(dir, 'tokenizer.json');
  if (!tokenizerJson || typeof tokenizerJson !== 'object' || !('model' in tokenizerJson)) {
    throw new ModelFolderError(`${join(dir, 'tokenizer.json')}: field 'model': missing (not a Hugging Face tokenizer.json)`);
  }
  const tcfg = check(tokenizerConfig, readJson(dir, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  const onnxFiles: ModelSpec['onnxFiles'] = {};
  for (const v of presentVariants(dir)) onnxFiles[v.variant] = v.path;
  if (Object.keys(onnxFiles).length === 0) {
    throw new ModelFolderError(`${join(dir, 'onnx')}: no model file (expected one of ${Object.values(VARIANT_FILES).join(', ')})`);
  }
  const { eos: _eos, ...rest } = spec;
  const named = check(z.looseObject({ model_type: z.string(), architectures: z.array(z.string()).optional() }), raw, cfgPath);
  return {
    dir,
    config: { model_type: named.model_type, architectures: named.architectures },
    ...rest,
    eosIds: [...new Set(eosIds)],
    tokenizerJson: tokenizerJson as object,
    tokenizerConfig: tcfg,
    onnxFiles,
  };
}

/** Resolves 'auto', a variant name or a file name to a path, failing with the files that do exist and the flag. */
export function variantPath(spec: ModelSpec, variant: VariantName | 'auto' | (string & {}) = 'auto'): string {
  try {
    return chooseVariant(spec.dir, variant).path;
  } catch (err) {
    if (err instanceof VariantError) throw new ModelFolderError(err.message);
    throw err;
  }
}
