/** A 404 for an unknown model names the models the caller may use, so a typo is a one-glance fix. */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';

let fake: FakeOpenAI;
let gw: TestGateway;
const KEY = 'sk-sy-model-list-key-0123456789';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({
    upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-4o-mini', 'gpt-4o', 'secret-model'] }],
    keys: [{ id: 'k', sha256: await sha256Hex(KEY), models: ['gpt-4o*'] }],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});

describe('model_not_found', () => {
  it('lists the models this key may use, on inference and on GET /v1/models/{id}', async () => {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: KEY, maxRetries: 0 });
    const err = (await client.chat.completions
      .create({ model: 'gpt-4o-mni', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)) as {
      status: number;
      code: string;
      message: string;
    };
    expect(err.status).toBe(404);
    expect(err.code).toBe('model_not_found');
    expect(err.message).toContain('Available models: gpt-4o-mini, gpt-4o.');
    expect(err.message).not.toContain('secret-model');
    const r = await fetch(`${gw.baseURL}/models/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('Available models: gpt-4o-mini, gpt-4o.');
  });
});
