/** Starts benchmark participants as separate processes and waits for them to be ready. */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/free-port.js';
import { waitUntil } from '../../test/helpers/wait.js';

import { stopper, type Proc } from '../../test/helpers/gateway-process.js';

export function startFakeUpstreamProcess(): Promise<Proc & { url: string }> {
  return spawnJsonUrl(['--import', 'tsx', 'bench/lib/fake-upstream-process.ts'], {});
}

/** A node process that prints `{"url": ...}` as its first stdout line; rejects if it exits before that. */
export function spawnJsonUrl(args: string[], env: Record<string, string>): Promise<Proc & { url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((res, rej) => {
    child.stdout!.once('data', (d: Buffer) => res({ child, url: (JSON.parse(d.toString()) as { url: string }).url, stop: stopper(child) }));
    child.once('exit', (c) => rej(new Error(`${args.join(' ')} exited ${c}`)));
  });
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

/** Event-loop gaps of a 1 ms timer inside a process started with bench/lib/loop-probe.ts, within [from, to] (epoch ms). */
export function loopGaps(file: string, from: number, to: number): { p50: number; p99: number; max: number; ticks: number } {
  const { at, gap } = JSON.parse(readFileSync(file, 'utf8')) as { at: number[]; gap: number[] };
  const xs = gap.filter((_, i) => at[i]! >= from && at[i]! <= to).sort((a, b) => a - b);
  const q = (p: number) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), max: xs[xs.length - 1] ?? NaN, ticks: xs.length };
}

/** Rebuilds dist/ when a gateway or edge source is newer than it, so benches measure the compiled code users run. */
export function ensureBuilt(): void {
  const stamp = (() => {
    try {
      return statSync('dist/BUILD').mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? statSync(join(dir, e.name)).mtimeMs : 0),
      0,
    );
  if (Math.max(newest('gateway'), newest('edge-runtime')) <= stamp) return;
  console.log('dist/ is older than the sources: npm run build');
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

/** `switchyard serve` as a user runs it. */
export function startGatewayProcess(configYaml: (port: number) => string, readyTimeoutMs?: number): Promise<Proc & { url: string }> {
  return startGatewayProcessWith(configYaml, [], {}, readyTimeoutMs);
}

/** `switchyard serve`, with extra node flags (e.g. `--import ./bench/lib/loop-probe.mjs`) and env. */
export async function startGatewayProcessWith(
  configYaml: (port: number) => string,
  nodeArgs: string[],
  env: Record<string, string>,
  readyTimeoutMs = 300_000,
): Promise<Proc & { url: string }> {
  const port = await freePort();
  const file = join(tmpdir(), `switchyard-bench-${process.pid}-${port}.yaml`);
  writeFileSync(file, configYaml(port));
  // bin/switchyard.mjs runs the compiled dist/ when it is fresh (as `npm start` does), tsx otherwise: the bench
  // measures what users run, without the TypeScript loader's threads and memory.
  const child = spawn(process.execPath, [...nodeArgs, 'bin/switchyard.mjs', 'serve', '--config', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, rej) => child.once('exit', (c) => rej(new Error(`switchyard serve exited ${c}`))));
  exited.catch(() => undefined);
  const stop = stopper(child);
  try {
    await Promise.race([
      waitUntil(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: readyTimeoutMs, intervalMs: 100 }),
      exited,
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, url, stop };
}
