/**
 * What a gateway adds on top of an instant upstream, side by side in one run (issue 17). Targets, all in their own
 * processes and all forwarding to the same loopback fake upstream:
 *   direct         the fake upstream itself;
 *   bare proxy     Hono on @hono/node-server + zod validation + undici forwarding, no features (bench/lib/bare-proxy.mjs);
 *   switchyard     a realistic policy: a virtual key, custom + built-in detectors, a few rules, records (jsonl) on,
 *                  the cache on but every request unique (cache miss);
 *   sy cache hit   the same config, one fixed request body (served from the cache);
 *   portkey        @portkey-ai/gateway 1.15.2 from bench/peers (skipped with a line if `npm run bench:peers` was not run).
 * Loads, interleaved (round 1: every target, round 2: every target, ...):
 *   c=1     a sequential client timing each request with hrtime (autocannon reports whole milliseconds);
 *   c=50    autocannon, non-stream, unique bodies;
 *   stream  50 clients, 64 SSE content chunks per response, every 5th response abandoned after its first bytes.
 * CPU = utime + stime of the target process (/proc/PID/stat) over each cell, per request; per chunk = (stream - JSON)
 * CPU per response / 64. Peak RSS = VmHWM of the target process at the end. Prints a table and writes
 * bench/results/gateway-overhead.json. It asserts nothing.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'undici';
import { cpuMicros, ensureBuilt, spawnJsonUrl, startFakeUpstreamProcess, startGatewayProcess } from './lib/processes.js';
import { printTable, writeResults, type Row } from './lib/report.js';
import { freePort } from '../test/helpers/free-port.js';
import { waitUntil } from '../test/helpers/wait.js';
import { stopper, type Proc } from '../test/helpers/gateway-process.js';
import { writeRealisticPolicy } from './lib/realistic-policy.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const C1_S = Number(process.env['BENCH_C1_S'] ?? 2);
const C50_S = Number(process.env['BENCH_C50_S'] ?? 4);
const STREAM_S = Number(process.env['BENCH_STREAM_S'] ?? 4);
// Warm-up per target before the measured rounds. V8 keeps optimising Switchyard's larger code for ~5 s of load
// (2.3 s of TurboFan time on background threads, ~80 µs per request if counted): a server's steady state is what the
// rows compare, so every target gets the same long warm-up.
const WARM_S = Number(process.env['BENCH_WARM_S'] ?? 6);
const CHUNKS = 64;
const STREAM_CLIENTS = 50;
const DISCONNECT_EVERY = 5;
const PORTKEY_START = resolve('bench/peers/node_modules/@portkey-ai/gateway/build/start-server.js');
const API_KEY = 'sk-bench-switchyard-0123456789abcdef';

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number | undefined;
  /** Same body every time (cache hit) instead of a unique one. */
  fixedBody?: boolean;
  proc: { child: ChildProcess; stop(): Promise<void> };
}

interface Acc {
  c1: number[];
  c1Cpu: number;
  c1N: number;
  rps: number[];
  p50: number[];
  p99: number[];
  jsonCpu: number;
  jsonN: number;
  errors: number;
  sRps: number[];
  sTtlb: number[];
  sCpu: number;
  sN: number;
  sAborted: number;
  sErrors: number;
}

// ~100-character user message: small request body, and a reply long enough for 64 SSE chunks.
const content = (id: string) => `measure the gateway overhead of one small chat completion request, id ${id}, for the side-by-side run`;
const bodyOf = (id: string, stream: boolean) =>
  JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: content(id) }], temperature: 0, stream });
let seq = 0;
const uniqueId = () => `${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const median = (xs: number[]) => pct(xs, 50);

function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

async function startPortkey(): Promise<(Proc & { url: string }) | undefined> {
  if (!existsSync(PORTKEY_START)) return undefined;
  const port = await freePort();
  const child = spawn(process.execPath, [PORTKEY_START, '--headless', `--port=${port}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url).catch(() => undefined)) !== undefined, { timeoutMs: 30_000, intervalMs: 100 });
  return { child, url, stop: stopper(child) };
}

function switchyardConfig(upstream: string, dir: string): (port: number) => string {
  const policy = writeRealisticPolicy(dir);
  const sha = createHash('sha256').update(API_KEY).digest('hex');
  return (port) =>
    [
      `server: { port: ${port} }`,
      'edge: { enabled: false }',
      'logging: { level: warn }',
      `keys: [{ id: bench, sha256: "${sha}", tenant: acme }]`,
      'upstreams:',
      `  - { id: instant, url: "${upstream}", models: [bench-model] }`,
      `  - { id: backup, url: "${upstream}", models: [bench-model, other-model] }`,
      `records: { sink: jsonl, dir: "${join(dir, 'records')}" }`,
      'cache: { backend: memory }',
      `policies: { file: "${policy}" }`,
      '',
    ].join('\n');
}

