/** `switchyard edge build-model`: writes a random-weight model folder (nothing is downloaded). */
import { resolve } from 'node:path';
import { buildModelFolder, parameterCount, PRESET_NAMES, type PresetName, type WeightFormat } from '../../edge-runtime/index.js';
import { choiceFlag, intFlag, listFlag, UsageError, type ParsedCommand } from './command-line.js';

const FORMATS: readonly WeightFormat[] = ['fp32', 'int8', 'q4'];

export async function run({ values }: ParsedCommand): Promise<void> {
  const preset = choiceFlag(values, 'preset', PRESET_NAMES as readonly PresetName[])!;
  const seed = intFlag(values, 'seed')!;
  const accuracyLevel = intFlag(values, 'accuracy-level', { min: 0, max: 4 })!;
  const variants = (listFlag(values, 'variants') ?? []) as WeightFormat[];
  const bad = variants.filter((v) => !FORMATS.includes(v));
  if (bad.length > 0 || variants.length === 0)
    throw new UsageError(`--variants: a comma-separated list of ${FORMATS.join(', ')} (got '${String(values['variants'])}')`);
  const out = resolve(typeof values['out'] === 'string' ? values['out'] : `models/${preset}-seed${seed}`);
  // Building blocks this thread (graph building and quantization are synchronous): say what is happening first.
  process.stderr.write(`building ${preset} (seed ${seed}; ${variants.join(', ')}) into ${out} ...\n`);
  const t0 = Date.now();
  // On a terminal, the elapsed time ticks whenever the build yields (between files it writes).
  const ticker = process.stderr.isTTY
    ? setInterval(() => process.stderr.write(`\r  ${Math.round((Date.now() - t0) / 1000)} s elapsed`), 1000)
    : undefined;
  let shape;
  try {
    ({ shape } = await buildModelFolder({ preset, seed, outDir: out, variants, accuracyLevel }));
  } finally {
    if (ticker) {
      clearInterval(ticker);
      process.stderr.write('\r\x1b[K');
    }
  }
  const params = parameterCount(shape);
  process.stdout.write(
    `built ${preset} (seed ${seed}, ${(params / 1e6).toFixed(1)}M parameters, vocab ${shape.vocab}) in ${Date.now() - t0} ms: ${out}\n`,
  );
}
