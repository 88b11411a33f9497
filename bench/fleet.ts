/**
 * Edge fleet routing: does sending a prompt where its prefix is cached pay? Three edge servers on loopback (one
 * intra-op thread each, each KV pool too small to hold every system prompt), a gateway in its own process, and a
 * multi-turn workload of 8 system prompts x many users. Three strategies in one run, each on freshly started servers
 * (cold caches, same workload, same order): round-robin, least-outstanding, prefix-affinity. Reported: prefix hit rate
 * (cached prompt tokens / prompt tokens, from each response's usage), TTFT p50/p95 (first content token, through the
 * gateway), throughput (requests and output tokens per second). Bounded: each phase stops issuing work after
 * BENCH_FLEET_PHASE_S seconds.
 *
 *   npm run bench:fleet      (BENCH_FLEET_PRESET, _USERS, _TURNS, _CONCURRENCY, _SYSTEM_CHARS, _KV_MB, _PHASE_S)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { buildModelFolder } from '../edge-runtime/model/build-model.js';
import { PRESETS, type PresetName } from '../edge-runtime/model/presets.js';
import { freePort } from '../test/helpers/free-port.js';
import { stopper } from '../test/helpers/gateway-process.js';
import { startGatewayProcess } from './lib/processes.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const env = (name: string, dflt: number) => Number(process.env[`BENCH_FLEET_${name}`] ?? dflt);
const PRESET = (process.env['BENCH_FLEET_PRESET'] ?? 'small-llama') as PresetName;
const SYSTEMS = 8;
const USERS = env('USERS', 6); // per system prompt
const TURNS = env('TURNS', 2);
const CONCURRENCY = env('CONCURRENCY', 6);
const SYSTEM_CHARS = env('SYSTEM_CHARS', 1300);
const MAX_TOKENS = env('MAX_TOKENS', 8);
const PHASE_S = env('PHASE_S', 75);
const STRATEGIES = ['round_robin', 'least_outstanding', 'prefix_affinity'] as const;
type Strategy = (typeof STRATEGIES)[number];

/** Deterministic text: a seeded word salad, so prompts are long, distinct, and the same in every phase. */
function words(seed: number, chars: number): string {
  const vocab =
    'the a system answer policy customer order refund invoice shipping account billing product support team rules always never please must should when if then because data privacy request summary detail item price tax region'.split(
      ' ',
    );
  let s = seed * 2654435761;
  let out = '';
  while (out.length < chars) {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    out += vocab[s % vocab.length] + (s % 11 === 0 ? '. ' : ' ');
  }
  return out.slice(0, chars);
}

interface Conversation {
  system: number;
  user: number;
}

function workload(): Conversation[] {
  const convs: Conversation[] = [];
  for (let u = 0; u < USERS; u++) for (let s = 0; s < SYSTEMS; s++) convs.push({ system: s, user: u });
  // A fixed shuffle: system prompts interleave, as independent users' traffic would.
  let x = 12345;
  for (let i = convs.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [convs[i], convs[j]] = [convs[j]!, convs[i]!];
  }
  return convs;
}

interface EdgeProc {
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startEdge(dir: string, port: number, kvMb: number): Promise<EdgeProc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/fleet-edge-server.ts', dir, String(port), String(kvMb)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`edge server on ${port} not ready in 180 s`)), 180_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('READY')) {
        clearTimeout(t);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`edge server on ${port} exited (${code})`)));
  });
  return { child, stop: stopper(child) };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

interface PhaseResult {
  strategy: Strategy;
  requests: number;
  errors: number;
  ttft: number[];
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
  wallS: number;
  perServer: number[];
}

