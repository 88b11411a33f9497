/** The Batch API through the official openai SDK: files, batches, results, privacy, tenancy, and a gateway killed mid-batch. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { NotFoundError, toFile } from 'openai';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { waitUntil } from '../helpers/wait.js';

const KEYS = { a: 'sk-sy-tenant-a-0123456789abcdef', b: 'sk-sy-tenant-b-0123456789abcdef' };

function jsonl(lines: unknown[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}
const chatLine = (id: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gpt-a', messages: [{ role: 'user', content }], ...extra },
});

async function finished(client: OpenAI, id: string, timeoutMs = 60_000) {
  let batch = await client.batches.retrieve(id);
  await waitUntil(
    async () => {
      batch = await client.batches.retrieve(id);
      return ['completed', 'failed', 'cancelled', 'expired'].includes(batch.status);
    },
    { timeoutMs, intervalMs: 50 },
  );
  return batch;
}

async function resultLines(client: OpenAI, fileId: string | null | undefined) {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map(
      (l) =>
        JSON.parse(l) as {
          custom_id: string;
          response: { status_code: number; body: Record<string, unknown> } | null;
          error: { code: string } | null;
        },
    );
}

describe('Batch API in-process', () => {
  let cloud: FakeOpenAI;
  let edge: FakeOpenAI;
  let gw: TestGateway;
  const client = (key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0, timeout: 30_000 });
  beforeAll(async () => {
    cloud = await startFakeOpenAI();
    edge = await startFakeOpenAI({ reply: 'from the edge' });
    const dir = mkdtempSync(join(tmpdir(), 'sy-batch-policy-'));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'version: 1\ntags:\n  pii: { route: edge-only }\nrules:\n  - id: cloud-first\n    route: [cloud, edge]\n');
    gw = await startTestGateway({
      upstreams: [
        { id: 'cloud', url: cloud.url, models: ['gpt-a'] },
        { id: 'edge', url: edge.url, zone: 'edge', models: ['gpt-a'] },
      ],
      keys: [
        { id: 'a', sha256: await sha256Hex(KEYS.a), tenant: 'tenant-a' },
        { id: 'b', sha256: await sha256Hex(KEYS.b), tenant: 'tenant-b' },
      ],
      policies: { file: policy },
      batch: { max_file_bytes: 8192 },
    });
  });
  afterAll(async () => {
    await gw?.shutdown();
    await cloud?.close();
    await edge?.close();
  });

  it('uploads a JSONL file, runs every line once through the policy, and returns output and error files', async () => {
    const a = client(KEYS.a);
    const lines = [
      ...Array.from({ length: 6 }, (_, i) => chatLine(`ok-${i}`, `question ${i}`)),
      chatLine('private', 'my diagnosis', { metadata: { tags: 'pii' } }),
      { ...chatLine('unknown-model', 'x'), body: { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] } },
      chatLine('streamed', 'stream me', { stream: true }),
    ];
    const file = await a.files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'in.jsonl'), purpose: 'batch' });
    expect(file.purpose).toBe('batch');
    expect(file.bytes).toBe(Buffer.byteLength(jsonl(lines)));
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 't1' },
    });
    expect(created.status).toBe('in_progress');
    const done = await finished(a, created.id);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 9, completed: 8, failed: 1 });
    expect(done.metadata).toEqual({ job: 't1' });

    const out = await resultLines(a, done.output_file_id);
    const err = await resultLines(a, done.error_file_id);
    const ids = [...out, ...err].map((l) => l.custom_id).sort();
    expect(ids).toEqual(lines.map((l) => l.custom_id).sort()); // every line exactly once
    const byId = new Map(out.map((l) => [l.custom_id, l]));
    expect(byId.get('ok-0')?.response?.status_code).toBe(200);
    expect(JSON.stringify(byId.get('ok-0')?.response?.body)).toContain('question 0');
    expect(byId.get('streamed')?.response?.body['object']).toBe('chat.completion');
    // The pii line obeyed the edge-only tag: it never reached the cloud.
    expect(JSON.stringify(byId.get('private')?.response?.body)).toContain('from the edge');
    expect(cloud.requests.some((r) => JSON.stringify(r.body).includes('my diagnosis'))).toBe(false);
    expect(err[0]?.custom_id).toBe('unknown-model');
    expect(err[0]?.error?.code).toBe('model_not_found');
    expect(err[0]?.response?.status_code).toBe(404);
  });

  it('rejects an invalid input file with the line and field, and keeps tenants apart', async () => {
    const a = client(KEYS.a);
    const bad =
      '{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{}}\nnot json\n{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{}}\n';
    const file = await a.files.create({ file: await toFile(Buffer.from(bad), 'bad.jsonl'), purpose: 'batch' });
    const b = await a.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(b.status).toBe('failed');
    expect(b.errors?.data?.map((e) => [e.code, e.line])).toEqual([
      ['invalid_json_line', 2],
      ['duplicate_custom_id', 3],
    ]);
    // Tenant B sees neither the file nor the batch of tenant A.
    const other = client(KEYS.b);
    await expect(other.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.batches.retrieve(b.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await other.batches.list()).data).toEqual([]);
  });
});

describe('Batch API under bad input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ batch: { max_file_bytes: 1024 } });
  });
  afterAll(async () => gw?.shutdown());

  it('refuses oversized uploads (declared or chunked), malformed multipart and unknown ids with OpenAI-shaped errors', async () => {
    const big = 'x'.repeat(4096);
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([big]), 'big.jsonl');
    const declared = await fetch(`${gw.baseURL}/files`, { method: 'POST', body: form });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    // Sent chunked (no content-length), a body past the limit is cut off while reading, whatever part is large:
    // here a small file with a big extra field, which reading the whole form first would have accepted.
    const padded = new FormData();
    padded.append('purpose', 'batch');
    padded.append('note', big);
    padded.append('file', new Blob(['{}']), 'small.jsonl');
    const encoded = new Response(padded);
    const chunked = await fetch(`${gw.baseURL}/files`, {
      method: 'POST',
      headers: { 'content-type': encoded.headers.get('content-type')! },
      body: encoded.body,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const malformed = await fetch(`${gw.baseURL}/files`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=zz' },
      body: 'not multipart',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    for (const path of ['/files/file-nope', '/files/..%2F..%2Fetc', '/batches/batch-nope']) {
      const r = await fetch(`${gw.baseURL}${path}`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    const badBatch = await gw.client.batches
      .create({ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' })
      .catch((e: unknown) => e);
    expect(badBatch).toBeInstanceOf(NotFoundError);
  });
});

describe('Batch API across a restart', () => {
  it('a gateway killed mid-batch resumes after restart and answers every line exactly once', async () => {
    const cloud = await startFakeOpenAI();
    cloud.setFault({ firstByteDelayMs: 150 });
    const dir = mkdtempSync(join(tmpdir(), 'sy-batch-restart-'));
    const config = (port: number) =>
      `server: { port: ${port} }\nedge: { enabled: false }\nrecords: { sink: none }\nbatch: { dir: "${dir}", max_concurrency: 2 }\nupstreams:\n  - { id: cloud, url: "${cloud.url}", models: [gpt-a] }\n`;
    let gw = await startGatewayProcess(config);
    try {
      const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
      const lines = Array.from({ length: 24 }, (_, i) => chatLine(`line-${i}`, `q${i}`));
      const file = await client().files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'in.jsonl'), purpose: 'batch' });
      const batch = await client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await waitUntil(async () => (await client().batches.retrieve(batch.id)).request_counts!.completed >= 4, { timeoutMs: 60_000, intervalMs: 25 });
      gw.child.kill('SIGKILL');
      await new Promise<void>((r) => (gw.child.exitCode !== null ? r() : gw.child.once('exit', () => r())));
      const before = cloud.served;
      expect(before).toBeLessThan(24);
      gw = await startGatewayProcess(config);
      const done = await finished(client(), batch.id, 90_000);
      expect(done.status).toBe('completed');
      expect(done.request_counts).toEqual({ total: 24, completed: 24, failed: 0 });
      const out = await resultLines(client(), done.output_file_id);
      expect(out.map((l) => l.custom_id).sort()).toEqual(lines.map((l) => l.custom_id).sort());
      // At most the lines in flight at the kill (max_concurrency 2) ran twice upstream; none was answered twice.
      expect(cloud.served).toBeLessThanOrEqual(24 + 2);
    } finally {
      await gw.stop();
      await cloud.close();
    }
  });
});
