/** The built encoder through onnxruntime (in its worker) against the plain-JS reference; tokenizer; batching. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/helpers/wait.js';
import { splitExternalData } from '../graph/external-data.js';
import { Embedder } from './embedder.js';
import { EmbeddingClient, EmbeddingError } from './embedding-client.js';
import { referenceEmbedding } from './encoder-reference.js';
import type { EncoderWeights } from './encoder-weights.js';
import { TEST_ENCODER_SHAPE, writeTestEncoderFolder } from './test-encoder.js';
import { WORDPIECE_TOKENIZER_CONFIG, wordPieceTokenizerJson } from './wordpiece-tokenizer.js';

const TEXTS = [
  'What is the weather in Paris today?',
  'hello',
  'Please reset my password, I cannot sign in to my account at all.',
  'tell me about dogs and cats',
];

let dir: string;
let pooledDir: string;
let weights: EncoderWeights;
let vocab: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-encoder-'));
  pooledDir = await mkdtemp(join(tmpdir(), 'sy-encoder-pooled-'));
  ({ weights, vocab } = await writeTestEncoderFolder(dir));
  await writeTestEncoderFolder(pooledDir, { sentenceEmbedding: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(pooledDir, { recursive: true, force: true });
});

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('WordPiece tokenizer.json', () => {
  it('splits known words whole, unknown words into ## pieces, and adds [CLS]/[SEP]', () => {
    const tok = new Tokenizer(wordPieceTokenizerJson(vocab), {});
    const enc = tok.encode('Weather in Zurich?', { add_special_tokens: true });
    expect(enc.tokens).toEqual(['[CLS]', 'weather', 'in', 'z', '##u', '##r', '##i', '##c', '##h', '?', '[SEP]']);
  });
});

describe('built encoder', () => {
  it('onnxruntime (padded batch) matches the JS reference within 1e-4, last_hidden_state and sentence_embedding', async () => {
    for (const folder of [dir, pooledDir]) {
      const e = await Embedder.load(folder);
      const ids = TEXTS.map((t) => e.tokenize(t));
      const got = await e.embed(ids);
      expect(e.dimensions).toBe(32);
      ids.forEach((row, i) => {
        const want = referenceEmbedding(weights, row);
        expect(maxDiff(got[i]!, want)).toBeLessThan(1e-4);
        expect(Math.hypot(...got[i]!)).toBeCloseTo(1, 5);
      });
      // Different texts give different vectors (the check above would pass for a constant model otherwise).
      expect(maxDiff(got[0]!, got[1]!)).toBeGreaterThan(1e-2);
      await e.close();
    }
  });

  it('an encoder with its weights in onnx/model.onnx_data loads and embeds as the inline one does', async () => {
    const external = await mkdtemp(join(tmpdir(), 'sy-encoder-external-'));
    try {
      await writeTestEncoderFolder(external);
      const split = splitExternalData(await readFile(join(external, 'onnx', 'model.onnx')), 'model.onnx_data');
      await writeFile(join(external, 'onnx', 'model.onnx'), split.model);
      await writeFile(join(external, 'onnx', 'model.onnx_data'), split.data);
      expect(split.data.length).toBeGreaterThan(split.model.length);
      const inline = await Embedder.load(dir);
      const e = await Embedder.load(external);
      const ids = TEXTS.map((t) => e.tokenize(t));
      const got = await e.embed(ids);
      const want = await inline.embed(ids);
      ids.forEach((_, i) => expect(maxDiff(got[i]!, want[i]!)).toBeLessThan(1e-6));
      await e.close();
      await inline.close();
    } finally {
      await rm(external, { recursive: true, force: true });
    }
  });

  it("maxTokens is the learned positions capped by tokenizer_config's model_max_length (RoBERTa: 514 declared, 512 served)", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sy-encoder-roberta-'));
    const maxTokensOf = async (d: string) => {
      const e = await Embedder.load(d);
      await e.close();
      return e.maxTokens;
    };
    try {
      await writeTestEncoderFolder(folder, { shape: { maxPositions: 66 } });
      expect(await maxTokensOf(folder)).toBe(66);
      await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify({ ...WORDPIECE_TOKENIZER_CONFIG, model_max_length: 64 }));
      const capped = await Embedder.load(folder);
      expect(capped.maxTokens).toBe(64);
      const words = (n: number) => Array.from({ length: n }, () => 'cat').join(' ');
      expect(capped.tokenize(words(62))).toHaveLength(64);
      expect(() => capped.tokenize(words(63))).toThrow(/maximum input length is 64 tokens/);
      await capped.close();
      // transformers' "no limit" sentinel leaves the positions in charge.
      await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify({ ...WORDPIECE_TOKENIZER_CONFIG, model_max_length: 1e30 }));
      expect(await maxTokensOf(folder)).toBe(66);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('config.json errors name the file and the field; only a missing tokenizer_config.json counts as absent', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sy-encoder-bad-'));
    try {
      await writeTestEncoderFolder(folder);
      const configPath = join(folder, 'config.json');
      const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
      await writeFile(configPath, JSON.stringify({ ...config, max_position_embeddings: '512' }));
      await expect(Embedder.load(folder)).rejects.toThrow(`${configPath}: field 'max_position_embeddings'`);
      await writeFile(configPath, '{ "hidden_size": 32,');
      await expect(Embedder.load(folder)).rejects.toThrow(`${configPath}: not valid JSON`);
      await writeFile(configPath, JSON.stringify(config));
      const tokenizerConfigPath = join(folder, 'tokenizer_config.json');
      await writeFile(tokenizerConfigPath, '{ not json');
      await expect(Embedder.load(folder)).rejects.toThrow(`${tokenizerConfigPath}: not valid JSON`);
      await rm(tokenizerConfigPath);
      const e = await Embedder.load(folder);
      expect(e.maxTokens).toBe(TEST_ENCODER_SHAPE.maxPositions);
      await e.close();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('a row does not depend on its batch neighbours (padding is masked)', async () => {
    const e = await Embedder.load(dir);
    const ids = TEXTS.map((t) => e.tokenize(t));
    const [alone] = await e.embed([ids[1]!]);
    const batched = await e.embed(ids);
    expect(maxDiff(alone!, batched[1]!)).toBeLessThan(1e-5);
    await e.close();
  });

  it('the worker batches requests, answers in order, and refuses too-long and empty inputs with reasons', async () => {
    const client = new EmbeddingClient({ modelDir: dir, modelId: 'enc', maxBatch: 3 });
    await client.loaded;
    expect(client.dimensions()).toBe(32);
    const results = await Promise.all([client.embed(TEXTS), client.embed([TEXTS[3]!, TEXTS[0]!])]);
    const direct = await Embedder.load(dir);
    const want = await direct.embed(TEXTS.map((t) => direct.tokenize(t)));
    results[0]!.vectors.forEach((v, i) => expect(maxDiff(v, want[i]!)).toBeLessThan(1e-5));
    expect(maxDiff(results[1]!.vectors[1]!, want[0]!)).toBeLessThan(1e-5);
    expect(results[0]!.promptTokens).toBe(TEXTS.map((t) => direct.tokenize(t).length).reduce((a, b) => a + b));
    await direct.close();
    const long = Array.from({ length: 100 }, () => 'cat').join(' ');
    await expect(client.embed([long])).rejects.toMatchObject({ reason: 'context_length' });
    await expect(client.embed([''])).rejects.toBeInstanceOf(EmbeddingError);
    await client.close();
  });

  it('an empty input list is refused with a clear error and the model keeps serving', async () => {
    const client = new EmbeddingClient({ modelDir: dir, modelId: 'enc' });
    await client.loaded;
    await expect(client.embed([])).rejects.toMatchObject({ reason: 'invalid_prompt', message: expect.stringMatching(/empty list/) });
    const after = await client.embed(['hello']);
    expect(after.vectors).toHaveLength(1);
    expect(client.isReady()).toBe(true);
    await client.close();
  });

  it('a forward pass that fails answers its requests with an error and the model keeps serving', async () => {
    // config.json overstates the positions the graph has, so a long input passes tokenize and fails in onnxruntime.
    const liar = await mkdtemp(join(tmpdir(), 'sy-encoder-liar-'));
    try {
      await writeTestEncoderFolder(liar);
      const config = JSON.parse(await readFile(join(liar, 'config.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(liar, 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 512 }));
      await writeFile(join(liar, 'tokenizer_config.json'), JSON.stringify({ ...WORDPIECE_TOKENIZER_CONFIG }));
      const client = new EmbeddingClient({ modelDir: liar, modelId: 'liar' });
      await client.loaded;
      const long = Array.from({ length: 100 }, () => 'cat').join(' ');
      await expect(client.embed([long])).rejects.toMatchObject({ reason: 'unavailable', message: expect.stringMatching(/failed on this input/) });
      const after = await client.embed(['hello']);
      expect(after.vectors).toHaveLength(1);
      await client.close();
    } finally {
      await rm(liar, { recursive: true, force: true });
    }
  });

  it('close() resolves promptly when the worker has already exited (a load that failed)', async () => {
    const client = new EmbeddingClient({ modelDir: join(tmpdir(), 'sy-no-such-encoder'), modelId: 'missing' });
    await expect(client.loaded).rejects.toThrow();
    // threadId turns -1 once the worker has exited.
    const worker = (client as unknown as { worker: Worker }).worker;
    await waitUntil(() => worker.threadId === -1, { timeoutMs: 20_000, message: 'the worker exits after a failed load' });
    const outcome = await Promise.race([
      client.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 8_000).unref()),
    ]);
    expect(outcome).toBe('closed');
  }, 40_000);
});
