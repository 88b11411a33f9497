/** Streams are forwarded chunk by chunk (never buffered) and a client that leaves cancels the upstream request. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import type { RequestContext } from '../../gateway/core/request-context.js';

let fake: FakeOpenAI;
let gw: TestGateway;
const done: RequestContext[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway(
    { upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-test'] }] },
    { onComplete: (ctx) => done.push({ ...ctx }) },
  );
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  done.length = 0;
});

describe('streaming', () => {
  it('delivers the first chunk while the upstream still holds the rest', async () => {
    fake.setFault({ holdAfterFirstChunk: true });
    const stream = await gw.client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'one two three four' }],
      stream: true,
    });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    // The upstream has not finished: the response to the client cannot have been buffered until the end.
    expect(fake.inFlight).toBe(1);
    fake.release();
    let rest = 0;
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      rest++;
    }
    expect(rest).toBeGreaterThan(0);
  });

  it('a client abort mid-stream cancels the upstream request', async () => {
    fake.setFault({ holdAfterFirstChunk: true });
    const controller = new AbortController();
    const stream = await gw.client.chat.completions.create(
      { model: 'gpt-test', messages: [{ role: 'user', content: 'abort me' }], stream: true },
      { signal: controller.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    controller.abort();
    await waitUntil(() => fake.aborted >= 1, { timeoutMs: 10_000 });
    await waitUntil(() => done.length === 1, { timeoutMs: 10_000 });
    expect(done[0]!.status).toBe(499);
    expect(fake.inFlight).toBe(0);
  });

  it('a client abort before the first byte cancels the upstream request', async () => {
    fake.setFault({ firstByteDelayMs: 20_000 });
    const controller = new AbortController();
    const pending = gw.client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'slow' }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitUntil(() => fake.inFlight === 1, { timeoutMs: 10_000 });
    controller.abort();
    await pending;
    await waitUntil(() => fake.aborted >= 1, { timeoutMs: 10_000 });
  });

  it('survives many clients disconnecting mid-stream at once', async () => {
    fake.setFault({ chunkDelayMs: 20 });
    const runs = Array.from({ length: 30 }, async () => {
      const controller = new AbortController();
      const stream = await gw.client.chat.completions.create(
        { model: 'gpt-test', messages: [{ role: 'user', content: 'a b c d e f g h i j k l m n o p' }], stream: true },
        { signal: controller.signal },
      );
      const it = stream[Symbol.asyncIterator]();
      await it.next();
      controller.abort();
    });
    await Promise.all(runs);
    await waitUntil(() => fake.inFlight === 0, { timeoutMs: 20_000 });
    // The gateway is still healthy and serving.
    const r = await gw.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'still alive' }] });
    expect(r.choices[0]!.message.content).toContain('still alive');
  });
});
