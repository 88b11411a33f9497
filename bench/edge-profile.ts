/**
 * Where a batched decode step spends its time, on the bench-50m q4 model (`npm run bench:edge-profile`):
 *  1. the runner alone, B rows at context T: the step split into JS input building, onnxruntime and K/V scatter, and
 *     onnxruntime's own per-operator profile (session option `enableProfiling`) grouped into paged-KV copies
 *     (Gather/Transpose/Reshape), attention, MatMulNBits of the layers, the LM head, and the rest;
 *  2. the whole engine (EngineCore.step: scheduling, sampling, detokenizing) at B streams in steady decode, with the JS
 *     thread's CPU profile (inspector Profiler, the same sampling profiler `--cpu-prof` uses) summarised by function.
 *  3. (PROFILE_PHASES=prefill) a prefill pass: CPU ms and onnxruntime's operators;
 *  4. (PROFILE_PHASES=ab) an interleaved A/B of one load choice, PROFILE_AB = spin | fuse | block<N> (MatMulNBits block
 *     size N against 32, with each one's logit error against fp32): CPU and wall ms of prefill and decode passes.
 * Bounded: PROFILE_STEPS decode steps per batch size (default 20). The engine runs on this thread here; in the gateway
 * the same loop runs in a worker thread, so this profile is that worker's.
 */
import { Session } from 'node:inspector/promises';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildModelFolder } from '../edge-runtime/model/build-model.js';
import { loadModelFolder } from '../edge-runtime/model/model-folder.js';
import { chooseVariant } from '../edge-runtime/model/variants.js';
import { loadOnnxFile } from '../edge-runtime/model/load-onnx.js';
import { PagedModelRunner, type RunnerOptions } from '../edge-runtime/engine/model-runner.js';
import { Sampler } from '../edge-runtime/sampling/sampler.js';
import { createEngine } from '../edge-runtime/worker/create-engine.js';
import { engineOptionsSchema } from '../edge-runtime/engine/engine-options.js';
import { seededRandom } from '../edge-runtime/graph/llama-weights.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const STREAMS = (process.env['PROFILE_STREAMS'] ?? '16,32').split(',').map(Number);
const CONTEXT = Number(process.env['PROFILE_CONTEXT'] ?? 192);
const STEPS = Number(process.env['PROFILE_STEPS'] ?? 20);
const THREADS = Number(process.env['PROFILE_THREADS'] ?? 2);
const VARIANT = process.env['PROFILE_VARIANT'] ?? 'q4';
const PHASES = (process.env['PROFILE_PHASES'] ?? 'runner,engine').split(',');
/** PROFILE_ORT=0: no onnxruntime profiling (its own overhead), for A/B timing of the runner split. */
const ORT_PROFILE = process.env['PROFILE_ORT'] !== '0';
const PREFILL_ROWS = Number(process.env['PROFILE_PREFILL_ROWS'] ?? 1);
const PREFILL_TOKENS = Number(process.env['PROFILE_PREFILL_TOKENS'] ?? 256);
/** Runner options under test (A/B of load-time rewrites). */
const RUNNER_EXTRAS: Partial<RunnerOptions> = {
  ...(process.env['PROFILE_FUSE'] ? { fuseProjections: process.env['PROFILE_FUSE'] !== '0' } : {}),
  ...(process.env['PROFILE_SPIN'] ? { threadSpinning: process.env['PROFILE_SPIN'] as 'off' | 'within-run' | 'on' } : {}),
};

