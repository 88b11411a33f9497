/**
 * Every request to an inference path leaves exactly one record and one count in switchyard_requests_total, whatever
 * its outcome: 401 (missing / wrong key), 400 (malformed JSON, no model), 403, 404, 405, 200 JSON and streamed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway } from '../helpers/gateway.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { readJsonlRecords } from '../../gateway/records/jsonl-sink.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
});

/** Sum of every sample of one counter in a Prometheus exposition. */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

describe('every request is counted and recorded', () => {
  it('counts and records 401s, 400s, 403s, 404s, 405s and successes alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-every-'));
    const user = 'sk-sy-every-user-0123456789';
    const admin = 'sk-sy-every-admin-0123456789';
    const gw = await startTestGateway({
      records: { sink: 'jsonl', dir },
      upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a', 'gpt-b'] }],
      keys: [
        { id: 'every-user', sha256: await sha256Hex(user), tenant: 'acme', models: ['gpt-a'] },
        { id: 'every-admin', sha256: await sha256Hex(admin), role: 'admin' },
      ],
    });
    const url = `${gw.url}/v1/chat/completions`;
    const post = (body: string, key: string | undefined, path = url) =>
      fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
      }).then(async (r) => {
        await r.text();
        return r.status;
      });
    const ok = JSON.stringify({ model: 'gpt-a', messages: [{ role: 'user', content: 'hi' }] });
    const plan: Array<[expected: number, send: () => Promise<number>]> = [
      [401, () => post(ok, undefined)],
      [401, () => post(ok, 'sk-sy-wrong-key-000000000000')],
      [400, () => post('{"model": "gpt-a", "messages": [', user)],
      [400, () => post(JSON.stringify({ messages: [{ role: 'user', content: 'no model' }] }), user)],
      [403, () => post(JSON.stringify({ model: 'gpt-b', messages: [{ role: 'user', content: 'hi' }] }), user)],
      [404, () => post(JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }), admin)],
      [405, () => fetch(url, { headers: { authorization: `Bearer ${user}` } }).then((r) => r.text().then(() => r.status))],
      [200, () => post(ok, user)],
      [200, () => post(JSON.stringify({ model: 'gpt-a', stream: true, messages: [{ role: 'user', content: 'hi' }] }), user)],
      [401, () => post('not json at all', undefined, `${gw.url}/v1/embeddings`)],
      [404, () => post(JSON.stringify({ model: 'y'.repeat(100_000), messages: [{ role: 'user', content: 'hi' }] }), admin)],
    ];
    const rounds = 3;
    const statuses: number[] = [];
    for (let i = 0; i < rounds; i++) for (const [, send] of plan) statuses.push(await send());
    expect(statuses).toEqual(Array.from({ length: rounds }, () => plan.map(([s]) => s)).flat());
    const sent = rounds * plan.length;

    const metrics = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } }).then((r) => r.text());
    expect(counterSum(metrics, 'switchyard_requests_total')).toBe(sent);
    expect(counterSum(metrics, 'switchyard_errors_total')).toBe(sent - rounds * 2);
    expect(metrics).toMatch(/switchyard_errors_total\{[^}]*code="invalid_api_key"[^}]*\} 9/);
    expect(metrics).toMatch(/switchyard_errors_total\{[^}]*code="invalid_json"[^}]*\} 3/);

    await gw.shutdown(); // flushes the record queue
    const { records } = await readJsonlRecords(dir, 0, Date.now() + 1);
    expect(records).toHaveLength(sent);
    const unauth = records.filter((r) => r.status === 401);
    expect(unauth).toHaveLength(rounds * 3);
    expect(unauth.every((r) => r.error === 'invalid_api_key' && r.key_id === 'anonymous')).toBe(true);
    expect(unauth.filter((r) => r.endpoint === 'embeddings')).toHaveLength(rounds);
    const noModel = records.filter((r) => r.status === 400 && r.error === 'missing_required_parameter');
    expect(noModel).toHaveLength(rounds);
    expect(noModel.every((r) => r.key_id === 'every-user' && r.tenant === 'acme')).toBe(true);
    expect(records.filter((r) => r.status === 403 && r.model === 'gpt-b')).toHaveLength(rounds);
    // A client-chosen model name is recorded capped, so records do not grow with it.
    expect(records.filter((r) => r.model.startsWith('yyy')).map((r) => r.model.length)).toEqual([256, 256, 256]);
  });
});
