/** Graceful shutdown: new connections are refused, an in-flight stream finishes, then upstream pools close. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

let fake: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({ server: { shutdown_grace_ms: 20_000 }, upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-test'] }] });
});
afterAll(async () => {
  await fake?.close();
});

describe('graceful shutdown', () => {
  it('lets an in-flight stream finish before closing', async () => {
    fake.setFault({ holdAfterFirstChunk: true });
    const stream = await gw.client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'drain me gently' }],
      stream: true,
    });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    let shutDown = false;
    const stopping = gw.shutdown().then(() => (shutDown = true));
    // New connections are refused while draining.
    await waitUntil(async () => (await fetch(`${gw.url}/healthz`, { headers: { connection: 'close' } }).catch(() => 'refused')) === 'refused', {
      timeoutMs: 10_000,
    });
    expect(shutDown).toBe(false);
    fake.release();
    let text = '';
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      text += n.value.choices[0]?.delta?.content ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
    await stopping;
    expect(shutDown).toBe(true);
    expect(fake.aborted).toBe(0);
  });
});