interface OrtEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_type_shape?: Array<Record<string, number[]>> };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Which bucket an operator belongs to, by its node name (the paged rewrite names its nodes `paged/...`) and op. */
function bucket(e: OrtEvent, vocab: number): string {
  const op = e.args?.op_name ?? '?';
  const node = e.name.replace(/_kernel_time$/, '');
  if (node.startsWith('paged/') && /^paged\/\d+\//.test(node)) return `paged KV ${op}`;
  if (op === 'MatMulNBits') {
    const shape = Object.values(e.args?.output_type_shape?.[0] ?? {})[0] ?? [];
    return shape[shape.length - 1] === vocab ? 'LM head (MatMulNBits)' : 'layer MatMulNBits';
  }
  if (op === 'MatMul' || op === 'Softmax' || op === 'FusedMatMul') return `attention ${op}`;
  return op;
}

/** Kernel time per bucket inside each window of model runs (onnxruntime's trace), top 14 plus the kernels' share. */
function summariseOrtTrace(file: string, runWindows: Array<{ B: number; from: number; to: number }>, vocab: number): Row[] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as OrtEvent[];
  const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const ops: Row[] = [];
  for (const w of runWindows) {
    const windows = modelRuns.slice(w.from, w.to);
    const byBucket = new Map<string, number>();
    let total = 0;
    for (const k of kernels) {
      if (!windows.some((m) => k.ts >= m.ts && k.ts <= m.ts + m.dur)) continue;
      const b = bucket(k, vocab);
      byBucket.set(b, (byBucket.get(b) ?? 0) + k.dur);
      total += k.dur;
    }
    const runUs = windows.reduce((a, m) => a + m.dur, 0);
    const sorted = [...byBucket.entries()].sort((a, b) => b[1] - a[1]);
    for (const [name, us] of sorted.slice(0, 14)) {
      ops.push({
        streams: w.B,
        operator: name,
        'ms/step': +(us / windows.length / 1000).toFixed(3),
        '% of kernels': +((100 * us) / total).toFixed(1),
      });
    }
    ops.push({
      streams: w.B,
      operator: '(sum of kernels / model_run)',
      'ms/step': +(total / windows.length / 1000).toFixed(2),
      '% of kernels': +((100 * total) / runUs).toFixed(1),
    });
  }
  return ops;
}

/** The paged runner the phases profile (no load proof), ORT profiling into a temp folder when asked. */
async function profiledRunner(dir: string, blockSize: number, numBlocks: number) {
  const spec = loadModelFolder(dir);
  const file = await loadOnnxFile(chooseVariant(dir, VARIANT).path);
  const tmp = mkdtempSync(join(tmpdir(), 'sy-edge-prof-'));
  const runner = await PagedModelRunner.create(file.bytes, {
    layout: { layers: spec.layers, kvHeads: spec.kvHeads, headDim: spec.headDim, blockSize, numBlocks },
    vocabSize: spec.vocab,
    threads: THREADS,
    path: 'paged',
    prove: false,
    ...RUNNER_EXTRAS,
    ortOptions: ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: join(tmp, 'ort') } : {},
  });
  return { runner, tmp, spec };
}