async function runPhase(strategy: Strategy, client: OpenAI, ports: number[]): Promise<PhaseResult> {
  const convs = workload();
  const res: PhaseResult = {
    strategy,
    requests: 0,
    errors: 0,
    ttft: [],
    promptTokens: 0,
    cachedTokens: 0,
    outputTokens: 0,
    wallS: 0,
    perServer: [0, 0, 0],
  };
  let next = 0;
  let rr = 0;
  const t0 = performance.now();
  const stopAt = Date.now() + PHASE_S * 1000;
  const worker = async () => {
    while (next < convs.length && Date.now() < stopAt) {
      const c = convs[next++]!;
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: `Profile ${c.system}. ${words(c.system + 1, SYSTEM_CHARS)}` },
      ];
      for (let turn = 0; turn < TURNS && Date.now() < stopAt; turn++) {
        messages.push({ role: 'user', content: `User ${c.user} turn ${turn}: ${words(1000 + c.user * 31 + turn, 80)}` });
        const header = strategy === 'round_robin' ? `rr-${rr++ % ports.length}` : strategy;
        const start = performance.now();
        let first: number | undefined;
        let text = '';
        try {
          const stream = await client.chat.completions.create(
            { model: 'fleet-model', messages, max_tokens: MAX_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true } },
            { headers: { 'x-bench': header } },
          );
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta?.content;
            if (delta && first === undefined) first = performance.now() - start;
            if (delta) text += delta;
            if (chunk.usage) {
              res.promptTokens += chunk.usage.prompt_tokens;
              res.cachedTokens += chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
              res.outputTokens += chunk.usage.completion_tokens;
            }
          }
          res.ttft.push(first ?? performance.now() - start);
          res.requests++;
          messages.push({ role: 'assistant', content: text });
        } catch (err) {
          res.errors++;
          console.error(`[${strategy}] request failed: ${err instanceof Error ? err.message : String(err)}`);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  res.wallS = (performance.now() - t0) / 1000;
  // Which server did the work: each edge server's own count of generated tokens since its start.
  res.perServer = await Promise.all(
    ports.map(async (p) => {
      const h = (await (await fetch(`http://127.0.0.1:${p}/health`)).json()) as { stats: { totalGenerated: number } | null };
      return h.stats?.totalGenerated ?? 0;
    }),
  );
  return res;
}

