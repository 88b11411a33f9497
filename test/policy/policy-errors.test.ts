/**
 * Every policy rejection names file:line and the field — a bad detector regex and an unknown upstream included — from
 * the CLI, at startup, on hot reload and in GET /admin/policies.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../gateway/core/model-catalog.js';
import { compileText } from '../../gateway/policy/policy-router.js';
import { upstreamSchema } from '../../gateway/config/schema.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

const GOOD = ['version: 1', 'rules:', '  - id: all', '    route: [cloud]', ''].join('\n');
const BAD_REGEX = ['version: 1', 'detectors:', '  - name: ticket', '    pattern: "TICKET-(\\\\d{4}"', '    tag: internal', ''].join('\n');
const BAD_UPSTREAM = ['version: 1', 'rules:', '  - id: ok', '    route: [cloud]', '  - id: rule-bad-upstream', '    route: [cloud-c]', ''].join('\n');
const WANT_REGEX = /policy\.yaml:4: detectors\[0\]\.pattern: Invalid regular expression: \/TICKET-\(\\d\{4\}\/g?: Unterminated group/;
const WANT_UPSTREAM = /policy\.yaml:6: rules\[1\]\.route\[0\]: unknown upstream 'cloud-c'/;

const dir = mkdtempSync(join(tmpdir(), 'sy-policy-errors-'));
const file = join(dir, 'policy.yaml');

describe('compiling a policy', () => {
  const ups = [new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'cloud', url: 'http://127.0.0.1:9/v1', models: ['m'] }))];
  const catalog = new ModelCatalog(ups);
  afterAll(async () => Promise.all(ups.map((u) => u.close())));

  it('names file:line and field for a bad regex and an unknown upstream', async () => {
    await expect(compileText(BAD_REGEX, 'policy.yaml', catalog)).rejects.toThrow(WANT_REGEX);
    await expect(compileText(BAD_UPSTREAM, 'policy.yaml', catalog)).rejects.toThrow(WANT_UPSTREAM);
  });

  it('refuses a header name Headers would throw on (a 500 on every request otherwise), naming line and field', async () => {
    const badMatch = ['version: 1', 'rules:', '  - id: r', '    match: { headers: { "x team": a } }', '    route: [cloud]', ''].join('\n');
    await expect(compileText(badMatch, 'policy.yaml', catalog)).rejects.toThrow(
      /policy\.yaml:4: rules\[0\]\.match\.headers\.x team: not an HTTP header name/,
    );
    const badTaint = ['version: 1', 'taint:', '  header: "x session"', 'rules:', '  - id: r', '    route: [cloud]', ''].join('\n');
    await expect(compileText(badTaint, 'policy.yaml', catalog)).rejects.toThrow(/policy\.yaml:3: taint\.header: not an HTTP header name/);
  });

  it.each([
    [
      'a pool member',
      'rules:\n  - id: r\n    route:\n      - pool: [cloud, nope]\n',
      /:5: rules\[0\]\.route\[0\]\.pool\[1\]: unknown upstream 'nope'/,
    ],
    [
      'a split branch',
      'rules:\n  - id: r\n    split:\n      - { weight: 1, route: [nope] }\n',
      /:5: rules\[0\]\.split\[0\]\.route\[0\]: unknown upstream 'nope'/,
    ],
    [
      'an overflow target',
      'rules:\n  - id: r\n    route: [cloud]\n    overflow: { queue_wait_ms: 5, to: [nope] }\n',
      /:5: rules\[0\]\.overflow\.to\[0\]: unknown/,
    ],
    [
      'a downgrade target',
      'rules:\n  - id: r\n    route: [cloud]\n    cost: { max_request_usd: 1, downgrade_to: [nope] }\n',
      /:5: rules\[0\]\.cost\.downgrade_to\[0\]: unknown/,
    ],
    ['a tag allowlist', 'tags:\n  internal: { route: cloud, upstreams: [nope] }\n', /:3: tags\.internal\.upstreams\[0\]: unknown upstream 'nope'/],
    ['a budget downgrade', 'on_budget_exceeded: { action: downgrade, downgrade_to: [nope] }\n', /:2: on_budget_exceeded\.downgrade_to\[0\]: unknown/],
  ])('unknown upstream in %s', async (_where, body, want) => {
    await expect(compileText(`version: 1\n${body}`, 'p.yaml', catalog)).rejects.toThrow(want);
  });
});

describe('the policies CLI', () => {
  const run = promisify(execFile);
  const cli = (args: string[]) =>
    run(process.execPath, ['bin/switchyard.mjs', ...args]).then(
      (r) => ({ code: 0, err: r.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
    );

  it('reports a bad regex (no config needed) and an unknown upstream (with --config) with line and field', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sy-cli-errors-'));
    writeFileSync(join(d, 'policy.yaml'), BAD_REGEX);
    const r1 = await cli(['policies', 'check', join(d, 'policy.yaml')]);
    expect(r1.code).toBe(1);
    expect(r1.err).toMatch(WANT_REGEX);
    writeFileSync(join(d, 'policy.yaml'), BAD_UPSTREAM);
    writeFileSync(join(d, 'gw.yaml'), 'upstreams:\n  - { id: cloud, url: "http://127.0.0.1:9/v1", models: [m] }\n');
    const r2 = await cli(['policies', 'check', join(d, 'policy.yaml'), '--config', join(d, 'gw.yaml')]);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(WANT_UPSTREAM);
  }, 60_000);
});

describe('startup, hot reload and /admin/policies', () => {
  let cloud: FakeOpenAI;
  let gw: TestGateway;
  const raw = () => ({ policies: { file, poll_ms: 50 }, upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }] });
  beforeAll(async () => {
    cloud = await startFakeOpenAI();
  });
  afterAll(async () => {
    await gw?.shutdown();
    await cloud?.close();
  });

  it('refuses to start on a bad file, naming line and field', async () => {
    writeFileSync(file, BAD_UPSTREAM);
    await expect(startTestGateway(raw())).rejects.toThrow(WANT_UPSTREAM);
  });

  it('keeps the last good version on a bad edit and shows the rejection with line and field', async () => {
    writeFileSync(file, GOOD);
    gw = await startTestGateway(raw());
    const lastError = async () =>
      ((await (await fetch(`${gw.url}/admin/policies`)).json()) as { policy: { lastError: string | null } }).policy.lastError;
    expect(await lastError()).toBeNull();
    for (const [text, want] of [
      [BAD_REGEX, WANT_REGEX],
      [BAD_UPSTREAM, WANT_UPSTREAM],
    ] as const) {
      writeFileSync(file, text);
      let seen: string | null = null;
      await waitUntil(
        async () => {
          seen = await lastError();
          return seen !== null && want.test(seen);
        },
        { timeoutMs: 10_000, message: `lastError ${String(seen)}` },
      );
      const r = await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'still served' }] });
      expect(r.choices[0]!.message.content).toContain('still served');
    }
  }, 60_000);
});