async function runnerPhase(dir: string, vocab: number, out: Record<string, unknown>): Promise<void> {
  const blockSize = 16;
  const perSeq = Math.ceil((CONTEXT + STEPS + 4) / blockSize); // 3 warm-up steps + the last token
  const maxB = Math.max(...STREAMS);
  const { runner, tmp, spec } = await profiledRunner(dir, blockSize, perSeq * maxB + 1);
  // Past K/V values do not change the cost: fill the pool with small noise instead of prefilling.
  const r = seededRandom(3);
  for (const a of [...runner.poolK, ...runner.poolV]) for (let i = 0; i < a.length; i++) a[i] = (r() - 0.5) * 0.2;
  const sampler = new Sampler();
  const greedy = { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };
  const split: Row[] = [];
  const runWindows: Array<{ B: number; from: number; to: number }> = [];
  let runs = 0;
  for (const B of STREAMS) {
    const tables = Array.from({ length: B }, (_, b) => Array.from({ length: perSeq }, (_, k) => 1 + b * perSeq + k));
    const t: Record<'step' | 'build' | 'run' | 'scatter' | 'sample' | 'cpu', number[]> = {
      step: [],
      build: [],
      run: [],
      scatter: [],
      sample: [],
      cpu: [],
    };
    for (let s = 0; s < STEPS + 3; s++) {
      const entries = tables.map((bt, b) => ({ tokens: [(b * 7 + s) % vocab], startPos: CONTEXT + s, blockTable: bt }));
      const cpu0 = process.cpuUsage();
      const a = performance.now();
      const rows = await runner.forward(entries);
      const f = performance.now();
      for (const row of rows) sampler.sample(row, greedy, { promptTokens: [], outputCounts: new Map(), rng: () => 0, topLogprobs: undefined });
      const z = performance.now();
      const cpu = process.cpuUsage(cpu0);
      runs++;
      if (s < 3) continue; // warm-up
      t.step.push(z - a);
      t.build.push(runner.lastPass.buildMs);
      t.run.push(runner.lastPass.runMs);
      t.scatter.push(runner.lastPass.scatterMs);
      t.sample.push(z - f);
      t.cpu.push((cpu.user + cpu.system) / 1000);
    }
    runWindows.push({ B, from: runs - STEPS, to: runs });
    split.push({
      streams: B,
      context: CONTEXT,
      'step ms': +median(t.step).toFixed(2),
      'JS build ms': +median(t.build).toFixed(3),
      'ORT run ms': +median(t.run).toFixed(2),
      'scatter ms': +median(t.scatter).toFixed(3),
      'sample ms': +median(t.sample).toFixed(3),
      'CPU ms/step (all threads)': +median(t.cpu).toFixed(1),
      'tok/s (step only)': Math.round((B / median(t.step)) * 1000),
    });
  }
  if (ORT_PROFILE) runner.endProfiling();
  await runner.release();
  const trace = readdirSync(tmp).find((f) => f.startsWith('ort') && f.endsWith('.json'));
  printTable(`1. Runner decode step, ${VARIANT}, ${THREADS} threads, medians of ${STEPS} steps`, split);
  out['runnerSplit'] = split;
  if (!trace) {
    console.log('onnxruntime wrote no profile');
    return;
  }
  const ops = summariseOrtTrace(join(tmp, trace), runWindows, vocab);
  rmSync(tmp, { recursive: true, force: true });
  printTable('1b. onnxruntime operators per decode step (kernel time; threads run in parallel inside a kernel)', ops);
  out['ortOperators'] = ops;
}

/**
 * Prefill passes: PREFILL_ROWS sequences of PREFILL_TOKENS prompt tokens each from position 0 (one chunk per row),
 * CPU ms per pass and per prompt token, and the per-operator profile of those passes.
 */
