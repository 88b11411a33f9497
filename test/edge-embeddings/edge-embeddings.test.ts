/** /v1/embeddings answered by an edge encoder, through the gateway with the official openai SDK (real worker, real ORT). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { writeTestEncoderFolder } from '../../edge-runtime/index.js';
import { referenceEmbedding } from '../../edge-runtime/embeddings/encoder-reference.js';
import type { EncoderWeights } from '../../edge-runtime/embeddings/encoder-weights.js';
import { wordPieceTokenizerJson } from '../../edge-runtime/embeddings/wordpiece-tokenizer.js';

let gw: TestGateway;
let dir: string;
let weights: EncoderWeights;
let tokenizer: Tokenizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-edge-embed-'));
  const built = await writeTestEncoderFolder(dir);
  weights = built.weights;
  tokenizer = new Tokenizer(wordPieceTokenizerJson(built.vocab), {});
  gw = await startTestGateway({ cache: { backend: 'off' }, edge: { enabled: true, models: [{ id: 'tiny-embed', path: dir, task: 'embeddings' }] } });
}, 120_000);
afterAll(async () => {
  await gw?.shutdown();
  await rm(dir, { recursive: true, force: true });
});

const reference = (text: string) => referenceEmbedding(weights, tokenizer.encode(text, { add_special_tokens: true }).ids);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));
const TEXTS = ['what is the capital of france', 'reset my password please', 'hello'];

describe('edge embeddings through the gateway', () => {
  it('float: one vector per input, in order, equal to the JS reference; usage counts the tokens', async () => {
    const r = await gw.client.embeddings.create({ model: 'tiny-embed', input: TEXTS, encoding_format: 'float' });
    expect(r.object).toBe('list');
    expect(r.model).toBe('tiny-embed');
    expect(r.data.map((d) => d.index)).toEqual([0, 1, 2]);
    r.data.forEach((d, i) => {
      expect(d.embedding).toHaveLength(32);
      expect(maxDiff(d.embedding, reference(TEXTS[i]!))).toBeLessThan(1e-4);
    });
    const tokens = TEXTS.map((t) => tokenizer.encode(t, { add_special_tokens: true }).ids.length).reduce((a, b) => a + b);
    expect(r.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('base64: the raw little-endian float32 bytes; the SDK default (base64, decoded by the SDK) gives the same numbers', async () => {
    const raw = await gw.client.embeddings.create({ model: 'tiny-embed', input: TEXTS[0]!, encoding_format: 'base64' });
    const b64 = raw.data[0]!.embedding as unknown as string;
    expect(typeof b64).toBe('string');
    const bytes = Buffer.from(b64, 'base64');
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(floats).toHaveLength(32);
    expect(maxDiff(floats, reference(TEXTS[0]!))).toBeLessThan(1e-4);
    const sdkDefault = await gw.client.embeddings.create({ model: 'tiny-embed', input: TEXTS[0]! });
    expect(maxDiff(sdkDefault.data[0]!.embedding, floats)).toBe(0);
  });

  it('dimensions: the leading ones, renormalised; more than the model has is a 400', async () => {
    const r = await gw.client.embeddings.create({ model: 'tiny-embed', input: TEXTS[1]!, dimensions: 8, encoding_format: 'float' });
    const full = reference(TEXTS[1]!).slice(0, 8);
    const n = Math.hypot(...full);
    expect(r.data[0]!.embedding).toHaveLength(8);
    expect(
      maxDiff(
        r.data[0]!.embedding,
        full.map((x) => x / n),
      ),
    ).toBeLessThan(1e-4);
    const err = await gw.client.embeddings.create({ model: 'tiny-embed', input: 'x', dimensions: 64 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('invalid_value');
  });

  it('refusals are OpenAI-shaped 400s: too long, chat on an embedding model', async () => {
    const long = Array.from({ length: 100 }, () => 'cat').join(' ');
    const tooLong = await gw.client.embeddings.create({ model: 'tiny-embed', input: long }).catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(BadRequestError);
    expect((tooLong as BadRequestError).code).toBe('context_length_exceeded');
    const chat = await gw.client.chat.completions
      .create({ model: 'tiny-embed', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(BadRequestError);
    expect((chat as BadRequestError).code).toBe('unsupported_endpoint');
  });

  it('concurrent requests are all answered correctly (batched in the worker)', async () => {
    const inputs = Array.from({ length: 24 }, (_, i) => `${TEXTS[i % 3]} ${['one', 'two', 'three', 'four'][i % 4]}`);
    const rs = await Promise.all(inputs.map((input) => gw.client.embeddings.create({ model: 'tiny-embed', input, encoding_format: 'float' })));
    rs.forEach((r, i) => expect(maxDiff(r.data[0]!.embedding, reference(inputs[i]!))).toBeLessThan(1e-4));
  });

  it('is listed in /v1/models', async () => {
    const models = await gw.client.models.list();
    expect(models.data.map((m) => m.id)).toContain('tiny-embed');
  });
});
