/**
 * Profiles `switchyard serve` (realistic policy, cache miss) under c=50 load: writes a .cpuprofile into
 * PROFILE_DIR and prints the top self-time functions. BENCH_STREAM=1 profiles streaming (64 chunks) instead.
 *   npx tsx bench/hot-path-profile.ts
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuMicros, ensureBuilt, spawnJsonUrl, startFakeUpstreamProcess, startGatewayProcessWith } from './lib/processes.js';
import type { Proc } from '../test/helpers/gateway-process.js';
import { writeRealisticPolicy } from './lib/realistic-policy.js';

const API_KEY = 'sk-bench-switchyard-0123456789abcdef';
const SECONDS = Number(process.env['BENCH_S'] ?? 8);
const STREAM = process.env['BENCH_STREAM'] === '1';
// PROFILE=0: no profiler, only CPU µs per request (for A/B runs).
const PROFILE = process.env['PROFILE'] !== '0';
const dir = mkdtempSync(join(tmpdir(), 'sy-prof-'));
const profDir = process.env['PROFILE_DIR'] ?? join(dir, 'prof');
// PROFILE_KIND=heap: a sampling heap profile (what allocates, for GC) instead of the CPU profile; saved, not analysed.
const HEAP = process.env['PROFILE_KIND'] === 'heap';
const FEATURES = process.env['BENCH_FEATURES'];
const PROFILE_FLAGS = [
  ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
  ...(!PROFILE ? [] : HEAP ? ['--heap-prof', `--heap-prof-dir=${profDir}`] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]),
];

// PROFILE_FILE=<.cpuprofile>: only analyse an existing profile.
const existing = process.env['PROFILE_FILE'];
if (!existing) await run();

async function run(): Promise<void> {
  ensureBuilt();
  const policy = writeRealisticPolicy(dir);
  const sha = createHash('sha256').update(API_KEY).digest('hex');
  process.env['FAKE_CHUNKS'] = '64';
  const up = await startFakeUpstreamProcess();
  // BENCH_TARGET=bare: the same load and profile on the bare proxy, to diff against.
  const sy =
    process.env['BENCH_TARGET'] === 'bare'
      ? await startBare(up.url)
      : await startGatewayProcessWith(
          (port) =>
            [
              `server: { port: ${port} }`,
              'edge: { enabled: false }',
              'logging: { level: warn }',
              'upstreams:',
              `  - { id: instant, url: "${up.url}", models: [bench-model] }`,
              `  - { id: backup, url: "${up.url}", models: [bench-model, other-model] }`,
              // BENCH_FEATURES=none: the gateway's skeleton (no key, records, cache or policy) against the bare proxy;
              // BENCH_FEATURES=policy: the skeleton plus the realistic policy only.
              ...(FEATURES === 'none' || FEATURES === 'policy'
                ? ['records: { sink: none }', 'cache: { backend: off }', ...(FEATURES === 'policy' ? [`policies: { file: "${policy}" }`] : [])]
                : [
                    `keys: [{ id: bench, sha256: "${sha}", tenant: acme }]`,
                    `records: { sink: jsonl, dir: "${join(dir, 'records')}" }`,
                    `cache: { backend: ${process.env['BENCH_CACHE'] ?? 'memory'} }`,
                    `policies: { file: "${policy}" }`,
                  ]),
              '',
            ].join('\n'),
          PROFILE_FLAGS,
          {},
        );
  const content = `measure the gateway overhead of one small chat completion request, id [<id>], for the side-by-side run`;
  const opts = {
    url: `${sy.url}/v1/chat/completions`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content }], temperature: 0, stream: STREAM }),
    idReplacement: true,
    connections: 50,
    duration: SECONDS,
  };
  const rssIdle = memMb(sy.child.pid!, 'VmRSS');
  // Warm-up: V8 optimises the gateway's code for ~5 s of load (on background threads, counted in the CPU figure).
  await autocannon({ ...opts, duration: Number(process.env['BENCH_WARM_S'] ?? 6) });
  const cpu0 = cpuMicros(sy.child.pid!);
  const sys0 = sysMicros(sy.child.pid!);
  const threads0 = threadCpu(sy.child.pid!);
  const r = await autocannon(opts);
  const cpu = cpuMicros(sy.child.pid!) - cpu0;
  const sys = sysMicros(sy.child.pid!) - sys0;
  console.log(
    `req/s ${r.requests.average} non2xx ${r.non2xx} errors ${r.errors} cpu_us_per_req ${(cpu / r.requests.total).toFixed(1)} (kernel ${(sys / r.requests.total).toFixed(1)})`,
  );
  // Which threads the CPU went to: the main thread, V8's GC helpers, libuv's pool (file writes), others.
  const perThread = [...threadCpu(sy.child.pid!)].map(([name, us]) => `${name} ${((us - (threads0.get(name) ?? 0)) / r.requests.total).toFixed(1)}`);
  console.log(`cpu_us_per_req by thread: ${perThread.join(', ')}`);
  console.log(`RSS MB: idle ${rssIdle}, after load ${memMb(sy.child.pid!, 'VmRSS')}, peak ${memMb(sy.child.pid!, 'VmHWM')}`);
  if (process.env['BENCH_TARGET'] !== 'bare') {
    // Where the memory is: V8 heap spaces and external memory, from the gateway's own /metrics.
    const text = await (await fetch(`${sy.url}/metrics`)).text();
    const pick = (re: RegExp) => [...text.matchAll(re)].map((m) => `${m[1]} ${Math.round(Number(m[2]) / 1048576)}`).join(', ');
    console.log(`heap MB (used): ${pick(/^switchyard_nodejs_heap_space_size_used_bytes\{space="(\w+)"\} (\S+)/gm)}`);
    console.log(`heap MB (total): ${pick(/^switchyard_nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)/gm)}`);
    console.log(`external MB: ${pick(/^switchyard_nodejs_(external_memory)_bytes (\S+)/gm)}`);
  }
  await sy.stop();
  await up.stop();
  if (!PROFILE) process.exit(0);
  if (HEAP) {
    console.log(`heap profile in ${profDir}`);
    process.exit(0);
  }
}

/** The bare proxy (profiled too when PROFILE is on). */
function startBare(upstream: string): Promise<Proc & { url: string }> {
  return spawnJsonUrl([...PROFILE_FLAGS, 'bench/lib/bare-proxy.mjs'], { UPSTREAM: upstream });
}

