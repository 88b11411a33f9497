/** Starts benchmark participants as separate processes and waits for them to be ready. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
export { startGatewayProcess } from '../../test/helpers/gateway-process.js';

import { stopper, type Proc } from '../../test/helpers/gateway-process.js';

export async function startFakeUpstreamProcess(): Promise<Proc & { url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/fake-upstream-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url));
    child.once('exit', (c) => reject(new Error(`fake upstream exited ${c}`)));
  });
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
