/** Starts benchmark participants as separate processes and waits for them to be ready. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/free-port.js';
import { waitUntil } from '../../test/helpers/wait.js';

export interface Proc {
  child: ChildProcess;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
}

export async function startFakeUpstreamProcess(): Promise<Proc & { url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/fake-upstream-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url));
    child.once('exit', (c) => reject(new Error(`fake upstream exited ${c}`)));
  });
  return { child, url, stop: stopper(child) };
}

/** Runs `switchyard serve` with the given config (YAML written to a temp file) and waits for /readyz. */
export async function startGatewayProcess(configYaml: (port: number) => string, readyTimeoutMs = 120_000): Promise<Proc & { url: string }> {
  const port = await freePort();
  const file = join(tmpdir(), `switchyard-bench-${process.pid}-${port}.yaml`);
  writeFileSync(file, configYaml(port));
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: readyTimeoutMs, intervalMs: 100 });
  return { child, url, stop: stopper(child) };
}

/** CPU time (user + system) a process has used so far, in microseconds (from /proc; Linux clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}