/** Kernel-side CPU time of a process (stime), µs: socket writes on loopback also run the receiver's TCP path. */
function sysMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 10_000;
}

/** CPU µs per thread name (threads of one name summed), from /proc/<pid>/task. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // Node 20 leaves V8's worker threads (concurrent GC, compiler) named "node" like the main thread.
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const name = tid === String(pid) ? 'main' : comm;
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10_000);
    } catch {
      // the thread ended
    }
  }
  return out;
}

function memMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = existing ?? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile in ${profDir}`);
const prof = JSON.parse(readFileSync(existing ?? join(profDir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const byFn = new Map<string, number>();
let total = 0;
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  total += t;
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules|gateway)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
}
console.log(`profile ${join(profDir, file)}; total ${(total / 1000).toFixed(0)} ms`);
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);

// Inclusive time per function (each sample counted once per distinct function on its stack), idle excluded: which
// gateway steps cost what, callees included.
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const keyOf = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules|gateway)\//, '$1/')}`;
const incl = new Map<string, number>();
let busy = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  if (byId.get(id)?.callFrame.functionName === '(idle)') return;
  busy += dt;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur)!);
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
});
console.log(`\ninclusive share of busy time (${(busy / 1000).toFixed(0)} ms), gateway/ and hono/undici entry points:`);
for (const [k, t] of [...incl]
  .filter(([k]) => /gateway\/|node-server|undici\/lib\/(api|dispatcher)|garbage|writev/.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(process.env['TOP'] ?? 60)))
  console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