async function prefillPhase(dir: string, vocab: number, out: Record<string, unknown>): Promise<void> {
  const blockSize = 16;
  const perSeq = Math.ceil(PREFILL_TOKENS / blockSize);
  const { runner, tmp, spec } = await profiledRunner(dir, blockSize, perSeq * PREFILL_ROWS + 1);
  const r = seededRandom(5);
  const tables = Array.from({ length: PREFILL_ROWS }, (_, b) => Array.from({ length: perSeq }, (_, k) => 1 + b * perSeq + k));
  const cpu: number[] = [];
  const wall: number[] = [];
  const passes = Math.max(3, Math.ceil(STEPS / 4));
  for (let s = 0; s < passes + 1; s++) {
    const entries = tables.map((bt) => ({
      tokens: Array.from({ length: PREFILL_TOKENS }, () => 3 + Math.floor(r() * (vocab - 3))),
      startPos: 0,
      blockTable: bt,
    }));
    const cpu0 = process.cpuUsage();
    const a = performance.now();
    await runner.forward(entries);
    const w = performance.now() - a;
    const c = process.cpuUsage(cpu0);
    if (s === 0) continue; // warm-up
    wall.push(w);
    cpu.push((c.user + c.system) / 1000);
  }
  if (ORT_PROFILE) runner.endProfiling();
  await runner.release();
  const tokens = PREFILL_ROWS * PREFILL_TOKENS;
  const rows: Row[] = [
    {
      rows: PREFILL_ROWS,
      'tokens/row': PREFILL_TOKENS,
      'pass ms': +median(wall).toFixed(1),
      'CPU ms/pass (all threads)': +median(cpu).toFixed(1),
      'CPU ms per 100 tokens': +((100 * median(cpu)) / tokens).toFixed(2),
      'prompt tok/s (wall)': Math.round((tokens / median(wall)) * 1000),
    },
  ];
  printTable(`3. Prefill pass, ${VARIANT}, ${THREADS} threads, medians of ${passes} passes`, rows);
  out['prefill'] = rows;
  const trace = readdirSync(tmp).find((f) => f.startsWith('ort') && f.endsWith('.json'));
  if (!trace) return;
  const ops = summariseOrtTrace(join(tmp, trace), [{ B: PREFILL_ROWS, from: 1, to: passes + 1 }], vocab);
  rmSync(tmp, { recursive: true, force: true });
  printTable('3b. onnxruntime operators per prefill pass', ops);
  out['prefillOperators'] = ops;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

async function enginePhase(dir: string, out: Record<string, unknown>): Promise<void> {
  const rows: Row[] = [];
  const fns: Row[] = [];
  for (const B of STREAMS) {
    const e = await createEngine({
      ...engineOptionsSchema.parse({
        modelDir: dir,
        modelId: 'prof',
        variant: VARIANT,
        kvBudgetBytes: 512 << 20,
        maxNumSeqs: 64,
        maxBatchedTokens: 8192,
        threads: THREADS,
      }),
      prefixCaching: false,
    });
    const r = seededRandom(B);
    for (let i = 0; i < B; i++) {
      const prompt = Array.from({ length: CONTEXT }, () => 3 + Math.floor(r() * (e.tokenizer.vocabSize - 3)));
      e.core.submit(
        {
          id: `p${i}`,
          input: { kind: 'tokens', ids: prompt },
          sampling: { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 },
          maxTokens: STEPS + 8,
          ignoreEos: true,
          stop: [],
          n: 1,
        },
        () => undefined,
      );
    }
    // Until every stream decodes (prefill done), then profile STEPS decode steps.
    while (e.core.stats().totalGenerated < B) await e.core.step();
    await e.core.step();
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const step: number[] = [];
    const run: number[] = [];
    const inForward: number[] = [];
    const cpuMs: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      const cpu0 = process.cpuUsage();
      const a = performance.now();
      await e.core.step();
      step.push(performance.now() - a);
      const cpu = process.cpuUsage(cpu0);
      cpuMs.push((cpu.user + cpu.system) / 1000);
      const p = e.runner.lastPass;
      run.push(p.runMs);
      inForward.push(p.buildMs + p.runMs + p.scatterMs);
    }
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    session.disconnect();
    await e.runner.release();
    const stepMs = median(step);
    rows.push({
      streams: B,
      context: `${CONTEXT}+`,
      'engine step ms': +stepMs.toFixed(2),
      'ORT run ms': +median(run).toFixed(2),
      'forward (build+run+scatter) ms': +median(inForward).toFixed(2),
      'outside forward ms': +(stepMs - median(inForward)).toFixed(2),
      'CPU ms/step (all threads)': +median(cpuMs).toFixed(1),
      'tok/s': Math.round((B / stepMs) * 1000),
    });
    // Self time per function from the sampled profile (each sample's delta charged to its leaf node).
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let all = 0;
    profile.samples.forEach((id, i) => {
      const n = byId.get(id);
      const dt = profile.timeDeltas[i] ?? 0;
      const url = n?.callFrame.url.split('/').slice(-2).join('/') ?? '';
      const key = `${n?.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${(n?.callFrame.lineNumber ?? 0) + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + dt);
      all += dt;
    });
    for (const [fn, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
      fns.push({ streams: B, function: fn, 'ms/step': +(us / STEPS / 1000).toFixed(3), '% of JS thread': +((100 * us) / all).toFixed(1) });
    }
  }
  printTable(`2. Engine decode step (EngineCore.step), ${VARIANT}, ${THREADS} threads, medians of ${STEPS} steps`, rows);
  printTable('2b. Engine thread CPU profile, self time by function (the ORT call shows as its native frame)', fns);
  out['engineSteps'] = rows;
  out['engineProfile'] = fns;
}

type BlockSize = 16 | 32 | 64 | 128 | 256;

/** The bench model folder (built once), or its q4 file quantized with another MatMulNBits block size. */
async function benchDir(block?: BlockSize): Promise<string> {
  const dir = resolve(`.cache/bench-models/bench-50m-seed1${block ? `-block${block}` : ''}`);
  if (!existsSync(join(dir, 'config.json')))
    await buildModelFolder({ preset: 'bench-50m', seed: 1, outDir: dir, accuracyLevel: 4, ...(block ? { blockSize: block, variants: ['q4'] } : {}) });
  return dir;
}

/** Interleaved A/B (module doc, 4): every round runs one prefill pass and one decode pass per STREAMS on each arm. */
async function abPhase(dir: string, out: Record<string, unknown>): Promise<void> {
  const which = process.env['PROFILE_AB'] ?? 'spin';
  const rounds = Number(process.env['PROFILE_AB_ROUNDS'] ?? 10);
  const spec = loadModelFolder(dir);
  const block = /^block(\d+)$/.exec(which);
  const arms: Array<{ name: string; dir: string; opts: Partial<RunnerOptions> }> =
    which === 'spin'
      ? [
          { name: 'threadSpinning on', dir, opts: { threadSpinning: 'on' } },
          { name: 'threadSpinning off', dir, opts: { threadSpinning: 'off' } },
          { name: 'threadSpinning within-run', dir, opts: { threadSpinning: 'within-run' } },
        ]
      : which === 'fuse'
        ? [
            { name: 'fuseProjections false', dir, opts: { fuseProjections: false } },
            { name: 'fuseProjections true', dir, opts: { fuseProjections: true } },
          ]
        : block
          ? [
              { name: 'block 32', dir, opts: {} },
              { name: `block ${block[1]}`, dir: await benchDir(Number(block[1]) as BlockSize), opts: {} },
            ]
          : [];
  if (arms.length === 0) throw new Error(`PROFILE_AB=${which}: expected spin, fuse or block<N>`);
  const perSeq = Math.ceil((CONTEXT + 2) / 16);
  const prefillBlocks = Math.ceil(PREFILL_TOKENS / 16);
  const layout = {
    layers: spec.layers,
    kvHeads: spec.kvHeads,
    headDim: spec.headDim,
    blockSize: 16,
    numBlocks: prefillBlocks + Math.max(...STREAMS) * perSeq + 1,
  };
  const create = async (armDir: string, variant: string, opts: Partial<RunnerOptions>) =>
    PagedModelRunner.create((await loadOnnxFile(chooseVariant(armDir, variant).path)).bytes, {
      layout,
      vocabSize: spec.vocab,
      threads: THREADS,
      path: 'paged',
      prove: false,
      ...RUNNER_EXTRAS,
      ...opts,
    });
  const runners = [];
  for (const arm of arms) runners.push({ ...arm, runner: await create(arm.dir, VARIANT, arm.opts) });
  // Block sizes change the numbers computed: each arm's last prefill logits against the fp32 file of the same weights.
  const reference = block ? await create(dir, 'fp32', {}) : undefined;
  const prefillTable = Array.from({ length: prefillBlocks }, (_, k) => k);
  const r = seededRandom(11);
  const samples = new Map<string, number[]>();
  const add = (key: string, v: number) => samples.set(key, [...(samples.get(key) ?? []), v]);
  const measure = async (f: () => Promise<Float32Array[]>) => {
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    const rows = await f();
    const wall = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    return { rows, wall, cpu: (cpu.user + cpu.system) / 1000 };
  };
  for (let round = 0; round <= rounds; round++) {
    const prompt = Array.from({ length: PREFILL_TOKENS }, () => 3 + Math.floor(r() * (spec.vocab - 3)));
    const want = reference ? (await reference.forward([{ tokens: prompt, startPos: 0, blockTable: prefillTable }]))[0] : undefined;
    for (const arm of runners) {
      const p = await measure(() => arm.runner.forward([{ tokens: prompt, startPos: 0, blockTable: prefillTable }]));
      const decodes = [];
      for (const B of STREAMS) {
        const entries = Array.from({ length: B }, (_, b) => ({
          tokens: [(b * 7 + round) % spec.vocab],
          startPos: CONTEXT,
          blockTable: Array.from({ length: perSeq }, (_, k) => prefillBlocks + b * perSeq + k),
        }));
        decodes.push({ B, ...(await measure(() => arm.runner.forward(entries))) });
      }
      if (round === 0) continue; // warm-up
      add(`${arm.name}|prefill ${PREFILL_TOKENS} tokens|cpu`, p.cpu);
      add(`${arm.name}|prefill ${PREFILL_TOKENS} tokens|wall`, p.wall);
      for (const d of decodes) {
        add(`${arm.name}|decode ${d.B} rows|cpu`, d.cpu);
        add(`${arm.name}|decode ${d.B} rows|wall`, d.wall);
      }
      if (want) {
        const got = p.rows[0]!;
        let diff = 0;
        let top = 0;
        let argGot = 0;
        let argWant = 0;
        for (let i = 0; i < want.length; i++) {
          diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
          top = Math.max(top, Math.abs(want[i]!));
          if (got[i]! > got[argGot]!) argGot = i;
          if (want[i]! > want[argWant]!) argWant = i;
        }
        add(`${arm.name}|logit error|rel`, diff / top);
        add(`${arm.name}|logit error|argmax`, argGot === argWant ? 1 : 0);
      }
    }
  }
  const rows: Row[] = [];
  const passes = [`prefill ${PREFILL_TOKENS} tokens`, ...STREAMS.map((B) => `decode ${B} rows`)];
  for (const pass of passes) {
    const base = median(samples.get(`${arms[0]!.name}|${pass}|cpu`) ?? []);
    for (const arm of arms) {
      const cpu = median(samples.get(`${arm.name}|${pass}|cpu`) ?? []);
      rows.push({
        arm: arm.name,
        pass,
        'CPU ms': +cpu.toFixed(2),
        'wall ms': +median(samples.get(`${arm.name}|${pass}|wall`) ?? []).toFixed(2),
        [`CPU vs ${arms[0]!.name}`]: +(cpu / base).toFixed(3),
      });
    }
  }
  if (reference) {
    for (const arm of arms) {
      const rel = samples.get(`${arm.name}|logit error|rel`) ?? [];
      rows.push({
        arm: arm.name,
        pass: `prefill logits vs fp32: max |diff| / max |logit| median ${median(rel).toFixed(3)}, argmax equal ${(samples.get(`${arm.name}|logit error|argmax`) ?? []).reduce((a, b) => a + b, 0)}/${rel.length}`,
      });
    }
    await reference.release();
  }
  for (const arm of runners) await arm.runner.release();
  printTable(`4. Interleaved A/B (${which}), ${VARIANT}, ${THREADS} threads, medians of ${rounds} rounds, decode at context ${CONTEXT}`, rows);
  out['ab'] = { which, rows };
}

async function main(): Promise<void> {
  // PROFILE_BLOCK: the bench model quantized with another MatMulNBits block size (its own folder).
  const block = process.env['PROFILE_BLOCK'] ? (Number(process.env['PROFILE_BLOCK']) as BlockSize) : undefined;
  const dir = await benchDir(block);
  const vocab = loadModelFolder(dir).vocab;
  const out: Record<string, unknown> = { variant: VARIANT, threads: THREADS, context: CONTEXT, steps: STEPS };
  if (PHASES.includes('runner')) await runnerPhase(dir, vocab, out);
  if (PHASES.includes('engine')) await enginePhase(dir, out);
  if (PHASES.includes('prefill')) await prefillPhase(dir, vocab, out);
  if (PHASES.includes('ab')) await abPhase(dir, out);
  writeResults(process.env['PROFILE_OUT'] ?? 'edge-profile', out);
}

await main();
