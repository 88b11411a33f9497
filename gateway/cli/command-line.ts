/**
 * The CLI's one parser: each command is declared as data (flags with defaults, positionals, examples) and parsed with
 * node:util parseArgs; `--help` text is generated from the same declaration, so help and parsing cannot disagree.
 * Nothing here imports a command's implementation: help and `--version` stay fast.
 */
import { parseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in help and applied when the flag is absent. */
  default?: string | boolean;
  /** Placeholder in help, e.g. FILE or N. */
  value?: string;
  description: string;
}

export interface PositionalSpec {
  name: string;
  required: boolean;
  description: string;
}

export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandSpec {
  /** Words that select the command, e.g. ['edge', 'serve']. */
  path: string[];
  summary: string;
  /** Longer text under the usage line. */
  description?: string;
  positionals?: PositionalSpec[];
  flags: Record<string, FlagSpec>;
  examples: string[];
  /** Loaded only when the command runs. */
  load: () => Promise<{ run: (args: ParsedCommand) => Promise<void> }>;
}

/** A user mistake on the command line: printed as one line with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs messages name the flag ("Unknown option '--x'"); keep them, drop its generic advice.
    const msg = err instanceof Error ? err.message.split('. To specify')[0]!.replace(/\.$/, '') : String(err);
    throw new UsageError(msg, spec);
  }
  const declared = spec.positionals ?? [];
  const required = declared.filter((p) => p.required);
  if (parsed.positionals.length < required.length) {
    throw new UsageError(
      `missing ${required
        .slice(parsed.positionals.length)
        .map((p) => p.name)
        .join(' ')}`,
      spec,
    );
  }
  if (parsed.positionals.length > declared.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[declared.length]}'`, spec);
  }
  return { values: parsed.values as ParsedCommand['values'], positionals: parsed.positionals };
}

function flagLabel(name: string, f: FlagSpec): string {
  const short = f.short ? `-${f.short}, ` : '    ';
  return `${short}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
}

export function usageLine(spec: CommandSpec): string {
  const pos = (spec.positionals ?? []).map((p) => (p.required ? p.name : `[${p.name}]`));
  return ['switchyard', ...spec.path, ...pos, Object.keys(spec.flags).length ? '[options]' : ''].filter(Boolean).join(' ');
}

export function commandHelp(spec: CommandSpec): string {
  const out = [`usage: ${usageLine(spec)}`, '', spec.summary];
  if (spec.description) out.push('', spec.description);
  if (spec.positionals?.length) {
    out.push('', 'arguments:');
    const w = Math.max(...spec.positionals.map((p) => p.name.length));
    for (const p of spec.positionals) out.push(`  ${p.name.padEnd(w)}  ${p.description}`);
  }
  const flags = Object.entries({ ...spec.flags, help: { type: 'boolean', short: 'h', description: 'show this help' } as FlagSpec });
  const labels = flags.map(([n, f]) => flagLabel(n, f));
  const w = Math.max(...labels.map((l) => l.length));
  out.push('', 'options:');
  flags.forEach(([, f], i) => {
    const def = f.default !== undefined && f.default !== false ? ` (default: ${String(f.default)})` : '';
    out.push(`  ${labels[i]!.padEnd(w)}  ${f.description}${def}`);
  });
  if (spec.examples.length) out.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return out.join('\n') + '\n';
}

export function topLevelHelp(specs: readonly CommandSpec[], version: string): string {
  const names = specs.map((s) => s.path.join(' '));
  const w = Math.max(...names.map((n) => n.length));
  return [
    `switchyard ${version}: hybrid edge/cloud LLM routing gateway`,
    '',
    'usage: switchyard <command> [options]',
    '',
    'commands:',
    ...specs.map((s, i) => `  ${names[i]!.padEnd(w)}  ${s.summary}`),
    '',
    'options:',
    '  -h, --help     show help (also after any command: switchyard report --help)',
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

/** `--flag N` as an integer within bounds; the message names the flag and the value given. */
export function intFlag(values: ParsedCommand['values'], name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = bounds.min !== undefined && bounds.max !== undefined ? ` from ${min} to ${max}` : bounds.min !== undefined ? ` >= ${min}` : '';
    throw new UsageError(`--${name}: expected an integer${range}, got '${String(raw)}'`);
  }
  return n;
}

/** `--flag a,b` as a list; empty items dropped. */
export function listFlag(values: ParsedCommand['values'], name: string): string[] | undefined {
  const raw = values[name];
  if (typeof raw !== 'string') return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--flag X` that must be one of the choices. */
export function choiceFlag<T extends string>(values: ParsedCommand['values'], name: string, choices: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !choices.includes(raw as T)) throw new UsageError(`--${name}: one of ${choices.join(', ')} (got '${String(raw)}')`);
  return raw as T;
}

export function stringFlag(values: ParsedCommand['values'], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}
