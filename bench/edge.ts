/**
 * Edge runtime vs transformers.js and llama.cpp on the same ~56M-parameter built model folder, in one run:
 *  A. batch-1 prefill and decode tokens/s for fp32, int8 and 4-bit (llama.cpp: F32, Q8_0, Q4_0 GGUF of the same weights);
 *  B. 1/4/16/32 concurrent streams (seeded workload: prompts 32-256 tokens, outputs 64-128), output tokens/s,
 *     TTFT and time per output token p50/p95; llama.cpp at 1 and 2 threads, the best stated;
 *  C. KV waste over the 16-stream run and the memory a contiguous max-length reservation would need;
 *  D. TTFT of a request sharing a 512-token prefix, with and without prefix caching;
 *  E. greedy agreement with the float64 reference (LlamaReference) on a few prompts: llama.cpp F32 and Q4_0, Switchyard;
 *  G. chunked prefill: running streams' TPOT p95 at 16 streams with and without a 2,040-token prompt arriving mid-run
 *     (the model's context is 2,048), prefill pacing on and off (scheduler/prefill-pacer.ts);
 *  F. the 16-stream workload served through HTTP: `switchyard serve` (edge destination, streaming /v1/completions with
 *     token-id prompts, the official `openai` SDK as client) with the gateway's event-loop gaps (1 ms timer, loop-probe.mjs);
 *  H. (only when named in BENCH_SECTIONS) an engine option A/B: BENCH_AB_OPTION over BENCH_AB_VALUES, interleaved rounds.
 * Switchyard's engine runs its step loop in this process (the gateway runs the same loop in a worker thread).
 * llama.cpp comes from bench/peers (node-llama-cpp 3.21.1, prebuilt CPU binary) and runs in a child process
 * (bench/lib/llama-cpp-child.ts) so its threads never share a process with ORT; without `npm run bench:peers` its
 * rows are skipped with a line saying so. The GGUF files are written by bench/lib/llama-gguf.ts from model.onnx.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import OpenAI from 'openai';
import { buildModelFolder } from '../edge-runtime/model/build-model.js';
import { createEngine, bytesPerBlock, type CreatedEngine } from '../edge-runtime/worker/create-engine.js';
import { engineOptionsSchema } from '../edge-runtime/engine/engine-options.js';
import { loadModelFolder } from '../edge-runtime/model/model-folder.js';
import { seededRandom } from '../edge-runtime/graph/llama-weights.js';
import type { WeightFormat } from '../edge-runtime/graph/linear.js';
import { LlamaReference } from '../edge-runtime/reference/llama-reference.js';
import { PRESETS } from '../edge-runtime/model/presets.js';
import { printTable, writeResults, type Row } from './lib/report.js';
import { writeLlamaGguf, type GgufVariant } from './lib/llama-gguf.js';
import { loopGaps, startGatewayProcessWith } from './lib/processes.js';

const PRESET = (process.env['BENCH_PRESET'] ?? 'bench-50m') as 'bench-50m' | 'small-llama' | 'tiny-llama';
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,4,16,32').split(',').map(Number);
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'fp32,int8,q4').split(',') as WeightFormat[];
/** Sections to run (A-G); all by default. BENCH_SECTIONS=B,G,F keeps a run short on a busy machine. */
const SECTIONS = new Set((process.env['BENCH_SECTIONS'] ?? 'A,B,C,D,E,F,G').split(','));
const greedy = { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };
const TJS_DTYPE: Record<WeightFormat, 'fp32' | 'q8' | 'q4'> = { fp32: 'fp32', int8: 'q8', q4: 'q4' };
const GGUF: Record<WeightFormat, GgufVariant> = { fp32: 'f32', int8: 'q8_0', q4: 'q4_0' };
const LLAMA_THREADS = (process.env['BENCH_LLAMA_THREADS'] ?? '1,2').split(',').map(Number);
/** Switchyard's ORT intra-op threads (2 = both cores; 1 measured better when the machine is oversubscribed). */
const OUR_THREADS = Number(process.env['BENCH_THREADS'] ?? 2);
const NODE_LLAMA_CPP = resolve('bench/peers/node_modules/node-llama-cpp/dist/index.js');
const HTTP_STREAMS = Number(process.env['BENCH_HTTP_STREAMS'] ?? 16);
/** llama.cpp with more threads than free cores can crawl (spinning thread barriers): a run stops after this. */
const LLAMA_CAP_S = Number(process.env['BENCH_LLAMA_CAP_S'] ?? 60);
/** Rounds of the section-B prefill A/B (batched + shared vs one pass per chunk, pacer only); 0 skips it. */
const PREFILL_AB = Number(process.env['BENCH_PREFILL_AB'] ?? 0);
/** Engine options for every Switchyard engine of the run, e.g. BENCH_ENGINE='{"threadSpinning":"within-run"}'. */
const ENGINE_EXTRA = JSON.parse(process.env['BENCH_ENGINE'] ?? '{}') as Record<string, unknown>;
/**
 * Section H: an engine option A/B, e.g. BENCH_AB_OPTION=threadSpinning BENCH_AB_VALUES='["off","on"]' BENCH_AB_ROUNDS=3;
 * `core.<property>` (e.g. core.groupDecodes) sets an EngineCore property instead.
 */
