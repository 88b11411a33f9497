/** `switchyard policies check|explain` as a user runs them. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/switchyard.mjs', ...args]).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

describe('policies CLI', () => {
  it('checks a good file and reports a bad one with its line', async () => {
    const ok = await cli(['policies', 'check', 'policies/privacy-first.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/privacy-first\.yaml: OK \(1 rule/);
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nrules:\n  - id: x\n    route: nope\n');
    const bad = await cli(['policies', 'check', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad\.yaml:4: rules\[0\]\.route/);
  }, 60_000);

  it('explains a decision without calling any model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(
      join(dir, 'gw.yaml'),
      'upstreams:\n  - { id: edge, url: "http://127.0.0.1:9/v1", zone: edge, models: [m] }\n  - { id: azure-openai, url: "http://127.0.0.1:9/v1", models: [m] }\n  - { id: openai, url: "http://127.0.0.1:9/v1", models: [m] }\n',
    );
    writeFileSync(join(dir, 'req.json'), JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'my id is EMP-123456' }] }));
    const r = await cli(['policies', 'explain', 'policies/privacy-first.yaml', join(dir, 'req.json'), '--config', join(dir, 'gw.yaml')]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out) as { edge_only: boolean; candidates: Array<{ upstream: string }>; trace: string[] };
    expect(d.edge_only).toBe(true);
    expect(d.candidates.map((c) => c.upstream)).toEqual(['edge']);
    expect(d.trace.join('\n')).toMatch(/detected: employee_id/);
  }, 60_000);
});
