/** `switchyard edge quantize`: weight-only quantization of an fp32 ONNX folder behind the CLI's parsed flags. */
import { quantizeCommand } from '../../edge-runtime/index.js';
import { toArgv } from './flags-to-argv.js';
import type { ParsedCommand } from './command-line.js';

export async function run({ values }: ParsedCommand): Promise<void> {
  await quantizeCommand(toArgv(values, ['from', 'to', 'quant', 'accuracy-level', 'int8-kernel']));
}