const AB_OPTION = process.env['BENCH_AB_OPTION'] ?? 'threadSpinning';
const AB_VALUES = JSON.parse(process.env['BENCH_AB_VALUES'] ?? '["off","within-run","on"]') as unknown[];
const AB_ROUNDS = Number(process.env['BENCH_AB_ROUNDS'] ?? 3);

interface Req {
  prompt: number[];
  max: number;
}
interface Timing {
  start: number;
  tokens: number[];
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function workload(n: number, vocab: number, seed = 1): Req[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const len = 32 + Math.floor(r() * 225);
    return { prompt: Array.from({ length: len }, () => Math.floor(r() * (vocab - 3))), max: 64 + Math.floor(r() * 65) };
  });
}

function summarise(name: string, n: number, reqs: Req[], timings: Timing[], wallMs: number): Row {
  const ttft = timings.map((t) => t.tokens[0]! - t.start);
  const tpot = timings.flatMap((t) => t.tokens.slice(1).map((x, i) => x - t.tokens[i]!));
  const total = timings.reduce((a, t) => a + t.tokens.length, 0);
  void reqs;
  return {
    engine: name,
    streams: n,
    'out tok/s': Math.round((total / wallMs) * 1000),
    'TTFT p50 ms': Math.round(pct(ttft, 50)),
    'TTFT p95 ms': Math.round(pct(ttft, 95)),
    'TPOT p50 ms': +pct(tpot, 50).toFixed(1),
    'TPOT p95 ms': +pct(tpot, 95).toFixed(1),
    tokens: total,
  };
}

async function engineFor(dir: string, variant: WeightFormat, extra: Record<string, unknown> = {}, prefixCaching = true): Promise<CreatedEngine> {
  return createEngine({
    ...engineOptionsSchema.parse({
      modelDir: dir,
      modelId: 'bench',
      variant,
      kvBudgetBytes: 512 << 20,
      maxNumSeqs: 32,
      maxBatchedTokens: 512,
      threads: OUR_THREADS,
      ...ENGINE_EXTRA,
      ...extra,
    }),
    prefixCaching,
  });
}

/** Runs requests through our engine; returns per-request token times. `onStep` samples live stats. */
async function runOurs(e: CreatedEngine, reqs: Req[], onStep?: () => void): Promise<{ timings: Timing[]; wallMs: number }> {
  const timings: Timing[] = reqs.map(() => ({ start: 0, tokens: [] }));
  const origNewSink = e.tokenizer.newSink.bind(e.tokenizer);
  let k = 0;
  e.tokenizer.newSink = (stop) => {
    const t = timings[k++]!;
    const sink = origNewSink(stop);
    return { push: (tok) => (t.tokens.push(performance.now()), sink.push(tok)), flush: () => sink.flush() };
  };
  const t0 = performance.now();
  reqs.forEach((r, i) => {
    timings[i]!.start = performance.now();
    // Random-weight models hit EOS at random: -1 maxTokens semantics would differ from transformers.js, so ban EOS.
    const bias = Object.fromEntries(e.tokenizer.eosIds.map((id) => [String(id), -100]));
    e.core.submit(
      { id: `q${i}-${t0}`, input: { kind: 'tokens', ids: r.prompt }, sampling: { ...greedy, logitBias: bias }, maxTokens: r.max, stop: [], n: 1 },
      () => undefined,
    );
  });
  while (e.core.hasWork()) {
    await e.core.step();
    onStep?.();
  }
  e.tokenizer.newSink = origNewSink;
  return { timings, wallMs: performance.now() - t0 };
}

async function runTjs(
  model: Awaited<ReturnType<typeof AutoModelForCausalLM.from_pretrained>>,
  reqs: Req[],
): Promise<{ timings: Timing[]; wallMs: number }> {
  const timings: Timing[] = reqs.map(() => ({ start: 0, tokens: [] }));
  const t0 = performance.now();
  await Promise.all(
    reqs.map(async (r, i) => {
      const t = timings[i]!;
      t.start = performance.now();
      let first = true;
      const streamer = {
        put: (value: bigint[][]) => {
          // generate() first puts the prompt itself.
          if (first && value[0]!.length > 1) {
            first = false;
            return;
          }
          first = false;
          t.tokens.push(performance.now());
        },
        end: () => undefined,
      };
      const ids = new Tensor('int64', BigInt64Array.from(r.prompt.map(BigInt)), [1, r.prompt.length]);
      await model.generate({ input_ids: ids, max_new_tokens: r.max, min_new_tokens: r.max, do_sample: false, streamer: streamer as never });
    }),
  );
  return { timings, wallMs: performance.now() - t0 };
}

