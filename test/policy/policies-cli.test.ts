/** `switchyard policies check|explain` as a user runs them, against the shipped example config. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', ...args], { env: { ...process.env, SWITCHYARD_CONFIG: '' } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
const EXAMPLE_CONFIG = 'policies/gateway.example.yaml';
const EXAMPLE_REQUEST = 'policies/request.example.json';
const examples = readdirSync('policies').filter((f) => f.endsWith('.yaml') && f !== 'gateway.example.yaml');

describe('policies CLI', () => {
  it('ships example policies', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples)(
    '%s passes check and explain against the example config',
    async (file) => {
      const ok = await cli(['policies', 'check', `policies/${file}`, '--config', EXAMPLE_CONFIG]);
      expect(ok.code, ok.err).toBe(0);
      expect(ok.out).toMatch(new RegExp(`policies/${file.replace('.', '\\.')}: OK \\(\\d+ rule`));
      const ex = await cli(['policies', 'explain', `policies/${file}`, EXAMPLE_REQUEST, '--config', EXAMPLE_CONFIG]);
      expect(ex.code, ex.err).toBe(0);
      const d = JSON.parse(ex.out) as { candidates: Array<{ upstream: string }> };
      expect(d.candidates.length).toBeGreaterThan(0);
    },
    60_000,
  );

  it('catches a misspelt upstream without --config, naming what is known', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(join(dir, 'typo.yaml'), 'version: 1\nrules:\n  - id: r\n    route: [opneai]\n');
    const r = await cli(['policies', 'check', join(dir, 'typo.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("unknown upstream 'opneai'");
    expect(r.err).toContain('checked against the embedded default config, whose upstreams are: edge');
  }, 60_000);

  it('reports a bad file with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nrules:\n  - id: x\n    route: nope\n');
    const bad = await cli(['policies', 'check', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad\.yaml:4: rules\[0\]\.route/);
  }, 60_000);

  it('names edge destinations as the gateway does: edge-0, edge-1 with several edge models', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(join(dir, 'gw.yaml'), 'edge:\n  models:\n    - { id: a, path: /nowhere/a }\n    - { id: b, path: /nowhere/b }\n');
    writeFileSync(join(dir, 'p.yaml'), 'version: 1\nrules:\n  - id: r\n    route: [edge-1, edge-0]\n');
    writeFileSync(join(dir, 'req.json'), JSON.stringify({ model: 'b', messages: [{ role: 'user', content: 'x' }] }));
    const r = await cli(['policies', 'explain', join(dir, 'p.yaml'), join(dir, 'req.json'), '--config', join(dir, 'gw.yaml')]);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { candidates: Array<{ upstream: string }> }).candidates.map((c) => c.upstream)).toEqual(['edge-1']);
  }, 60_000);

  it('explains a decision without calling any model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(
      join(dir, 'gw.yaml'),
      'upstreams:\n  - { id: edge, url: "http://127.0.0.1:9/v1", zone: edge, models: [m] }\n  - { id: azure-openai, url: "http://127.0.0.1:9/v1", models: [m] }\n  - { id: openai, url: "http://127.0.0.1:9/v1", models: [m] }\nedge: { enabled: false }\n',
    );
    writeFileSync(join(dir, 'req.json'), JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'my id is EMP-123456' }] }));
    const r = await cli(['policies', 'explain', 'policies/privacy-first.yaml', join(dir, 'req.json'), '--config', join(dir, 'gw.yaml')]);
    expect(r.code, r.err).toBe(0);
    const d = JSON.parse(r.out) as { edge_only: boolean; candidates: Array<{ upstream: string }>; trace: string[] };
    expect(d.edge_only).toBe(true);
    expect(d.candidates.map((c) => c.upstream)).toEqual(['edge']);
    expect(d.trace.join('\n')).toMatch(/detected: employee_id/);
  }, 60_000);
});
