/** `switchyard` as a user runs it: help and version, flag validation, keys, busy ports, report errors, edge serve. */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../gateway/cli/commands.js';
import { keySchema } from '../../gateway/auth/auth-config.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { ENGINE_DEFAULTS, PRESET_NAMES } from '../../edge-runtime/index.js';
import { freePort } from '../helpers/free-port.js';
import { waitUntil } from '../helpers/wait.js';

const execFileP = promisify(execFile);
/** The CLI from its TypeScript sources (what this checkout says, whatever dist/ holds). */
const CLI = ['--import', 'tsx', 'gateway/cli/main.ts'];
const cli = (args: string[], env: Record<string, string> = {}) =>
  execFileP(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

const tmp = mkdtempSync(join(tmpdir(), 'sy-cli-'));
let blocker: Server;
let busyPort: number;
const modelDir = join(tmp, 'tiny');

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  busyPort = (blocker.address() as { port: number }).port;
  const built = await cli(['edge', 'build-model', '--preset', 'tiny-llama', '--seed', '1', '--out', modelDir, '--variants', 'q4']);
  expect(built.code, built.err).toBe(0);
  // Long work says what it is doing before it starts.
  expect(built.err).toMatch(/^building tiny-llama \(seed 1; q4\) into /);
}, 120_000);
afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