/** c=1: one keep-alive connection, requests one after another, each timed with hrtime (µs). */
async function sequential(t: Target, seconds: number): Promise<number[]> {
  const u = new URL(t.url);
  const client = new Client(u.origin, { pipelining: 1 });
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const body = bodyOf(t.fixedBody ? 'fixed' : uniqueId(), false);
      const t0 = process.hrtime.bigint();
      const r = await client.request({ path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body });
      await r.body.arrayBuffer();
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (r.statusCode !== 200) throw new Error(`${t.name}: status ${r.statusCode}`);
    }
  } finally {
    await client.close();
  }
  return lat;
}

async function c50(t: Target, seconds: number) {
  const r = await autocannon({
    url: t.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: bodyOf(t.fixedBody ? 'fixed' : '[<id>]', false),
    idReplacement: !t.fixedBody,
    connections: 50,
    duration: seconds,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, errors: r.errors + r.timeouts + r.non2xx };
}

/** 50 clients reading SSE; every DISCONNECT_EVERY-th response is dropped after its first bytes. */
async function streams(t: Target, seconds: number) {
  const u = new URL(t.url);
  const agent = new Agent({ keepAlive: true, maxSockets: STREAM_CLIENTS });
  const ttlb: number[] = [];
  let done = 0;
  let aborted = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = (abandon: boolean) =>
    new Promise<void>((res) => {
      const t0 = performance.now();
      const body = bodyOf(t.fixedBody ? 'fixed' : uniqueId(), true);
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...t.headers },
        },
        (resp) => {
          if (resp.statusCode !== 200) errors++;
          let sawData = false;
          resp.on('data', () => {
            if (abandon && !sawData) {
              sawData = true;
              aborted++;
              req.destroy();
              res();
            }
          });
          resp.on('end', () => {
            if (abandon && sawData) return;
            done++;
            ttlb.push(performance.now() - t0);
            res();
          });
          resp.on('error', () => res());
          resp.on('close', () => res());
        },
      );
      req.on('error', () => {
        if (!abandon) errors++;
        res();
      });
      req.end(body);
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: STREAM_CLIENTS }, async (_, c) => {
      for (let i = c; performance.now() < end; i++) await one(i % DISCONNECT_EVERY === 0);
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  agent.destroy();
  return { rps: done / wall, ttlb, done, aborted, errors };
}