/** llama.cpp runs in its own process (bench/lib/llama-cpp-child.ts): its threads never share this process with ORT's. */
interface LlamaCpp {
  load(variant: WeightFormat): Promise<LlamaModelHandle>;
  call<T>(msg: Record<string, unknown>): Promise<T>;
  stop(): void;
}
interface LlamaModelHandle {
  variant: GgufVariant;
  dispose(): Promise<void>;
}

async function loadLlamaCpp(dir: string, eos: number[]): Promise<LlamaCpp | undefined> {
  if (!existsSync(NODE_LLAMA_CPP)) return undefined;
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ id: number; special: boolean }> };
  const specials = tok.added_tokens.filter((a) => a.special).map((a) => a.id);
  const child = fork('bench/lib/llama-cpp-child.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.rej(new Error(m.error));
    else p?.res(m.result);
  });
  child.once('exit', (c) => {
    for (const p of pending.values()) p.rej(new Error(`llama.cpp child exited ${c}`));
    pending.clear();
  });
  const call = <T>(msg: Record<string, unknown>) =>
    new Promise<T>((res, rej) => {
      const id = ++seq;
      pending.set(id, { res: res as (v: unknown) => void, rej });
      child.send({ id, nodeLlamaCpp: NODE_LLAMA_CPP, eos, specials, ...msg });
    });
  return {
    call,
    stop: () => void child.kill(),
    load: async (v) => {
      const path = writeLlamaGguf(dir, GGUF[v]);
      await call({ op: 'load', variant: GGUF[v], path });
      return { variant: GGUF[v], dispose: () => call({ op: 'dispose', variant: GGUF[v] }) };
    },
  };
}

/** The same requests through llama.cpp: one context, a sequence per request, batched by node-llama-cpp. */
function runLlamaCpp(
  lc: LlamaCpp,
  m: LlamaModelHandle,
  reqs: Req[],
  threads: number,
): Promise<{ timings: Timing[]; wallMs: number; capped: boolean }> {
  return lc.call({ op: 'run', variant: m.variant, reqs, threads, capS: LLAMA_CAP_S });
}

/** Greedy tokens of one prompt from llama.cpp (EOS banned, as everywhere in this bench). */
function greedyLlamaCpp(lc: LlamaCpp, m: LlamaModelHandle, prompt: number[], n: number): Promise<number[]> {
  return lc.call({ op: 'greedy', variant: m.variant, prompt, n });
}

async function greedyOurs(e: CreatedEngine, prompt: number[], n: number): Promise<number[]> {
  const out: number[] = [];
  const orig = e.tokenizer.newSink.bind(e.tokenizer);
  e.tokenizer.newSink = (stop) => {
    const sink = orig(stop);
    return { push: (tok) => (out.push(tok), sink.push(tok)), flush: () => sink.flush() };
  };
  const bias = Object.fromEntries(e.tokenizer.eosIds.map((id) => [String(id), -100]));
  e.core.submit(
    {
      id: `greedy-${performance.now()}`,
      input: { kind: 'tokens', ids: prompt },
      sampling: { ...greedy, logitBias: bias },
      maxTokens: n,
      stop: [],
      n: 1,
    },
    () => undefined,
  );
  while (e.core.hasWork()) await e.core.step();
  e.tokenizer.newSink = orig;
  return out;
}

function greedyReference(ref: LlamaReference, prompt: number[], n: number, eos: number[]): number[] {
  ref.reset();
  const logits = ref.forward(prompt);
  let last = logits[logits.length - 1]!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const id of eos) last[id] = -Infinity;
    let best = 0;
    for (let v = 1; v < last.length; v++) if (last[v]! > last[best]!) best = v;
    out.push(best);
    if (i + 1 < n) last = ref.forward([best])[0]!;
  }
  return out;
}

/**
 * G. 16 streams decoding; once each has LONG_AFTER tokens a long prompt arrives. Returns the running streams' TPOT
 * p95 (all their gaps over the run) and the long prompt's TTFT. `pace: false` disables prefill pacing (A/B).
 */
