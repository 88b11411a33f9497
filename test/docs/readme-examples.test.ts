/**
 * Every shell command and YAML block in README.md and policies/README.md works as written: YAML blocks validate
 * against the config or policy schema; `node bin/switchyard.mjs ...` and `curl ...` lines run (in a scratch folder,
 * against a real gateway, with only the ports rewritten); npm lines name scripts that exist.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, parseYamlFile } from '../../gateway/config/load-config.js';
import { policySchema } from '../../gateway/policy/policy-schema.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { freePort } from '../helpers/free-port.js';
import { stopper } from '../helpers/gateway-process.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

const ROOT = resolve('.');
const DOCS = ['README.md', 'policies/README.md'];

interface Block {
  where: string;
  lang: string;
  text: string;
}

function blocksOf(file: string): Block[] {
  const text = readFileSync(file, 'utf8');
  const out: Block[] = [];
  for (const m of text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ where: `${file}:${line}`, lang: m[1]!, text: m[2]! });
  }
  return out;
}

/** Lines joined at trailing backslashes, comments and blank lines dropped. */
function commandsOf(b: Block): Array<{ where: string; cmd: string }> {
  const joined = b.text.replace(/\\\n\s*/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.replace(/(^|\s+)#\s.*$/, '').trim())
    .filter(Boolean)
    .map((cmd) => ({ where: b.where, cmd }));
}

const blocks = DOCS.flatMap(blocksOf);
const yamlBlocks = blocks.filter((b) => b.lang === 'yaml');
const commands = blocks.filter((b) => b.lang === 'bash').flatMap(commandsOf);
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

describe('YAML blocks in the docs', () => {
  it('finds the blocks', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(6);
    expect(commands.length).toBeGreaterThanOrEqual(15);
  });

  it.each(yamlBlocks.map((b) => [b.where, b] as const))('%s validates', (_where, b) => {
    if (/^version:\s*1\b/m.test(b.text)) {
      parseYamlFile(b.text, b.where, policySchema);
    } else {
      // Secrets in examples are ${VARS}: an unset one reads as a placeholder, as `policies check` treats them.
      parseConfig(b.text, b.where, {}, 'placeholder');
    }
  });
});

describe('npm commands in the docs', () => {
  it.each(commands.filter((c) => c.cmd.startsWith('npm ')).map((c) => [c.where, c.cmd] as const))('%s: %s names existing scripts', (_w, cmd) => {
    for (const part of cmd.split('&&').map((p) => p.trim())) {
      const m = /^npm (?:run (\S+)|(start|test)|ci)\b/.exec(part);
      expect(m, part).not.toBeNull();
      const script = m![1] ?? m![2];
      if (script) expect(pkg.scripts[script], `npm script ${script}`).toBeDefined();
    }
    // `npm ci` builds (prepare), and `npm start` serves the gateway on its embedded defaults.
    expect(pkg.scripts['prepare']).toBe('node scripts/build.mjs');
    expect(pkg.scripts['start']).toBe('node bin/switchyard.mjs serve');
  });
});

describe('switchyard and curl commands in the docs', () => {
  let fake: FakeOpenAI;
  let redis: TestRedis;
  let sandbox: string;
  let gatewayUrl: string;
  let stopGateway: () => Promise<void>;

  const rewrite = async (cmd: string) => {
    let out = cmd.replaceAll('http://127.0.0.1:8080', gatewayUrl).replaceAll('redis://127.0.0.1:6379', redis.url);
    const port = /--port (\d+)/.exec(out);
    if (port) out = out.replace(`--port ${port[1]}`, `--port ${await freePort()}`);
    return out;
  };
  const bash = (cmd: string) =>
    spawn('bash', ['-c', `exec ${cmd}`], { cwd: sandbox, env: { ...process.env, SWITCHYARD_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    redis = await startRedis();
    // A scratch folder that looks like the repository root to the commands (bin/, policies/), so files the
    // commands write (models/, records/, report.html) land there.
    sandbox = mkdtempSync(join(tmpdir(), 'sy-docs-'));
    for (const d of ['bin', 'policies']) symlinkSync(join(ROOT, d), join(sandbox, d));
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(sandbox, 'gateway.yaml'),
      `server: { port: ${port} }\nupstreams:\n  - { id: openai, url: "${fake.url}", models: [gpt-4o-mini] }\nprices: { models: { gpt-4o-mini: { input_per_m: 0.15, output_per_m: 0.6 } } }\n`,
    );
    const child = bash(`node bin/switchyard.mjs serve --config gateway.yaml --log-format json`);
    child.stderr!.resume();
    child.stdout!.resume();
    stopGateway = stopper(child);
    await waitUntil(async () => (await fetch(`${gatewayUrl}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
  }, 180_000);
  afterAll(async () => {
    await stopGateway?.();
    await redis?.stop();
    await fake?.close();
  });

  const runnable = commands.filter((c) => /^(node bin\/switchyard\.mjs|curl) /.test(c.cmd));

  it.each(runnable.map((c) => [c.where, c.cmd] as const))(
    '%s: %s',
    async (_where, original) => {
      const cmd = await rewrite(original);
      const child = bash(cmd);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      if (/ serve /.test(cmd)) {
        // A server: it must come up, answer, and stop cleanly on Ctrl-C.
        const port = /--port (\d+)/.exec(cmd)![1]!;
        const probe = cmd.includes('edge serve') ? '/health' : '/readyz';
        await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}${probe}`).catch(() => undefined))?.status === 200, {
          timeoutMs: 120_000,
          intervalMs: 100,
          message: err,
        });
        child.kill('SIGINT');
        expect(await exited, err).toBe(0);
        return;
      }
      const code = await exited;
      expect(code, `${cmd}\n${err}`).toBe(0);
      if (original.startsWith('curl')) {
        const body = JSON.parse(out) as { error?: unknown };
        expect(body.error, out).toBeUndefined();
      }
    },
    180_000,
  );
});