async function main(): Promise<void> {
  ensureBuilt();
  process.env['FAKE_CHUNKS'] = String(CHUNKS);
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
  const fake = await startFakeUpstreamProcess();
  const bare = await spawnJsonUrl(['bench/lib/bare-proxy.mjs'], { UPSTREAM: fake.url });
  const cfg = switchyardConfig(fake.url, dir);
  const sy = await startGatewayProcess(cfg);
  const syHit = await startGatewayProcess(cfg);
  const portkey = await startPortkey();
  const auth = { authorization: `Bearer ${API_KEY}` };
  const targets: Target[] = [
    { name: 'direct', url: `${fake.url}/chat/completions`, headers: {}, pid: undefined, proc: fake },
    { name: 'bare proxy (Hono+zod+undici)', url: `${bare.url}/v1/chat/completions`, headers: {}, pid: bare.child.pid, proc: bare },
    { name: 'switchyard (policy, cache miss)', url: `${sy.url}/v1/chat/completions`, headers: auth, pid: sy.child.pid, proc: sy },
    { name: 'switchyard (cache hit)', url: `${syHit.url}/v1/chat/completions`, headers: auth, pid: syHit.child.pid, proc: syHit, fixedBody: true },
  ];
  if (portkey) {
    targets.push({
      name: 'portkey 1.15.2',
      url: `${portkey.url}/v1/chat/completions`,
      headers: { ...auth, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': fake.url },
      pid: portkey.child.pid,
      proc: portkey,
    });
  } else {
    console.log('portkey: skipped (bench/peers not installed; run `npm run bench:peers`)');
  }
  const acc = new Map<Target, Acc>(
    targets.map((t) => [
      t,
      {
        c1: [],
        c1Cpu: 0,
        c1N: 0,
        rps: [],
        p50: [],
        p99: [],
        jsonCpu: 0,
        jsonN: 0,
        errors: 0,
        sRps: [],
        sTtlb: [],
        sCpu: 0,
        sN: 0,
        sAborted: 0,
        sErrors: 0,
      },
    ]),
  );
  const cpu = (t: Target) => (t.pid === undefined ? NaN : cpuMicros(t.pid));

  // Warm-up: JIT, keep-alive pools; fills the cache-hit target's cache.
  for (const t of targets) {
    await sequential(t, 0.3);
    await c50(t, WARM_S / 2);
    await streams(t, WARM_S / 2);
  }
  const t0 = Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const a = acc.get(t)!;
      const c = cpu(t);
      const lat = await sequential(t, C1_S);
      a.c1Cpu += cpu(t) - c;
      a.c1N += lat.length;
      a.c1.push(...lat);
    }
    for (const t of targets) {
      const a = acc.get(t)!;
      const c = cpu(t);
      const r = await c50(t, C50_S);
      a.jsonCpu += cpu(t) - c;
      a.jsonN += r.total;
      a.rps.push(r.rps);
      a.p50.push(r.p50);
      a.p99.push(r.p99);
      a.errors += r.errors;
    }
    for (const t of targets) {
      const a = acc.get(t)!;
      const c = cpu(t);
      const r = await streams(t, STREAM_S);
      a.sCpu += cpu(t) - c;
      a.sN += r.done + r.aborted;
      a.sRps.push(r.rps);
      a.sTtlb.push(...r.ttlb);
      a.sAborted += r.aborted;
      a.sErrors += r.errors;
    }
    console.log(`round ${round}/${ROUNDS} done (${Math.round((Date.now() - t0) / 1000)} s)`);
  }

  const d = acc.get(targets[0]!)!;
  const directC1 = median(d.c1);
  const directTtlb = median(d.sTtlb);
  const rows: Row[] = [];
  const json: Record<string, unknown>[] = [];
  for (const t of targets) {
    const a = acc.get(t)!;
    const isDirect = t.pid === undefined;
    const jsonCpu = a.jsonCpu / Math.max(1, a.jsonN);
    const streamCpu = a.sCpu / Math.max(1, a.sN);
    const r = {
      target: t.name,
      'c=50 req/s': Math.round(median(a.rps)),
      'p50 ms': median(a.p50),
      'p99 ms': median(a.p99),
      'CPU µs/req': isDirect ? '—' : Math.round(jsonCpu),
      'c=1 p50 µs': Math.round(median(a.c1)),
      'c=1 p99 µs': Math.round(pct(a.c1, 99)),
      'added p50 µs': isDirect ? '—' : Math.round(median(a.c1) - directC1),
      'c=1 CPU µs/req': isDirect ? '—' : Math.round(a.c1Cpu / Math.max(1, a.c1N)),
      'stream/s': Math.round(median(a.sRps)),
      'TTLB p50 ms': +median(a.sTtlb).toFixed(1),
      'TTLB p99 ms': +pct(a.sTtlb, 99).toFixed(1),
      'added TTLB ms': isDirect ? '—' : +(median(a.sTtlb) - directTtlb).toFixed(1),
      'CPU µs/stream': isDirect ? '—' : Math.round(streamCpu),
      'CPU µs/chunk': isDirect ? '—' : +((streamCpu - jsonCpu) / CHUNKS).toFixed(1),
      'peak RSS MB': isDirect ? '—' : peakRssMb(t.pid),
      dropped: a.sAborted,
      errors: a.errors + a.sErrors,
      alive: t.proc.child.exitCode === null ? 'yes' : `exited ${t.proc.child.exitCode}`,
    };
    rows.push(r);
    json.push({ ...r, rounds: { rps: a.rps, p50: a.p50, p99: a.p99, streamRps: a.sRps } });
  }
  const bareRow = rows[1]!;
  const syRow = rows[2]!;
  const ratio = (x: unknown, y: unknown) => (typeof x === 'number' && typeof y === 'number' && y !== 0 ? +(x / y).toFixed(2) : NaN);
  const ratios: Row = {
    'switchyard / bare: CPU per request (JSON)': ratio(syRow['CPU µs/req'], bareRow['CPU µs/req']),
    'switchyard / bare: CPU per stream': ratio(syRow['CPU µs/stream'], bareRow['CPU µs/stream']),
    'switchyard / bare: req/s c=50': ratio(syRow['c=50 req/s'], bareRow['c=50 req/s']),
    'switchyard / bare: added p50 c=1': ratio(syRow['added p50 µs'], bareRow['added p50 µs']),
    'switchyard - bare: peak RSS MB':
      typeof syRow['peak RSS MB'] === 'number' ? (syRow['peak RSS MB'] as number) - (bareRow['peak RSS MB'] as number) : NaN,
  };
  if (rows[4]) ratios['switchyard / portkey: req/s c=50'] = ratio(syRow['c=50 req/s'], rows[4]['c=50 req/s']);
  const title =
    `Gateway overhead, ${ROUNDS} interleaved rounds (c=1 ${C1_S}s, c=50 JSON ${C50_S}s, stream ${STREAM_S}s per cell); ` +
    `instant loopback upstream, ${CHUNKS} SSE chunks, 1 in ${DISCONNECT_EVERY} streams dropped after its first bytes; ` +
    `load generator, upstream and targets share 2 cores`;
  printTable(title, rows);
  printTable(
    'Same-run ratios',
    Object.entries(ratios).map(([k, v]) => ({ ratio: k, value: v })),
  );
  writeResults('gateway-overhead', {
    config: {
      rounds: ROUNDS,
      c1Seconds: C1_S,
      c50Seconds: C50_S,
      streamSeconds: STREAM_S,
      chunks: CHUNKS,
      streamClients: STREAM_CLIENTS,
      disconnectEvery: DISCONNECT_EVERY,
    },
    portkey: portkey ? 'measured' : 'skipped: bench/peers not installed',
    rows: json,
    ratios,
  });
  for (const p of [portkey, syHit, sy, bare, fake]) await p?.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
