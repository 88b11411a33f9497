/**
 * `switchyard edge convert` and `switchyard edge quantize`: argument parsing and a summary; the work is in convert.ts
 * and quantize-folder.ts. Progress goes to stderr (a bar on a terminal, plain lines otherwise), the summary to stdout.
 */
import { parseArgs } from 'node:util';
import type { LinearOptions, WeightFormat } from '../graph/linear.js';
import { convertCheckpoint } from './convert.js';
import { streamProgress } from './progress.js';
import { quantizeModelFolder } from './quantize-folder.js';
import { parseQuant } from './variants.js';

type BlockSize = NonNullable<LinearOptions['blockSize']>;
const BLOCK_SIZES: BlockSize[] = [16, 32, 64, 128, 256];
// The usage lists exactly the block sizes tuning() accepts.
const BLOCK_SIZE_USAGE = `[--block-size ${BLOCK_SIZES.join('|')}]`;

export const CONVERT_USAGE = `usage: switchyard edge convert --from CHECKPOINT_DIR --to MODEL_DIR [--quant fp32|int8|q4|all] [--max-context N] [--accuracy-level 0|4] [--int8-kernel nbits|dequantize] ${BLOCK_SIZE_USAGE}`;
export const QUANTIZE_USAGE = `usage: switchyard edge quantize --from MODEL_DIR --to MODEL_DIR [--quant int8|q4|all] [--accuracy-level 0|4] [--int8-kernel nbits|dequantize] ${BLOCK_SIZE_USAGE}`;

const common = {
  from: { type: 'string' },
  to: { type: 'string' },
  quant: { type: 'string', default: 'all' },
  'accuracy-level': { type: 'string' },
  'int8-kernel': { type: 'string' },
  'block-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function tuning(values: { 'accuracy-level'?: string; 'int8-kernel'?: string; 'block-size'?: string }): {
  accuracyLevel?: number;
  int8Kernel?: 'nbits' | 'dequantize';
  blockSize?: BlockSize;
} {
  const out: { accuracyLevel?: number; int8Kernel?: 'nbits' | 'dequantize'; blockSize?: BlockSize } = {};
  if (values['block-size'] !== undefined) {
    const n = Number(values['block-size']) as BlockSize;
    if (!BLOCK_SIZES.includes(n))
      throw new Error(
        `--block-size ${values['block-size']}: expected ${BLOCK_SIZES.join(', ')} (32 is the default; 128 is faster and less accurate)`,
      );
    out.blockSize = n;
  }
  if (values['accuracy-level'] !== undefined) {
    const n = Number(values['accuracy-level']);
    if (![0, 1, 2, 3, 4].includes(n))
      throw new Error(`--accuracy-level ${values['accuracy-level']}: expected 0..4 (0: fp32 activations, 4: int8, fastest)`);
    out.accuracyLevel = n;
  }
  if (values['int8-kernel'] !== undefined) {
    if (values['int8-kernel'] !== 'nbits' && values['int8-kernel'] !== 'dequantize')
      throw new Error(`--int8-kernel ${values['int8-kernel']}: expected nbits or dequantize`);
    out.int8Kernel = values['int8-kernel'];
  }
  return out;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export async function convertCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...common, 'max-context': { type: 'string' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${CONVERT_USAGE}\n`);
    return;
  }
  if (!values.from || !values.to) throw new Error(`--from and --to are required\n${CONVERT_USAGE}`);
  const quant = parseQuant(values.quant);
  let maxContext: number | undefined;
  if (values['max-context'] !== undefined) {
    maxContext = Number(values['max-context']);
    if (!Number.isInteger(maxContext) || maxContext < 1) throw new Error(`--max-context ${values['max-context']}: expected a positive integer`);
  }
  const t0 = performance.now();
  const r = await convertCheckpoint({ from: values.from, to: values.to, quant, maxContext, progress: streamProgress(), ...tuning(values) });
  const s = r.arch.shape;
  process.stdout.write(
    `converted ${r.arch.modelType} (${s.layers} layers, hidden ${s.hidden}, vocab ${s.vocab}, context ${s.maxPositions}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${r.dir}\n`,
  );
  for (const [format, f] of Object.entries(r.files)) process.stdout.write(`  ${format.padEnd(5)} ${f.path} (${mb(f.bytes)})\n`);
  for (const n of r.notes) process.stdout.write(`  note: ${n}\n`);
}

export async function quantizeCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: common, strict: true });
  if (values.help) {
    process.stdout.write(`${QUANTIZE_USAGE}\n`);
    return;
  }
  if (!values.from || !values.to) throw new Error(`--from and --to are required\n${QUANTIZE_USAGE}`);
  const quant = parseQuant(values.quant, ['int8', 'q4']) as Array<Exclude<WeightFormat, 'fp32'>>;
  const t0 = performance.now();
  const r = await quantizeModelFolder({ from: values.from, to: values.to, quant, progress: streamProgress(), ...tuning(values) });
  process.stdout.write(`quantized in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${r.dir}\n`);
  for (const [format, f] of Object.entries(r.files)) process.stdout.write(`  ${format.padEnd(5)} ${f.path} (${mb(f.bytes)})\n`);
}
