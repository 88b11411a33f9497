/**
 * An embedding model loaded in the current thread: tokenizer + onnxruntime session + pooling. Runs ONNX
 * feature-extraction exports (inputs input_ids, attention_mask[, token_type_ids]; output sentence_embedding, used as
 * is, or last_hidden_state, mean-pooled over the mask) and returns unit vectors. Blocks its thread while it runs: it
 * lives in the embedding worker.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { loadOnnxFile } from '../model/load-onnx.js';
import { readJsonFile } from './read-json-file.js';
import { meanPoolNormalize, normalize } from './pooling.js';

const configSchema = z.looseObject({
  hidden_size: z.number().int().positive().optional(),
  max_position_embeddings: z.number().int().positive().optional(),
});
const tokenizerConfigSchema = z.looseObject({
  model_max_length: z.number().positive().optional(),
});
/** transformers writes int(1e30) as model_max_length when the tokenizer sets no limit. */
const UNSET_MODEL_MAX_LENGTH = 1e29;
/** When neither config.json nor tokenizer_config.json says (BERT's positions). */
const DEFAULT_MAX_TOKENS = 512;

/**
 * Longest input in tokens: the learned positions, capped by what the tokenizer serves (RoBERTa/XLM-R declare 514
 * positions, two of them offset by the padding index, and serve 512).
 */
function maxTokensOf(positions: number | undefined, modelMaxLength: number | undefined): number {
  const limits = [positions, modelMaxLength !== undefined && modelMaxLength < UNSET_MODEL_MAX_LENGTH ? Math.floor(modelMaxLength) : undefined];
  const declared = limits.filter((n): n is number => n !== undefined);
  return declared.length ? Math.min(...declared) : DEFAULT_MAX_TOKENS;
}

export class EmbedderInputError extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid_prompt' | 'context_length',
  ) {
    super(message);
  }
}

export class Embedder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    /** Longest input in tokens, special tokens included (learned positions, capped by tokenizer_config's model_max_length). */
    readonly maxTokens: number,
    private dim: number,
    readonly file: string,
    private readonly output: string,
    private readonly needsTypes: boolean,
  ) {}

  static async load(dir: string, opts: { threads?: number } = {}): Promise<Embedder> {
    const config = await readJsonFile(join(dir, 'config.json'), configSchema);
    const tokenizerJson = await readJsonFile(join(dir, 'tokenizer.json'), z.looseObject({}));
    const tokenizerConfig = (await readJsonFile(join(dir, 'tokenizer_config.json'), tokenizerConfigSchema, true)) ?? {};
    const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const file = await pickOnnxFile(dir);
    const loaded = await loadOnnxFile(file);
    const session = await ort.InferenceSession.create(loaded.bytes, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      // A model given as bytes has no folder of its own: ORT resolves external data (model.onnx_data) against this one.
      ...(loaded.externalDataDir ? { extra: { session: { model_external_initializers_file_folder_path: loaded.externalDataDir } } } : {}),
    });
    for (const name of ['input_ids', 'attention_mask']) {
      if (!session.inputNames.includes(name)) throw new Error(`${file}: the model has no '${name}' input (inputs: ${session.inputNames.join(', ')})`);
    }
    const output = session.outputNames.includes('sentence_embedding')
      ? 'sentence_embedding'
      : session.outputNames.includes('last_hidden_state')
        ? 'last_hidden_state'
        : undefined;
    if (!output) throw new Error(`${file}: no 'sentence_embedding' or 'last_hidden_state' output (outputs: ${session.outputNames.join(', ')})`);
    const embedder = new Embedder(
      session,
      tokenizer,
      maxTokensOf(config.max_position_embeddings, tokenizerConfig.model_max_length),
      config.hidden_size ?? 0,
      file,
      output,
      session.inputNames.includes('token_type_ids'),
    );
    // The width is what the model returns; one probe settles it when config.json does not say.
    const [probe] = await embedder.embed([embedder.tokenize('probe')]);
    embedder.dim = probe!.length;
    return embedder;
  }

  /** Vector width (the model's hidden size, or its pooled output's). */
  get dimensions(): number {
    return this.dim;
  }

  /** Token ids with the model's special tokens ([CLS] ... [SEP]); too long is an error, as OpenAI answers it. */
  tokenize(text: string): number[] {
    if (text.length === 0) throw new EmbedderInputError("'input' cannot contain an empty string.", 'invalid_prompt');
    const ids = this.tokenizer.encode(text, { add_special_tokens: true }).ids;
    if (ids.length > this.maxTokens)
      throw new EmbedderInputError(`This model's maximum input length is ${this.maxTokens} tokens; an input has ${ids.length}.`, 'context_length');
    return ids;
  }

  /** One forward pass over a batch of tokenized inputs, padded to the longest; unit vectors out. */
  async embed(batch: readonly number[][]): Promise<Float32Array[]> {
    const b = batch.length;
    if (b === 0) throw new Error('embed needs at least one input');
    const s = Math.max(...batch.map((ids) => ids.length));
    const ids = new BigInt64Array(b * s);
    const mask = new BigInt64Array(b * s);
    batch.forEach((row, i) => {
      row.forEach((id, t) => {
        ids[i * s + t] = BigInt(id);
        mask[i * s + t] = 1n;
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [b, s]),
      attention_mask: new ort.Tensor('int64', mask, [b, s]),
    };
    if (this.needsTypes) feeds['token_type_ids'] = new ort.Tensor('int64', new BigInt64Array(b * s), [b, s]);
    const result = await this.session.run(feeds, [this.output]);
    const out = result[this.output]!;
    const data = out.data as Float32Array;
    if (this.output === 'sentence_embedding') {
      const d = out.dims[1]!;
      return Array.from({ length: b }, (_, i) => normalize(data.slice(i * d, (i + 1) * d)));
    }
    return meanPoolNormalize(data, mask, b, s, out.dims[2]!);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** onnx/model.onnx (Optimum's fp32 name), else model.onnx at the top, else the only .onnx file in onnx/. */
async function pickOnnxFile(dir: string): Promise<string> {
  const inOnnx = await readdir(join(dir, 'onnx')).catch(() => [] as string[]);
  if (inOnnx.includes('model.onnx')) return join(dir, 'onnx', 'model.onnx');
  const top = await readdir(dir);
  if (top.includes('model.onnx')) return join(dir, 'model.onnx');
  const files = inOnnx.filter((f) => f.endsWith('.onnx'));
  if (files.length === 1) return join(dir, 'onnx', files[0]!);
  throw new Error(`${dir}: no onnx/model.onnx (found: ${files.join(', ') || 'nothing'})`);
}
