/** Export-style folders for tests, built once per machine and cached in the temp dir (keyed by every option). */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExportFolder, type ExportFolderOptions } from './build-export-folder.js';

export async function exportTestModel(opts: Omit<ExportFolderOptions, 'outDir'>): Promise<string> {
  const key = [
    opts.style ?? 'hf-export',
    ...(opts.architecture && opts.architecture !== 'llama' ? [opts.architecture] : []),
    opts.preset,
    `seed${opts.seed}`,
    ...opts.variants,
    opts.externalData ? 'ext' : 'inline',
    opts.positionIds === false ? 'nopos' : 'pos',
    ...(opts.accuracyLevel ? [`acc${opts.accuracyLevel}`] : []),
    'v2',
  ].join('-');
  const dir = join(tmpdir(), 'switchyard-test-models', key);
  if (!existsSync(join(dir, 'config.json'))) await buildExportFolder({ ...opts, outDir: dir });
  return dir;
}