async function runMidPrompt(
  e: CreatedEngine,
  reqs: Req[],
  long: number[] | undefined,
  pace: boolean,
): Promise<{ tpotP95: number; tpotP50: number; longTtft: number; wallMs: number }> {
  const LONG_AFTER = 24;
  const paced = Object.getOwnPropertyDescriptor(e.core.scheduler, 'prefillCapWhileDecoding');
  if (!pace) Object.defineProperty(e.core.scheduler, 'prefillCapWhileDecoding', { get: () => undefined, set: () => undefined, configurable: true });
  const timings: Timing[] = [...reqs, { prompt: [], max: 0 }].map(() => ({ start: 0, tokens: [] }));
  const orig = e.tokenizer.newSink.bind(e.tokenizer);
  let k = 0;
  e.tokenizer.newSink = (stop) => {
    const t = timings[k++]!;
    const sink = orig(stop);
    return { push: (tok) => (t.tokens.push(performance.now()), sink.push(tok)), flush: () => sink.flush() };
  };
  const bias = Object.fromEntries(e.tokenizer.eosIds.map((id) => [String(id), -100]));
  const submit = (id: string, ids: number[], max: number, t: Timing) => {
    t.start = performance.now();
    e.core.submit({ id, input: { kind: 'tokens', ids }, sampling: { ...greedy, logitBias: bias }, maxTokens: max, stop: [], n: 1 }, () => undefined);
  };
  const t0 = performance.now();
  reqs.forEach((r, i) => submit(`m${i}-${t0}`, r.prompt, r.max, timings[i]!));
  let sent = long === undefined;
  while (e.core.hasWork()) {
    await e.core.step();
    if (!sent && timings.slice(0, reqs.length).every((t) => t.tokens.length >= LONG_AFTER)) {
      submit(`long-${t0}`, long!, 8, timings[reqs.length]!);
      sent = true;
    }
  }
  const wallMs = performance.now() - t0;
  e.tokenizer.newSink = orig;
  if (paced) Object.defineProperty(e.core.scheduler, 'prefillCapWhileDecoding', paced);
  else delete (e.core.scheduler as { prefillCapWhileDecoding?: number }).prefillCapWhileDecoding;
  const tpot = timings.slice(0, reqs.length).flatMap((t) => t.tokens.slice(1).map((x, i) => x - t.tokens[i]!));
  const lt = timings[reqs.length]!;
  return { tpotP95: pct(tpot, 95), tpotP50: pct(tpot, 50), longTtft: long ? lt.tokens[0]! - lt.start : NaN, wallMs };
}