describe('help and version', () => {
  it('answers --help on every command with every flag, its default and examples', async () => {
    for (const spec of COMMANDS) {
      const r = await cli([...spec.path, '--help']);
      expect(r.code, `${spec.path.join(' ')} --help: ${r.err}`).toBe(0);
      expect(r.out).toContain(`usage: switchyard ${spec.path.join(' ')}`);
      for (const [name, flag] of Object.entries(spec.flags)) {
        expect(r.out).toContain(`--${name}`);
        if (flag.default !== undefined && flag.default !== false) expect(r.out).toContain(`(default: ${String(flag.default)})`);
      }
      expect(r.out).toMatch(/examples:\n {2}switchyard /);
    }
  }, 240_000);

  it('lists the commands at the top level and under a group, and prints the version', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const spec of COMMANDS) expect(top.out).toContain(spec.path.join(' '));
    const group = await cli(['edge', '--help']);
    expect(group.code).toBe(0);
    expect(group.out).toContain('switchyard edge serve');
    const version = await cli(['--version']);
    expect(version.out.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  }, 60_000);

  it('shows the engine defaults the engine really uses', () => {
    const serve = COMMANDS.find((c) => c.path.join(' ') === 'edge serve')!;
    expect(serve.flags['variant']!.default).toBe(ENGINE_DEFAULTS.variant);
    expect(serve.flags['kv-budget-mb']!.default).toBe(String(ENGINE_DEFAULTS.kvBudgetMb));
    expect(serve.flags['max-num-seqs']!.default).toBe(String(ENGINE_DEFAULTS.maxNumSeqs));
    expect(serve.flags['max-batched-tokens']!.default).toBe(String(ENGINE_DEFAULTS.maxBatchedTokens));
    const build = COMMANDS.find((c) => c.path.join(' ') === 'edge build-model')!;
    expect(build.flags['preset']!.description).toBe(PRESET_NAMES.join(' | '));
  });

  it('rejects an unknown flag in one line pointing at --help (exit 2)', async () => {
    const r = await cli(['report', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("switchyard report: Unknown option '--bogus'\nRun 'switchyard report --help' for usage.\n");
  }, 60_000);
});

describe('keys create', () => {
  it('prints a config entry with role, models and tags that the gateway accepts, for the printed key', async () => {
    const r = await cli([
      'keys',
      'create',
      '--id',
      'ops',
      '--tenant',
      'acme',
      '--role',
      'admin',
      '--models',
      'gpt-4o*,switchyard-tiny',
      '--tags',
      'internal',
      '--rpm',
      '60',
    ]);
    expect(r.code, r.err).toBe(0);
    const key = /\n {2}(sk-sy-\S+)\n/.exec(r.out)![1]!;
    const yaml = parseYaml(r.out.slice(r.out.indexOf('keys:'))) as { keys: unknown[] };
    const entry = keySchema.parse(yaml.keys[0]);
    expect(entry).toMatchObject({ id: 'ops', tenant: 'acme', role: 'admin', models: ['gpt-4o*', 'switchyard-tiny'], tags: ['internal'], rpm: 60 });
    expect(entry.sha256).toBe(await sha256Hex(key));
  }, 60_000);

  it('refuses a non-numeric limit instead of printing NaN', async () => {
    const r = await cli(['keys', 'create', '--rpm', 'abc']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--rpm: expected an integer >= 1, got 'abc'");
    expect(r.out).not.toContain('NaN');
  }, 60_000);
});

describe('busy port', () => {
  it('serve says in one line that the port is in use, without a stack trace', async () => {
    const r = await cli(['serve', '--port', String(busyPort)], { SWITCHYARD_CONFIG: '' });
    expect(r.code).toBe(1);
    expect(r.err).toBe(`switchyard: cannot listen on 127.0.0.1:${busyPort}: port ${busyPort} is already in use (choose another with --port)\n`);
  }, 120_000);

  it('edge serve too', async () => {
    const r = await cli(['edge', 'serve', '--model', modelDir, '--port', String(busyPort), '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`switchyard: cannot listen on 127.0.0.1:${busyPort}: port ${busyPort} is already in use (choose another with --port)\n`);
  }, 120_000);
});

describe('report', () => {
  it('says the records directory does not exist instead of printing 0 requests', async () => {
    const r = await cli(['report', '--dir', join(tmp, 'no-such-dir')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^switchyard: no records directory at .*no-such-dir \(from --dir\)/);
    expect(r.out).toBe('');
  }, 60_000);

  it('reads the records directory named by --config', async () => {
    const cfg = join(tmp, 'gw.yaml');
    writeFileSync(cfg, `records: { dir: ${join(tmp, 'recs-from-config')} }\n`);
    const r = await cli(['report', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`recs-from-config (from records.dir in ${cfg})`);
  }, 60_000);

  it('reports a Redis that is down in one line', async () => {
    const port = await freePort();
    const r = await cli(['report', '--redis', `redis://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`switchyard: cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  }, 60_000);
});

describe('config errors', () => {
  it('name the line of a missing environment variable', async () => {
    const cfg = join(tmp, 'env.yaml');
    writeFileSync(cfg, 'upstreams:\n  - id: x\n    url: https://example.com/v1\n    api_key: ${SY_TEST_UNSET_KEY}\n    models: [m]\n');
    const r = await cli(['serve', '--config', cfg], { SY_TEST_UNSET_KEY: '' });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${cfg}:4: environment variable SY_TEST_UNSET_KEY is not set`);
  }, 60_000);
});

describe('edge serve', () => {
  it('logs loading and requests, and drains a stream on SIGINT instead of cutting it', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [...CLI, 'edge', 'serve', '--model', modelDir, '--port', String(port), '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200, {
        timeoutMs: 90_000,
        intervalMs: 100,
      });
      const msgs = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(msgs()).toEqual(expect.arrayContaining(['loading edge model', 'edge model loaded', 'switchyard edge server listening']));
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'tiny',
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 400,
        temperature: 0,
        stream: true,
      });
      let chunks = 0;
      let finish: string | null | undefined;
      for await (const c of stream) {
        if (chunks++ === 0) child.kill('SIGINT'); // mid-stream
        finish = c.choices[0]?.finish_reason ?? finish;
      }
      expect(finish).toMatch(/^(length|stop)$/);
      expect(chunks).toBeGreaterThan(2);
      expect(await exited).toBe(0);
      expect(msgs()).toEqual(expect.arrayContaining(['request done', 'signal received: draining']));
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});
