/** `switchyard edge inspect DIR`: what a model folder holds and which execution path the engine will take, and why. */
import { formatInspection, inspectModelFolder } from '../../edge-runtime/index.js';
import { stringFlag, UsageError, type ParsedCommand } from './command-line.js';

export async function run({ values, positionals }: ParsedCommand): Promise<void> {
  const dir = positionals[0];
  if (!dir) throw new UsageError('DIR is required: the model folder to inspect');
  const report = await inspectModelFolder(dir, { variant: stringFlag(values, 'variant') ?? 'auto' });
  process.stdout.write(values['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspection(report)}\n`);
}
