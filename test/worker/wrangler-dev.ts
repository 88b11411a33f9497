/**
 * Runs the Worker in workerd through `wrangler dev` on 127.0.0.1, offline: the real wrangler.toml, with vars from an env
 * file (they override `[vars]`), telemetry off, state and inspector on private paths/ports. Stopped by process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
  NO_UPDATE_NOTIFIER: '1',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  FORCE_COLOR: '0',
};

export interface WranglerDev {
  url: string;
  /** ms from spawning `wrangler dev` until the Worker answered its first request (config parsed, app built). */
  coldStartMs: number;
  /** Everything wrangler and the Worker printed so far (console.log lines of the Worker included). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * dotenv syntax: single quotes keep a one-line value literal; double quotes expand \n (multi-line YAML). wrangler runs
 * dotenv-expand over the file, so `$` is escaped: `${NAME}` must reach the gateway's own interpolation intact.
 */
function envLine(name: string, value: string): string {
  if (value.includes('\\')) throw new Error(`${name}: backslashes are not supported here`);
  const v = value.replace(/\$/g, '\\$');
  if (!v.includes('\n') && !v.includes("'")) return `${name}='${v}'`;
  if (v.includes('"')) throw new Error(`${name}: a multi-line var may not contain double quotes here`);
  return `${name}="${v.replace(/\n/g, '\\n')}"`;
}

export async function startWranglerDev(
  vars: Record<string, string>,
  opts: { readyTimeoutMs?: number; extraArgs?: string[] } = {},
): Promise<WranglerDev> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-worker-'));
  const envFile = join(dir, 'worker.env');
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => envLine(k, v))
      .join('\n') + '\n',
  );
  const port = await freePort();
  const inspectorPort = await freePort();
  const started = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--env-file',
      envFile,
      '--persist-to',
      join(dir, 'state'),
      '--show-interactive-dev-session=false',
      ...(opts.extraArgs ?? []),
    ],
    { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  void exit.then(() => (exited = true));

  const stop = async () => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killed = await Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
      if (!killed) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready:\n${out}`);
    }
    const answered = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (answered === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not ready within the deadline (last status ${answered}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, coldStartMs: Date.now() - started, output: () => out, stop };
}
