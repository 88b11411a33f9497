/**
 * Checkpoint conversion and quantization, end to end, for a ~50M Llama (bench-50m's shape) and one in SmolLM2-135M's
 * shape (30 layers, d=576, 9 heads, 3 KV heads, vocab 49152, tied embeddings). Random checkpoints in the Hugging Face
 * layout (BF16; F32 for the 135M one, ~540 MB) are written once, then each variant is converted in its own process
 * (time, peak RSS) and loaded in its own process (load time, RSS, first-step logits and greedy ids through the engine),
 * so one variant's memory never counts against another's. Decode tokens/s at batch 1 and 16 through the paged graph is
 * measured with all variants of a model in one process taking turns step by step, so a busy machine slows them alike
 * and the ratios hold; batch 1 is measured again with one ORT intra-op thread.
 *
 *   npm run bench:quant                 (BENCH_QUANT_MODELS=bench-50m,smollm2-135m, BENCH_QUANT_STEPS=24)
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../edge-runtime/convert/convert.js';
import { engineFor, engineGreedy } from '../edge-runtime/convert/engine-greedy.js';
import { writeTestCheckpoint, type LlamaCheckpointSpec } from '../edge-runtime/convert/test-checkpoint.js';
import type { FloatDtype } from '../edge-runtime/convert/safetensors.js';
import { bytesPerBlock } from '../edge-runtime/worker/create-engine.js';
import { loadModelFolder } from '../edge-runtime/model/model-folder.js';
import { seededRandom } from '../edge-runtime/graph/llama-weights.js';
import type { WeightFormat } from '../edge-runtime/graph/linear.js';
import { printTable, writeResults, type Row } from './lib/report.js';

/** Checkpoint dtype per model: the 135M one is F32 (~540 MB on disk), the size the peak-RSS bound is stated for. */
const MODELS: Record<string, LlamaCheckpointSpec & { dtype: FloatDtype }> = {
  'bench-50m': {
    dtype: 'BF16',
    family: 'llama',
    merges: 31741,
    shape: { hidden: 512, layers: 8, heads: 8, kvHeads: 4, headDim: 64, intermediate: 1408, maxPositions: 2048, ropeTheta: 10000, rmsEps: 1e-5 },
  },
  'smollm2-135m': {
    dtype: 'F32',
    family: 'llama',
    merges: 48893,
    tied: true,
    shape: { hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, intermediate: 1536, maxPositions: 8192, ropeTheta: 100000, rmsEps: 1e-5 },
  },
};

/** A bench row: a weight format and how its int8 runs. */
interface Variant {
  name: string;
  format: WeightFormat;
  int8Kernel?: 'nbits' | 'dequantize';
  /** false: plain-op RMSNorm and rotary instead of the fused kernels (to show what fusing buys). */
  fused?: boolean;
}
const VARIANTS: Variant[] = [
  { name: 'fp32', format: 'fp32' },
  { name: 'int8', format: 'int8', int8Kernel: 'nbits' },
  { name: 'int8-dq', format: 'int8', int8Kernel: 'dequantize' },
  { name: 'q4', format: 'q4' },
  { name: 'q4-unfused', format: 'q4', fused: false },
];

const CONTEXT = 128;
const STEPS = Number(process.env['BENCH_QUANT_STEPS'] ?? 24);
const BLOCK = 16;
const root = join(tmpdir(), 'switchyard-bench-quant');
const self = fileURLToPath(import.meta.url);

interface ConvertOut {
  ms: number;
  maxRssMB: number;
  bytes: number;
}
interface MeasureOut {
  loadMs: number;
  rssMB: number;
  logits: number[];
  greedy: number[][];
}

