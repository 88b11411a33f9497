/**
 * `switchyard audit` and `switchyard policies replay` on records a real gateway wrote: audit answers "did PII reach
 * the cloud" (exit 1 only when it did), replay under the live policy changes nothing, and a looser candidate policy is
 * reported with every request whose class would reach a new zone (exit 1).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

const execFileP = promisify(execFile);
const cli = (args: string[]) =>
  execFileP(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', ...args], { timeout: 60_000 }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

const STRICT = 'version: 1\ntags:\n  pii: { zones: [device, on-prem] }\nrules:\n  - id: cloud-first\n    route: [cloud, dev]\n';
const LOOSE = 'version: 1\ntags:\n  pii: { zones: [device, cloud] }\nrules:\n  - id: cloud-first\n    route: [cloud, dev]\n';

describe('audit and replay from records', () => {
  let dev: FakeOpenAI;
  let cloud: FakeOpenAI;
  let gw: TestGateway;
  const dir = mkdtempSync(join(tmpdir(), 'sy-audit-'));
  const policyFile = join(dir, 'policy.yaml');
  const recordsDir = join(dir, 'records');
  const strictFile = join(dir, 'strict.yaml');
  const looseFile = join(dir, 'loose.yaml');
  const configFile = join(dir, 'gateway.yaml');
  let strictRecords: string;
  let allRecords: string;
  let leakedId = '';

  const records = () =>
    readdirSync(recordsDir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(recordsDir, f), 'utf8').split('\n').filter(Boolean));

  beforeAll(async () => {
    dev = await startFakeOpenAI({ reply: 'from dev' });
    cloud = await startFakeOpenAI({ reply: 'from cloud' });
    writeFileSync(strictFile, STRICT);
    writeFileSync(looseFile, LOOSE);
    writeFileSync(policyFile, STRICT);
    const upstreams = [
      { id: 'dev', url: dev.url, zone: 'device', models: ['m'] },
      { id: 'cloud', url: cloud.url, zone: 'cloud', models: ['m'] },
    ];
    writeFileSync(
      configFile,
      `upstreams:\n${upstreams.map((u) => `  - { id: ${u.id}, url: '${u.url}', zone: ${u.zone}, models: [m] }`).join('\n')}\nprices:\n  models:\n    m: { input_per_m: 1, output_per_m: 2 }\n`,
    );
    gw = await startTestGateway({
      policies: { file: policyFile, poll_ms: 50 },
      records: { sink: 'jsonl', dir: recordsDir },
      upstreams,
    });
    const ask = (content: string) => gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] }).withResponse();
    // Under the strict policy: plain traffic to the cloud, PII to the device, even when the device fails once
    // (the cloud is never its fallback) and when the cloud is down for plain traffic (fallback to the device).
    for (let i = 0; i < 3; i++) expect((await ask(`plain ${i}`)).response.headers.get('x-switchyard-route')).toBe('cloud');
    for (let i = 0; i < 2; i++) expect((await ask(`mail ann${i}@example.org`)).response.headers.get('x-switchyard-route')).toBe('dev');
    cloud.setFault({ status: 503 });
    expect((await ask('plain, cloud failing')).response.headers.get('x-switchyard-route')).toBe('dev');
    cloud.clearFault();
    dev.setFault({ status: 503 });
    // Fails closed with the class named, rather than falling back to the cloud.
    await expect(ask('mail bob@example.org, device failing')).rejects.toMatchObject({ status: 503, code: 'no_allowed_zone' });
    dev.clearFault();
    await waitUntil(() => records().length >= 7, { timeoutMs: 10_000, message: 'records of the strict run' });
    strictRecords = join(dir, 'strict.jsonl');
    writeFileSync(strictRecords, `${records().join('\n')}\n`);
    expect(JSON.stringify(cloud.requests)).not.toContain('example.org');

    // The looser policy goes live and lets one PII request reach the cloud: the audit must find it.
    writeFileSync(policyFile, LOOSE);
    await waitUntil(looseLive, { timeoutMs: 10_000, message: 'loose policy live' });
    const leak = await ask('mail carol@example.org');
    expect(leak.response.headers.get('x-switchyard-route')).toBe('cloud');
    leakedId = leak.response.headers.get('x-request-id')!;
    await waitUntil(() => records().some((l) => l.includes(leakedId)), { timeoutMs: 10_000, message: 'record of the leak' });
    allRecords = join(dir, 'all.jsonl');
    writeFileSync(allRecords, `${records().join('\n')}\n`);
  }, 90_000);
  afterAll(async () => {
    await gw?.shutdown();
    await dev?.close();
    await cloud?.close();
  });

  /** The loose policy is active once a PII request is allowed to the cloud in explain. */
  async function looseLive(): Promise<boolean> {
    const r = await fetch(`${gw.baseURL}/route/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x@example.org' }] }),
    });
    const j = (await r.json()) as { candidates?: Array<{ upstream: string }> };
    return j.candidates?.[0]?.upstream === 'cloud';
  }

  it('audit: no PII in the cloud under the strict policy (exit 0); the one leak under the loose policy is found (exit 1)', async () => {
    const clean = await cli(['audit', '--class', 'pii', '--zone', 'cloud', '--records', strictRecords]);
    expect(clean.err).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.out).toMatch(/with the class: 3, violations: 0/);
    const leaky = await cli(['audit', '--class', 'pii', '--zone', 'cloud', '--records', allRecords, '--format', 'json']);
    expect(leaky.code).toBe(1);
    const result = JSON.parse(leaky.out) as { violations: Array<{ id: string; reached: Array<{ upstream: string; zone: string }> }> };
    expect(result.violations.map((v) => v.id)).toEqual([leakedId]);
    expect(result.violations[0]!.reached).toEqual([{ upstream: 'cloud', zone: 'cloud' }]);
    // Without --zone: against each record's own limits. The leak was allowed by the loose policy, so none.
    expect((await cli(['audit', '--class', 'pii', '--records', allRecords])).code).toBe(0);
    // A file whose records all fall before --since checked nothing: a usage error (exit 2), never a passing gate.
    const old = join(mkdtempSync(join(tmpdir(), 'sy-old-records-')), 'old.jsonl');
    const aged = readFileSync(strictRecords, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.stringify({ ...(JSON.parse(l) as object), time: Date.parse('2020-01-01') }));
    writeFileSync(old, aged.join('\n') + '\n');
    const stale = await cli(['audit', '--class', 'pii', '--zone', 'cloud', '--records', old, '--since', '1d']);
    expect(stale.code).toBe(2);
    expect(stale.err).toMatch(/none of the \d+ record\(s\) in .*old\.jsonl fall within --since 1d/);
  }, 60_000);

  it('replay: the live policy reproduces every decision; the loose one reports each PII request reaching a new zone', async () => {
    const same = await cli(['policies', 'replay', '--records', strictRecords, '--policy', strictFile, '--config', configFile, '--format', 'json']);
    expect(same.err).toBe('');
    expect(same.code).toBe(0);
    const s = JSON.parse(same.out) as { replayed: number; unchanged: number; changed: number; new_zones: unknown[] };
    expect(s.replayed).toBeGreaterThanOrEqual(7);
    expect(s.changed).toBe(0);
    expect(s.unchanged).toBe(s.replayed);
    expect(s.new_zones).toEqual([]);

    const loose = await cli(['policies', 'replay', '--records', strictRecords, '--policy', looseFile, '--config', configFile]);
    expect(loose.code).toBe(1);
    expect(loose.out).toMatch(/NEW ZONES: 3 request\(s\)/);
    expect(loose.out).toMatch(/\[pii\] -> cloud via cloud/);
    // The three PII requests move to the cloud; the plain request that fell back to the device keeps its recorded
    // outcome (its decision does not change).
    expect(loose.out, loose.out).toMatch(/cloud: 3 -> 6\n\s+dev: 4 -> 1/);
    expect(loose.out).toMatch(/unchanged 4 \(57\.1%\), changed 3/);
  }, 60_000);
});
