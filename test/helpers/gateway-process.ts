/** Runs `switchyard serve` as its own process (as a user would), with a config written to a temp file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { waitUntil } from './wait.js';

export interface Proc {
  child: ChildProcess;
  stop(): Promise<void>;
}

export function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
}

/** Runs `switchyard serve` with the given config (YAML written to a temp file) and waits for /readyz. */
export async function startGatewayProcess(
  configYaml: (port: number) => string,
  readyTimeoutMs = 120_000,
): Promise<Proc & { url: string; output: string[] }> {
  const output: string[] = [];
  const port = await freePort();
  const file = join(tmpdir(), `switchyard-${process.pid}-${port}.yaml`);
  writeFileSync(file, configYaml(port));
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', 'serve', '--config', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: readyTimeoutMs, intervalMs: 100 });
  return { child, url, output, stop: stopper(child) };
}