function child<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child ${args.join(' ')} exited ${code}`));
      const line = out.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(line) as T);
    });
  });
}

/**
 * This process's own peak RSS. Not `resourceUsage().maxRSS`: Linux carries that across exec, so a child spawned by a
 * parent holding 1.2 GB reported 1.2 GB whatever it did itself; VmHWM belongs to the process's current image.
 */
function peakRssMB(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function childConvert(from: string, to: string, format: WeightFormat, int8Kernel: string, fused: string): Promise<void> {
  const t0 = performance.now();
  const r = await convertCheckpoint({ from, to, quant: [format], int8Kernel: int8Kernel as 'nbits' | 'dequantize', fused: fused === 'fused' });
  const out: ConvertOut = { ms: performance.now() - t0, maxRssMB: peakRssMB(), bytes: r.files[format]!.bytes };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** Load time and RSS of one variant alone, first-step logits of a 48-token prompt, greedy ids through the engine. */
async function childMeasure(dir: string, format: WeightFormat): Promise<void> {
  const spec = loadModelFolder(dir);
  const t0 = performance.now();
  const e = await engineFor(dir, format, bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, BLOCK) * 64);
  const loadMs = performance.now() - t0;
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  const rand = seededRandom(7);
  const prompt = Array.from({ length: 48 }, () => Math.floor(rand() * (spec.vocab - 3)));
  const [row] = await e.runner.forward([{ tokens: prompt, startPos: 0, blockTable: [0, 1, 2] }]);
  const logits = Array.from(row!);
  const prompts = Array.from({ length: 4 }, (_, i) => Array.from({ length: 16 + i * 8 }, () => Math.floor(rand() * (spec.vocab - 3))));
  const greedy = await engineGreedy(e, prompts, 32);
  const out: MeasureOut = { loadMs, rssMB, logits, greedy };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/**
 * Decode steps through the paged graph, all variants of a model in one process taking turns step by step, so that
 * load from anything else on the machine hits them alike: B rows of one new token at `CONTEXT` past tokens each.
 * Returns tokens/s from the median step time per variant and batch size.
 */
async function childSpeed(threads: number, targets: string[]): Promise<void> {
  const engines = [];
  for (const t of targets) {
    const [dir, format] = t.split('::') as [string, WeightFormat];
    const spec = loadModelFolder(dir);
    const blocksPerSeq = Math.ceil((CONTEXT + STEPS + 8) / BLOCK);
    const budget = bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, BLOCK) * (blocksPerSeq * 16 + 2);
    engines.push({ e: await engineFor(dir, format, budget, threads), blocksPerSeq });
  }
  const out: Record<string, number>[] = engines.map(() => ({}));
  for (const B of threads === 1 ? [1] : [1, 16]) {
    const times: number[][] = engines.map(() => []);
    for (let s = 0; s < STEPS + 2; s++) {
      for (const [i, { e, blocksPerSeq }] of engines.entries()) {
        const entries = Array.from({ length: B }, (_, b) => ({
          tokens: [(b * 31 + s) % 1000],
          startPos: CONTEXT + s,
          blockTable: Array.from({ length: blocksPerSeq }, (_, k) => b * blocksPerSeq + k),
        }));
        const t = performance.now();
        await e.runner.forward(entries);
        if (s >= 2) times[i]!.push(performance.now() - t);
      }
    }
    times.forEach((ts, i) => (out[i]![`b${B}`] = (B * 1000) / median(ts)));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

function compare(a: number[], b: number[]): { rel: number; maxAbs: number } {
  let e = 0;
  let r = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    e += d * d;
    r += a[i]! ** 2;
    m = Math.max(m, Math.abs(d));
  }
  return { rel: Math.sqrt(e / r), maxAbs: m };
}

/** Share of greedy tokens equal to fp32's, position by position (a divergence counts until the end). */
function agreement(a: number[][], b: number[][]): number {
  let same = 0;
  let n = 0;
  a.forEach((seq, i) => {
    seq.forEach((t, j) => {
      n++;
      if (b[i]![j] === t) same++;
    });
  });
  return n ? same / n : NaN;
}

async function main(): Promise<void> {
  const models = (process.env['BENCH_QUANT_MODELS'] ?? Object.keys(MODELS).join(',')).split(',');
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  for (const model of models) {
    const spec = MODELS[model];
    if (!spec) throw new Error(`unknown model ${model}`);
    const ckpt = join(root, `${model}-${spec.dtype}-ckpt`);
    if (!existsSync(join(ckpt, 'config.json'))) {
      process.stderr.write(`writing a random ${spec.dtype} checkpoint in ${model}'s shape to ${ckpt}\n`);
      await writeTestCheckpoint({ dir: ckpt, spec, dtype: spec.dtype, shards: 2, seed: 1 });
    }
    const ckptBytes = readdirSync(ckpt).reduce((a, f) => a + statSync(join(ckpt, f)).size, 0);
    const measured: Record<string, ConvertOut & MeasureOut & { b1: number; b16: number; b1t1: number }> = {};
    for (const v of VARIANTS) {
      const dir = join(root, `${model}-${v.name}`);
      process.stderr.write(`${model} ${v.name}: convert\n`);
      const c = await child<ConvertOut>(['--convert', ckpt, dir, v.format, v.int8Kernel ?? 'nbits', v.fused === false ? 'unfused' : 'fused']);
      process.stderr.write(`${model} ${v.name}: load, logits, greedy\n`);
      const m = await child<MeasureOut>(['--measure', dir, v.format]);
      measured[v.name] = { ...c, ...m, b1: NaN, b16: NaN, b1t1: NaN };
    }
    process.stderr.write(`${model}: decode speed, all variants taking turns\n`);
    const targets = VARIANTS.map((v) => `${join(root, `${model}-${v.name}`)}::${v.format}`);
    const speeds = await child<Array<{ b1: number; b16: number }>>(['--speed', '0', ...targets]);
    VARIANTS.forEach((v, i) => Object.assign(measured[v.name]!, speeds[i]));
    // One intra-op thread: at batch 1 a 4-bit step is ~900 small kernels, and a 2-thread pool pays a hand-off per
    // kernel that costs more than it saves (CPU per step ~3x), while fp32 is memory bound either way (notes).
    process.stderr.write(`${model}: decode speed at batch 1 with one intra-op thread\n`);
    const single = await child<Array<{ b1: number }>>(['--speed', '1', ...targets]);
    VARIANTS.forEach((v, i) => (measured[v.name]!.b1t1 = single[i]!.b1));
    const fp = measured['fp32']!;
    for (const v of VARIANTS) {
      const m = measured[v.name]!;
      const err = compare(fp.logits, m.logits);
      rows.push({
        model,
        variant: v.name,
        'size MB': Math.round(m.bytes / 1e6),
        'size x fp32': Number((m.bytes / fp.bytes).toFixed(3)),
        'convert s': Number((m.ms / 1000).toFixed(1)),
        'convert peak RSS MB': Math.round(m.maxRssMB),
        'peak RSS / file': Number((m.maxRssMB / (m.bytes / 2 ** 20)).toFixed(2)),
        'load ms': Math.round(m.loadMs),
        'RSS MB': Math.round(m.rssMB),
        'B=1 tok/s': Math.round(m.b1),
        'B=1 x fp32': Number((m.b1 / fp.b1).toFixed(2)),
        'B=1 1-thread tok/s': Math.round(m.b1t1),
        'B=1 1-thread x fp32': Number((m.b1t1 / fp.b1t1).toFixed(2)),
        'B=16 tok/s': Math.round(m.b16),
        'logit rel err': Number(err.rel.toFixed(4)),
        'logit max err': Number(err.maxAbs.toFixed(3)),
        'greedy agree': Number(agreement(fp.greedy, m.greedy).toFixed(3)),
      });
    }
    results[model] = {
      shape: spec.shape,
      tied: spec.tied === true,
      checkpoint: { dtype: spec.dtype, bytes: ckptBytes },
      rows: rows.filter((r) => r['model'] === model),
    };
  }
  printTable(
    `checkpoint -> edge model (decode: paged graph, context ${CONTEXT}, median of ${STEPS} steps, ORT threads = cores unless marked; errors vs fp32 on a 48-token prompt)`,
    rows,
  );
  // The machine is shared: the load average says how far to trust absolute tokens/s (ratios come from turns taken).
  writeResults('quant', { context: CONTEXT, steps: STEPS, loadAverage: loadavg(), variants: VARIANTS, models: results });
  process.stdout.write(
    `load average during the run: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  );
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--convert') await childConvert(rest[0]!, rest[1]!, rest[2] as WeightFormat, rest[3]!, rest[4]!);
else if (mode === '--measure') await childMeasure(rest[0]!, rest[1] as WeightFormat);
else if (mode === '--speed') await childSpeed(Number(rest[0]), rest.slice(1));
else await main();