/** CPU (user + system, ms) of a process's main thread from /proc (Linux; NaN elsewhere): clock ticks of 10 ms. */
function gatewayMainThreadCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** F. The same workload through `switchyard serve` with the official openai SDK as client. */
async function runHttp(dir: string, reqs: Req[], eos: number[]): Promise<{ row: Row; loop: Row }> {
  const tmp = mkdtempSync(join(tmpdir(), 'sy-edge-bench-'));
  const probe = join(tmp, 'loop.json');
  const gw = await startGatewayProcessWith(
    (port) =>
      [
        `server: { port: ${port} }`,
        'logging: { level: warn }',
        `edge: { enabled: true, models: [{ id: bench-edge, path: "${dir}", variant: q4 }], kv_budget_mb: 512, max_num_seqs: 32, max_batched_tokens: 512, cache_dir: "${join(tmp, 'cache')}" }`,
        `records: { sink: jsonl, dir: "${join(tmp, 'records')}" }`,
        '',
      ].join('\n'),
    // BENCH_GATEWAY_PROF=<dir>: a CPU profile of the gateway process (main thread) over the run.
    [
      '--import',
      './bench/lib/loop-probe.mjs',
      ...(process.env['BENCH_GATEWAY_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_GATEWAY_PROF']}`] : []),
    ],
    { LOOP_PROBE_FILE: probe },
  );
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const logitBias = Object.fromEntries(eos.map((id) => [String(id), -100]));
    const one = async (r: Req, t: Timing): Promise<number> => {
      t.start = performance.now();
      const stream = await client.completions.create({
        model: 'bench-edge',
        prompt: r.prompt,
        max_tokens: r.max,
        temperature: 0,
        logit_bias: logitBias,
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage = 0;
      for await (const chunk of stream) {
        if (chunk.choices.length > 0) t.tokens.push(performance.now());
        if (chunk.usage) usage = chunk.usage.completion_tokens;
      }
      return usage;
    };
    for (const r of workload(2, 1000, 77)) await one({ prompt: r.prompt.slice(0, 32), max: 8 }, { start: 0, tokens: [] }); // warm-up
    const mainCpu0 = gatewayMainThreadCpuMs(gw.child.pid);
    const from = Date.now();
    const timings: Timing[] = reqs.map(() => ({ start: 0, tokens: [] }));
    const t0 = performance.now();
    const usage = await Promise.all(reqs.map((r, i) => one(r, timings[i]!)));
    const wallMs = performance.now() - t0;
    const to = Date.now();
    const mainCpuMs = gatewayMainThreadCpuMs(gw.child.pid) - mainCpu0;
    const row = summarise('switchyard via HTTP (openai SDK)', reqs.length, reqs, timings, wallMs);
    const total = usage.reduce((a, b) => a + b, 0);
    row['out tok/s'] = Math.round((total / wallMs) * 1000);
    row['tokens'] = total;
    await gw.stop(); // the probe writes its gaps at exit
    let loop: Row;
    try {
      const g = loopGaps(probe, from, to);
      loop = {
        source: 'gateway main thread, gaps of a 1 ms timer (bench/lib/loop-probe.mjs) over the run',
        ticks: g.ticks,
        'p50 ms': +g.p50.toFixed(2),
        'p99 ms': +g.p99.toFixed(2),
        'max ms': +g.max.toFixed(1),
        // CPU the gateway's main thread spent per output token: steadier than the gaps on a shared machine.
        'main-thread CPU µs/token': Number.isFinite(mainCpuMs) ? Math.round((mainCpuMs / Math.max(1, total)) * 1000) : '—',
      };
    } catch (err) {
      loop = { source: `not reachable: the probe wrote nothing at the gateway's exit (${(err as Error).message})` };
    }
    return { row, loop };
  } finally {
    await gw.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = resolve(`.cache/bench-models/${PRESET}-seed1`);
  if (!existsSync(join(dir, 'config.json'))) {
    console.log(`building ${PRESET} (once; cached in ${dir}) ...`);
    await buildModelFolder({ preset: PRESET, seed: 1, outDir: dir, accuracyLevel: 4 });
  }
  const spec = loadModelFolder(dir);
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(dir)}/`;
  const results: Record<string, unknown> = { preset: PRESET };
  const eos = [...spec.eosIds];
  const lc = await loadLlamaCpp(dir, eos);
  if (!lc) console.log('llama.cpp: skipped (bench/peers not installed; run `npm run bench:peers`)');
  results['llamaCpp'] = lc ? 'node-llama-cpp 3.21.1, prebuilt CPU binary, GGUF written from model.onnx' : 'skipped: bench/peers not installed';

  // A. batch-1 prefill and decode.
  const single: Row[] = [];
  const prompt = workload(1, spec.vocab, 7)[0]!
    .prompt.concat(workload(1, spec.vocab, 8)[0]!.prompt)
    .slice(0, 256);
  for (const v of SECTIONS.has('A') ? VARIANTS : []) {
    const e = await engineFor(dir, v);
    await runOurs(e, [{ prompt: prompt.slice(0, 32), max: 8 }]); // warm-up
    const ours = await runOurs(e, [{ prompt, max: 64 }]);
    const t = ours.timings[0]!;
    const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: TJS_DTYPE[v] });
    await runTjs(model, [{ prompt: prompt.slice(0, 32), max: 8 }]);
    const theirs = (await runTjs(model, [{ prompt, max: 64 }])).timings[0]!;
    const runs: Array<[string, Timing]> = [
      ['switchyard', t],
      ['transformers.js', theirs],
    ];
    if (lc) {
      const lm = await lc.load(v);
      await runLlamaCpp(lc, lm, [{ prompt: prompt.slice(0, 32), max: 8 }], 2);
      for (const th of LLAMA_THREADS) {
        const r = await runLlamaCpp(lc, lm, [{ prompt, max: 64 }], th);
        runs.push([`llama.cpp ${GGUF[v]} t=${th}${r.capped ? ` (capped at ${LLAMA_CAP_S} s)` : ''}`, r.timings[0]!]);
      }
      await lm.dispose();
    }
    for (const [name, tm] of runs) {
      single.push({
        variant: v,
        engine: name,
        'prefill tok/s': Math.round(prompt.length / ((tm.tokens[0]! - tm.start) / 1000)),
        'decode tok/s': Math.round(((tm.tokens.length - 1) / (tm.tokens[tm.tokens.length - 1]! - tm.tokens[0]!)) * 1000),
      });
    }
    await e.runner.release();
    await model.dispose();
  }
  printTable(`A. Batch 1: prefill (256-token prompt) and decode (64 tokens), ${PRESET}`, single);
  results['single'] = single;

  // B + C. Concurrency on the 4-bit model.
  const conc: Row[] = [];
  const waste: Row[] = [];
  const e = await engineFor(dir, 'q4');
  const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: 'q4' });
  await runOurs(e, workload(4, spec.vocab, 99));
  const lq4 = lc ? await lc.load('q4') : undefined;
  if (lc && lq4) await runLlamaCpp(lc, lq4, workload(4, spec.vocab, 99), 2);
  const llamaRows = new Map<number, Row[]>();
  const prefillAb: Row[] = [];
  const ab = PREFILL_AB > 0 ? await engineFor(dir, 'q4', {}, false) : undefined;
  if (ab) await runOurs(ab, workload(4, spec.vocab, 99));
  for (const n of SECTIONS.has('B') ? CONCURRENCY : []) {
    const reqs = workload(n, spec.vocab, n);
    // Warm-up at this concurrency (another seed) for every engine: the first run at a new batch shape paid ORT's arena
    // growth (CPU ms per token 5.4-6.5 vs 3.3-4.3 warm), which a running server has long paid.
    const warm = workload(n, spec.vocab, 1000 + n);
    await runOurs(e, warm);
    if (ab) await runOurs(ab, warm);
    await runTjs(model, warm);
    if (lc && lq4) await runLlamaCpp(lc, lq4, warm, LLAMA_THREADS[0]!);
    let wasteSum = 0;
    let steps = 0;
    let peakUsed = 0;
    const cpu0 = process.cpuUsage();
    const ours = await runOurs(e, reqs, () => {
      const s = e.kv.stats();
      if (s.used > 0) {
        wasteSum += s.waste;
        steps++;
      }
      peakUsed = Math.max(peakUsed, s.used);
    });
    const cpu = process.cpuUsage(cpu0);
    const oursRow = summarise('switchyard', n, reqs, ours.timings, ours.wallMs);
    oursRow['CPU ms/out tok'] = +((cpu.user + cpu.system) / 1000 / Number(oursRow['tokens'])).toFixed(2);
    conc.push(oursRow);
    // Prefill A/B (BENCH_PREFILL_AB=N rounds): one pass per chunk and the pacer cap alone, interleaved with the default,
    // on an engine without prefix caching (the same prompts run every round; cache hits would skip their prefill).
    for (let round = 0; ab && round < PREFILL_AB; round++) {
      for (const batched of [false, true]) {
        ab.core.batchPrefill = batched;
        ab.core.scheduler.shareWithWaiting = batched;
        const cpu0 = process.cpuUsage();
        const r = await runOurs(ab, reqs);
        const cpu = process.cpuUsage(cpu0);
        const row = summarise(
          batched ? 'switchyard (prefill batched + shared)' : 'switchyard (prefill per chunk, pacer only)',
          n,
          reqs,
          r.timings,
          r.wallMs,
        );
        row['CPU ms/out tok'] = +((cpu.user + cpu.system) / 1000 / Number(row['tokens'])).toFixed(2);
        row['round'] = round + 1;
        prefillAb.push(row);
      }
    }
    const theirs = await runTjs(model, reqs);
    conc.push(summarise('transformers.js', n, reqs, theirs.timings, theirs.wallMs));
    if (lc && lq4) {
      for (const th of LLAMA_THREADS) {
        const r = await runLlamaCpp(lc, lq4, reqs, th);
        const row = summarise(`llama.cpp q4_0 t=${th}`, n, reqs, r.timings, r.wallMs);
        if (r.capped) row['engine'] = `llama.cpp q4_0 t=${th} (capped at ${LLAMA_CAP_S} s)`;
        conc.push(row);
        llamaRows.set(th, [...(llamaRows.get(th) ?? []), row]);
      }
    }
    const perBlock = bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, 16);
    const perToken = perBlock / 16;
    waste.push({
      streams: n,
      'KV waste % (mean over steps)': +((100 * wasteSum) / Math.max(1, steps)).toFixed(2),
      'paged peak MB': +((peakUsed * perBlock) / 2 ** 20).toFixed(1),
      'contiguous max-length MB': +((n * spec.maxContext * perToken) / 2 ** 20).toFixed(1),
      'contiguous per-request max MB': +((reqs.reduce((a, r) => a + r.prompt.length + r.max, 0) * perToken) / 2 ** 20).toFixed(1),
    });
  }
  // Best llama.cpp thread count: the one with the most output tok/s at 16 streams (or the largest run).
  const ref16 = CONCURRENCY.includes(16) ? CONCURRENCY.indexOf(16) : CONCURRENCY.length - 1;
  const bestThreads = [...llamaRows.entries()].sort(
    (a, b) => Number(b[1][ref16]?.['out tok/s'] ?? 0) - Number(a[1][ref16]?.['out tok/s'] ?? 0),
  )[0]?.[0];
  const ratios: Row[] = [];
  for (const n of CONCURRENCY) {
    const find = (name: string) => conc.find((r) => r['streams'] === n && String(r['engine']).startsWith(name));
    const ours = find('switchyard');
    const tjs = find('transformers.js');
    const lcpp = bestThreads !== undefined ? find(`llama.cpp q4_0 t=${bestThreads}`) : undefined;
    const q = (a: Row | undefined, b: Row | undefined, k: string) => (a && b ? +(Number(a[k]) / Number(b[k])).toFixed(2) : '—');
    ratios.push({
      streams: n,
      'tok/s vs transformers.js': q(ours, tjs, 'out tok/s'),
      'tok/s vs llama.cpp': q(ours, lcpp, 'out tok/s'),
      'TTFT p95 vs llama.cpp': q(ours, lcpp, 'TTFT p95 ms'),
    });
  }
  printTable('B. Concurrent streams, 4-bit, greedy (prompts 32-256, outputs 64-128 tokens)', conc);
  const threadsNote =
    `threads: switchyard ${OUR_THREADS} (ORT intra-op), transformers.js ORT default (all cores = 2), ` +
    (bestThreads !== undefined
      ? `llama.cpp best at ${bestThreads} (of ${LLAMA_THREADS.join(', ')}; batch 512, one context, a sequence per request)`
      : 'llama.cpp skipped');
  console.log(threadsNote);
  printTable(`Switchyard / peers, same run (llama.cpp at t=${bestThreads ?? '—'})`, ratios);
  results['threads'] = { switchyard: OUR_THREADS, transformersJs: 'ORT default', llamaCppBest: bestThreads ?? null, llamaCppTried: LLAMA_THREADS };
  results['ratios'] = ratios;
  if (prefillAb.length > 0) {
    printTable('B. Prefill A/B, same engine, interleaved (CPU = this process: engine + ORT threads)', prefillAb);
    results['prefillAb'] = prefillAb;
  }
  printTable('C. KV memory', waste);
  results['concurrency'] = conc;
  results['kv'] = waste;

  // H. One engine per value of an engine option (prefix caching off: the same prompts run every round), warmed at each
  // concurrency, then interleaved rounds; CPU ms per output token is this process (engine + onnxruntime threads).
  if (SECTIONS.has('H')) {
    const engines = [];
    // `core.<name>` sets a property of the engine core (e.g. core.groupDecodes) instead of an engine option.
    const coreProp = AB_OPTION.startsWith('core.') ? AB_OPTION.slice(5) : undefined;
    for (const value of AB_VALUES) {
      const e = await engineFor(dir, 'q4', coreProp ? {} : { [AB_OPTION]: value }, false);
      if (coreProp) Object.assign(e.core, { [coreProp]: value });
      engines.push({ value, e });
    }
    const abRows: Row[] = [];
    for (const n of CONCURRENCY) {
      const reqs = workload(n, spec.vocab, n);
      for (const { e } of engines) await runOurs(e, workload(n, spec.vocab, 1000 + n));
      for (let round = 0; round < AB_ROUNDS; round++) {
        for (const { value, e } of engines) {
          const cpu0 = process.cpuUsage();
          const r = await runOurs(e, reqs);
          const cpu = process.cpuUsage(cpu0);
          const row = summarise(`switchyard ${AB_OPTION}=${JSON.stringify(value)}`, n, reqs, r.timings, r.wallMs);
          row['CPU ms/out tok'] = +((cpu.user + cpu.system) / 1000 / Number(row['tokens'])).toFixed(2);
          row['round'] = round + 1;
          abRows.push(row);
        }
      }
    }
    for (const { e } of engines) await e.runner.release();
    printTable(`H. Engine option A/B: ${AB_OPTION} in ${JSON.stringify(AB_VALUES)}, interleaved rounds, q4`, abRows);
    results['optionAb'] = { option: AB_OPTION, rows: abRows };
  }

  // D. Shared 512-token prefix.
  const prefix = workload(1, spec.vocab, 512)[0]!
    .prompt.concat(...workload(3, spec.vocab, 513).map((r) => r.prompt))
    .slice(0, 512);
  const sharing: Row[] = [];
  for (const caching of SECTIONS.has('D') ? [false, true] : []) {
    const eng = await engineFor(dir, 'q4', {}, caching);
    await runOurs(eng, [{ prompt: [...prefix, 1, 2, 3, 4], max: 1 }]);
    const b = await runOurs(eng, [{ prompt: [...prefix, 9, 8, 7, 6, 5], max: 1 }]);
    sharing.push({
      'prefix caching': caching ? 'on' : 'off',
      'TTFT ms': Math.round(b.timings[0]!.tokens[0]! - b.timings[0]!.start),
      'hit rate': +eng.kv.stats().prefixHitRate.toFixed(2),
    });
    await eng.runner.release();
  }
  printTable('D. TTFT of a request sharing a 512-token prefix with an earlier one', sharing);
  results['prefix'] = sharing;
  await e.runner.release();
  await ab?.runner.release();
  await model.dispose();
  await lq4?.dispose();

  // G. A long prompt arriving mid-run, pacing on and off, each against a run without it (same engine, same workload).
  if (SECTIONS.has('G')) {
    const eng = await engineFor(dir, 'q4', {}, false);
    const reqs = workload(16, spec.vocab, 16).map((r) => ({ ...r, max: 160 }));
    const long = workload(12, spec.vocab, 2048)
      .flatMap((r) => r.prompt)
      .slice(0, 2040);
    await runMidPrompt(eng, workload(4, spec.vocab, 99), undefined, true); // warm-up (and the pacer's first measurements)
    const mid: Row[] = [];
    for (const pace of [false, true]) {
      const base = await runMidPrompt(eng, reqs, undefined, pace);
      const withLong = await runMidPrompt(eng, reqs, long, pace);
      mid.push({
        'prefill pacing': pace ? 'on' : 'off',
        'TPOT p50 ms (no long prompt)': +base.tpotP50.toFixed(1),
        'TPOT p95 ms (no long prompt)': +base.tpotP95.toFixed(1),
        'TPOT p95 ms (long prompt mid-run)': +withLong.tpotP95.toFixed(1),
        'p95 ratio': +(withLong.tpotP95 / base.tpotP95).toFixed(2),
        'long prompt TTFT ms': Math.round(withLong.longTtft),
      });
    }
    await eng.runner.release();
    printTable('G. 16 streams (160 tokens each), a 2,040-token prompt arriving once each has 24 tokens (q4, in-process)', mid);
    results['midRunPrompt'] = mid;
  }

  // E. Greedy agreement with the float64 reference (same weights, EOS banned).
  const shape = { ...PRESETS[PRESET].shape, vocab: spec.vocab } as ConstructorParameters<typeof LlamaReference>[0];
  const refModel = new LlamaReference(shape, readFileSync(join(dir, 'onnx', 'model.onnx')));
  const GEN = 24;
  const prompts = workload(3, spec.vocab, 4242).map((r, i) => r.prompt.slice(0, 16 + 8 * i));
  const want = SECTIONS.has('E') ? prompts.map((p) => greedyReference(refModel, p, GEN, eos)) : [];
  const agree: Row[] = [];
  const compare = (engine: string, got: number[][]) => {
    const prefix = got.map((g, i) => {
      let k = 0;
      while (k < GEN && g[k] === want[i]![k]) k++;
      return k;
    });
    agree.push({
      engine,
      'prompts identical': `${prefix.filter((k) => k === GEN).length}/${prompts.length}`,
      'matching tokens before first difference': prefix.join(' / '),
    });
  };
  if (lc && SECTIONS.has('E')) {
    for (const v of ['fp32', 'q4'] as WeightFormat[]) {
      const lm = await lc.load(v);
      const got: number[][] = [];
      for (const p of prompts) got.push(await greedyLlamaCpp(lc, lm, p, GEN));
      compare(`llama.cpp ${GGUF[v]} GGUF`, got);
      await lm.dispose();
    }
  }
  for (const v of SECTIONS.has('E') ? (['fp32', 'q4'] as WeightFormat[]) : []) {
    const eng = await engineFor(dir, v);
    const got: number[][] = [];
    for (const p of prompts) got.push(await greedyOurs(eng, p, GEN));
    compare(`switchyard ${v}`, got);
    await eng.runner.release();
  }
  printTable(
    `E. Greedy agreement with the float64 reference (prompts of ${prompts.map((p) => p.length).join('/')} tokens, ${GEN} new tokens each)`,
    agree,
  );
  results['agreement'] = agree;

  // F. Through HTTP.
  const httpReqs = workload(HTTP_STREAMS, spec.vocab, HTTP_STREAMS);
  if (SECTIONS.has('F'))
    try {
      const { row, loop } = await runHttp(dir, httpReqs, eos);
      const inProc = conc.find((r) => r['streams'] === HTTP_STREAMS && r['engine'] === 'switchyard');
      row['vs in-process'] = inProc ? +(Number(row['out tok/s']) / Number(inProc['out tok/s'])).toFixed(2) : '—';
      printTable(`F. ${HTTP_STREAMS} streams through \`switchyard serve\` (edge, q4, streaming /v1/completions, openai SDK)`, [row]);
      printTable('F. Gateway event-loop delay during that run', [loop]);
      results['http'] = { row, eventLoop: loop };
    } catch (err) {
      console.log(`F. through HTTP: failed (${(err as Error).message})`);
      results['http'] = { error: (err as Error).message };
    }
  lc?.stop();
  writeResults(process.env['BENCH_OUT'] ?? `edge-${PRESET}`, results);
}

await main();
