/**
 * `edge quantize`: an existing fp32 model folder (onnx/model.onnx, or model.onnx at the top as some exporters write
 * it) -> the same folder layout with onnx/model_quantized.onnx (int8) and/or onnx/model_q4.onnx (q4) added. The other
 * files (config, tokenizer) are copied; writing into the source folder itself just adds the variants.
 */
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LinearOptions, WeightFormat } from '../graph/linear.js';
import { quantizeOnnxModel, QuantizeError, type QuantizeStats } from './onnx-quantize.js';
import { silentProgress, type Progress } from './progress.js';
import { linearOptionsFor, variantFile } from './variants.js';

export interface QuantizeFolderOptions {
  from: string;
  to: string;
  quant: Array<Exclude<WeightFormat, 'fp32'>>;
  accuracyLevel?: number;
  int8Kernel?: 'dequantize' | 'nbits';
  /** MatMulNBits block size (default 32). */
  blockSize?: LinearOptions['blockSize'];
  progress?: Progress;
}

export function findFp32Model(dir: string): string {
  for (const p of [join(dir, 'onnx', 'model.onnx'), join(dir, 'model.onnx')]) if (existsSync(p)) return p;
  throw new QuantizeError(`${join(dir, 'onnx', 'model.onnx')}: missing (quantize needs an fp32 model folder; model.onnx at the top is accepted too)`);
}

export async function quantizeModelFolder(
  opts: QuantizeFolderOptions,
): Promise<{ dir: string; files: Partial<Record<WeightFormat, { path: string; bytes: number; stats: QuantizeStats }>> }> {
  const progress = opts.progress ?? silentProgress;
  const from = resolve(opts.from);
  const to = resolve(opts.to);
  if (!existsSync(from)) throw new QuantizeError(`${from}: model folder not found`);
  const src = findFp32Model(from);
  const bytes = await readFile(src);
  const inPlace = from === to;
  // A new folder is assembled next to its destination and renamed in; in place, each file is renamed in when done.
  const work = inPlace ? to : `${to}.tmp-${process.pid}-${Date.now()}`;
  const files: Partial<Record<WeightFormat, { path: string; bytes: number; stats: QuantizeStats }>> = {};
  try {
    await mkdir(join(work, 'onnx'), { recursive: true });
    if (!inPlace) {
      for (const f of readdirSync(from)) {
        const p = join(from, f);
        if ((await stat(p)).isFile()) await copyFile(p, join(work, f));
      }
      if (existsSync(join(from, 'onnx')))
        for (const f of readdirSync(join(from, 'onnx'))) await copyFile(join(from, 'onnx', f), join(work, 'onnx', f));
      // An exporter's top-level model.onnx moves to the runtime's place for it.
      if (!existsSync(join(work, 'onnx', 'model.onnx'))) await rename(join(work, 'model.onnx'), join(work, 'onnx', 'model.onnx'));
    }
    progress.start('quantize', opts.quant.length);
    for (const format of opts.quant) {
      const { bytes: out, stats } = quantizeOnnxModel(bytes, src, linearOptionsFor(format, opts));
      const name = variantFile(format);
      const tmpFile = join(work, 'onnx', `${name}.tmp`);
      await writeFile(tmpFile, out);
      await rename(tmpFile, join(work, 'onnx', name));
      files[format] = { path: join(to, 'onnx', name), bytes: out.length, stats };
      progress.tick();
      progress.note(
        `${format}: ${stats.matmuls} MatMul, ${stats.gemms} Gemm, ${stats.gathers} Gather quantized; ${(out.length / 1e6).toFixed(1)} MB`,
      );
    }
    progress.done(opts.quant.join(', '));
    if (!inPlace) {
      await rm(to, { recursive: true, force: true });
      await rename(work, to);
    }
    return { dir: to, files };
  } catch (err) {
    if (!inPlace) await rm(work, { recursive: true, force: true });
    throw err;
  }
}