async function main(): Promise<void> {
  const preset = PRESETS[PRESET];
  const dir = resolve(`.cache/bench-models/${PRESET}-seed1`);
  if (!existsSync(join(dir, 'config.json'))) {
    console.log(`building ${PRESET} (once; cached in ${dir}) ...`);
    await buildModelFolder({ preset: PRESET, seed: 1, outDir: dir, accuracyLevel: 4 });
  }
  // KV bytes per token (fp32 K and V per layer). These prompts are ~1.1 tokens per character with the bench models'
  // small BPE vocabularies (measured from usage, printed below). The pool holds ~4 of the 8 system prompts: too
  // small for every prefix, enough for the third of them one server gets under prefix affinity.
  const s = preset.shape as { layers: number; kvHeads?: number; heads: number; headDim?: number; hidden: number };
  const bytesPerToken = s.layers * 2 * (s.kvHeads ?? s.heads) * (s.headDim ?? s.hidden / s.heads) * 4;
  const kvMb = env('KV_MB', Math.max(1, Math.round((4 * SYSTEM_CHARS * 1.1 * bytesPerToken) / 2 ** 20)));
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const policy = join(mkdtempSync(join(tmpdir(), 'bench-fleet-')), 'policy.yaml');
  const pool = `[${ports.map((_, i) => `edge-${i}`).join(', ')}]`;
  writeFileSync(
    policy,
    [
      'version: 1',
      'rules:',
      `  - id: prefix\n    match: { headers: { x-bench: prefix_affinity } }\n    route: [{ pool: ${pool}, balance: prefix_affinity }]`,
      `  - id: least\n    match: { headers: { x-bench: least_outstanding } }\n    route: [{ pool: ${pool}, balance: least_outstanding }]`,
      ...ports.map((_, i) => `  - id: rr-${i}\n    match: { headers: { x-bench: rr-${i} } }\n    route: [edge-${i}]`),
      '',
    ].join('\n'),
  );
  const upstreams = ports
    .map(
      (p, i) =>
        `  - { id: edge-${i}, zone: edge, url: "http://127.0.0.1:${p}/v1", models: [fleet-model], metrics_url: "http://127.0.0.1:${p}/metrics", metrics_poll_ms: 250 }`,
    )
    .join('\n');
  const gw = await startGatewayProcess(
    (port) =>
      `server: { port: ${port} }\nlogging: { level: warn }\nrecords: { sink: none }\ncache: { backend: off }\nedge: { enabled: false }\nresilience: { retries: 0 }\nupstreams:\n${upstreams}\npolicies: { file: "${policy}" }\n`,
  );
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 300_000 });
  console.log(
    `fleet bench: ${PRESET}, 3 edge servers x 1 thread, KV ${kvMb} MB each, ${SYSTEMS} system prompts (${SYSTEM_CHARS} chars) x ${USERS} users x ${TURNS} turns, concurrency ${CONCURRENCY}, max_tokens ${MAX_TOKENS}, phase cap ${PHASE_S} s`,
  );
  const results: PhaseResult[] = [];
  let capacityTokens = 0;
  try {
    for (const strategy of STRATEGIES) {
      // Fresh servers for each strategy: every phase starts from cold caches.
      const edges = await Promise.all(ports.map((p) => startEdge(dir, p, kvMb)));
      try {
        const h = (await (await fetch(`http://127.0.0.1:${ports[0]}/health`)).json()) as { stats: { blocksFree: number; blocksUsed: number } | null };
        capacityTokens = ((h.stats?.blocksFree ?? 0) + (h.stats?.blocksUsed ?? 0)) * 16;
        // One short request per server so the first measured request does not pay ORT's first-run setup.
        for (const p of ports) {
          const direct = new OpenAI({ baseURL: `http://127.0.0.1:${p}/v1`, apiKey: 'unused', maxRetries: 0 });
          await direct.chat.completions.create({ model: 'fleet-model', messages: [{ role: 'user', content: 'warm up' }], max_tokens: 2 });
        }
        const r = await runPhase(strategy, client, ports);
        results.push(r);
        console.log(`[${strategy}] ${r.requests} requests in ${r.wallS.toFixed(1)} s, TTFT p50 ${pct(r.ttft, 50).toFixed(0)} ms`);
      } finally {
        await Promise.all(edges.map((e) => e.stop()));
      }
    }
  } finally {
    await gw.stop();
  }
  const rows: Row[] = results.map((r) => ({
    strategy: r.strategy,
    requests: r.requests,
    errors: r.errors,
    'prefix hit %': (100 * r.cachedTokens) / Math.max(1, r.promptTokens),
    'TTFT p50 ms': pct(r.ttft, 50),
    'TTFT p95 ms': pct(r.ttft, 95),
    'req/s': r.requests / r.wallS,
    'out tok/s': r.outputTokens / r.wallS,
    'tokens per server': r.perServer.join('/'),
  }));
  printTable('Edge fleet routing (same workload, fresh servers per strategy)', rows);
  const by = (s: Strategy) => results.find((r) => r.strategy === s)!;
  const pa = by('prefix_affinity');
  const lo = by('least_outstanding');
  const ttftRatio = pct(pa.ttft, 50) / pct(lo.ttft, 50);
  const throughputRatio = pa.requests / pa.wallS / (lo.requests / lo.wallS);
  const promptTokensAvg = pa.promptTokens / Math.max(1, pa.requests);
  console.log(
    `\nprefix-affinity vs least-outstanding: TTFT p50 ratio ${ttftRatio.toFixed(2)} (bar <= 0.5), throughput ratio ${throughputRatio.toFixed(2)} (bar >= 1.0): ${ttftRatio <= 0.5 && throughputRatio >= 1 ? 'MET' : 'NOT MET'}`,
  );
  console.log(`KV pool per server: ${capacityTokens} tokens; prompt tokens per request (mean): ${promptTokensAvg.toFixed(0)}`);
  writeResults('fleet', {
    config: {
      preset: PRESET,
      servers: 3,
      threadsPerServer: 1,
      kvMbPerServer: kvMb,
      kvCapacityTokens: capacityTokens,
      systems: SYSTEMS,
      systemChars: SYSTEM_CHARS,
      users: USERS,
      turns: TURNS,
      concurrency: CONCURRENCY,
      maxTokens: MAX_TOKENS,
      phaseCapS: PHASE_S,
    },
    rows,
    bar: { ttftP50Ratio: ttftRatio, throughputRatio, met: ttftRatio <= 0.5 && throughputRatio >= 1 },
  });
}

await main();
