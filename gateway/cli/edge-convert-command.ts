/** `switchyard edge convert`: the edge runtime's checkpoint converter behind the CLI's parsed flags. */
import { convertCommand } from '../../edge-runtime/index.js';
import { toArgv } from './flags-to-argv.js';
import type { ParsedCommand } from './command-line.js';

export async function run({ values }: ParsedCommand): Promise<void> {
  await convertCommand(toArgv(values, ['from', 'to', 'quant', 'max-context', 'accuracy-level', 'int8-kernel']));
}
