/**
 * A session's masked values belong to the key that made them: the client names the session (header or `user`), so a
 * second key of the same tenant that sends the same session name must get its own table, not the first key's
 * originals back when its answer echoes a placeholder.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../gateway/core/sha256.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const POLICY = ['version: 1', 'tags:', '  pii: { route: redact, reversible: true }', 'rules:', '  - id: all', '    route: [fixed]', ''].join('\n');
const KEY_A = 'sk-sy-session-owner-a-0123456789';
const KEY_B = 'sk-sy-session-owner-b-0123456789';

let fixed: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  // A model that names the session's first masked value, whatever this turn contains.
  fixed = await startFakeOpenAI({ reply: 'I already wrote to [REDACTED:email:1].' });
  const dir = mkdtempSync(join(tmpdir(), 'sy-session-owner-'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  gw = await startTestGateway({
    policies: { file: join(dir, 'policy.yaml') },
    upstreams: [{ id: 'fixed', url: fixed.url, models: ['fixed'] }],
    keys: [
      { id: 'a', sha256: await sha256Hex(KEY_A), tenant: 'acme' },
      { id: 'b', sha256: await sha256Hex(KEY_B), tenant: 'acme' },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await fixed?.close();
});

describe('session tables are per key', () => {
  it("another key naming the same session does not get the first key's originals", async () => {
    const session = { headers: { 'x-switchyard-session': 'shared-name' } };
    const a = new OpenAI({ baseURL: gw.baseURL, apiKey: KEY_A, maxRetries: 0 });
    const b = new OpenAI({ baseURL: gw.baseURL, apiKey: KEY_B, maxRetries: 0 });
    const first = await a.chat.completions.create({ model: 'fixed', messages: [{ role: 'user', content: 'mail ada@example.com' }] }, session);
    expect(first.choices[0]!.message.content).toBe('I already wrote to ada@example.com.');
    // Key b masks a value of its own; the echoed placeholder must resolve to b's value, never a's.
    const second = await b.chat.completions.create({ model: 'fixed', messages: [{ role: 'user', content: 'mail eve@example.com' }] }, session);
    expect(second.choices[0]!.message.content).toBe('I already wrote to eve@example.com.');
    expect(JSON.stringify(fixed.requests.map((r) => r.body))).not.toContain('ada@example.com');
  });
});
