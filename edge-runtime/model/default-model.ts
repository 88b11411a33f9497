/** The embedded default: a tiny random-weight model built once and cached on disk, so `npm start` serves something. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildModelFolder } from './build-model.js';

export const DEFAULT_MODEL_ID = 'switchyard-tiny';
const DEFAULT_PRESET = 'tiny-llama';
const DEFAULT_SEED = 42;

/** Returns the folder of the default model, building it on first use (atomic: temp folder, then rename). */
export async function ensureDefaultModel(cacheDir: string): Promise<string> {
  const dir = resolve(join(cacheDir, 'models', `${DEFAULT_PRESET}-seed${DEFAULT_SEED}`));
  if (!existsSync(join(dir, 'config.json'))) {
    await buildModelFolder({ preset: DEFAULT_PRESET, seed: DEFAULT_SEED, outDir: dir, variants: ['fp32', 'q4'] });
  }
  return dir;
}
