/** `switchyard audit` reads the Redis stream sink too: a PII request allowed to the cloud is found there (exit 1). */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

const execFileP = promisify(execFile);
const cli = (args: string[]) =>
  execFileP(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', ...args], { timeout: 60_000 }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );

describe('audit from the Redis stream sink', () => {
  let redis: TestRedis;
  let cloud: FakeOpenAI;
  let dev: FakeOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    cloud = await startFakeOpenAI();
    dev = await startFakeOpenAI();
    const file = join(mkdtempSync(join(tmpdir(), 'sy-audit-redis-')), 'policy.yaml');
    writeFileSync(
      file,
      'version: 1\ntags:\n  pii: { zones: [device, cloud] }\n  secret: { zones: [device] }\nrules:\n  - id: r\n    route: [cloud, dev]\n',
    );
    gw = await startTestGateway({
      policies: { file },
      redis: { url: redis.url },
      records: { sink: 'redis' },
      upstreams: [
        { id: 'dev', url: dev.url, zone: 'device', models: ['m'] },
        { id: 'cloud', url: cloud.url, models: ['m'] },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.shutdown();
    await cloud?.close();
    await dev?.close();
    await redis?.stop();
  });

  it('finds the PII request that reached the cloud and none for the secret kept on the device', async () => {
    const ask = (content: string) => gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] }).withResponse();
    const pii = await ask('mail ivy@example.org');
    expect(pii.response.headers.get('x-switchyard-route')).toBe('cloud');
    expect((await ask('key sk-abcdefghijklmnopqrstuvwxyz123456')).response.headers.get('x-switchyard-route')).toBe('dev');
    const id = pii.response.headers.get('x-request-id')!;
    // Records are written on a later tick: poll the audit until it sees them.
    let found = { code: 0, out: '' };
    await waitUntil(async () => (found = await cli(['audit', '--class', 'pii', '--zone', 'cloud', '--redis', redis.url])).out.includes(id), {
      timeoutMs: 15_000,
      intervalMs: 200,
      message: 'the audit sees the PII record',
    });
    expect(found.out).toContain(id);
    expect(found.code).toBe(1);
    const secret = await cli(['audit', '--class', 'secret', '--zone', 'cloud', '--redis', redis.url]);
    expect(secret.out).toMatch(/with the class: 1, violations: 0/);
    expect(secret.code).toBe(0);
  }, 60_000);
});
