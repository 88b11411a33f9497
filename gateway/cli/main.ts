/** The `switchyard` command line: finds the command in the table (commands.ts), parses its flags, runs it. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandHelp, parseCommand, topLevelHelp, UsageError, usageLine } from './command-line.js';
import { COMMANDS, commandsUnder, findCommand } from './commands.js';

/** The package version, from the nearest package.json above this file (sources and dist/ sit at different depths). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'switchyard' && pkg.version) return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

async function main(argv: string[]): Promise<void> {
  const [first] = argv;
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (!first || first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' ? findCommand(argv.slice(1)) : undefined;
    process.stdout.write(topic ? commandHelp(topic.spec) : topLevelHelp(COMMANDS, version()));
    return;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commandsUnder(first);
    if (group.length > 0) {
      // `switchyard edge` or `switchyard edge --help`: list the group's commands.
      const lines = group.map((s) => `  ${usageLine(s)}\n      ${s.summary}`);
      const text = `commands:\n${lines.join('\n')}\n\nRun 'switchyard ${first} <command> --help' for its options.\n`;
      if (wantsHelp(argv)) process.stdout.write(text);
      else {
        const what = argv[1] === undefined ? `'${first}' needs a command` : `'${argv.slice(0, 2).join(' ')}' is not a command`;
        process.stderr.write(`switchyard: ${what}\n${text}`);
        process.exitCode = 2;
      }
      return;
    }
    process.stderr.write(`switchyard: unknown command '${first}'\n\n${topLevelHelp(COMMANDS, version())}`);
    process.exitCode = 2;
    return;
  }
  if (wantsHelp(found.rest)) {
    process.stdout.write(commandHelp(found.spec));
    return;
  }
  const args = parseCommand(found.spec, found.rest);
  const { run } = await found.spec.load();
  try {
    await run(args);
  } catch (err) {
    throw err instanceof UsageError && !err.command ? new UsageError(err.message, found.spec) : err;
  }
}

main(process.argv.slice(2)).catch(async (err: unknown) => {
  if (err instanceof UsageError) {
    const cmd = err.command ? `switchyard ${err.command.path.join(' ')}` : 'switchyard';
    process.stderr.write(`${cmd}: ${err.message}\nRun '${cmd} --help' for usage.\n`);
    process.exit(2);
  }
  // Loaded only on failure: the config error type lives with the (heavier) config loader.
  const { ConfigError } = await import('../config/load-config.js');
  if (err instanceof ConfigError) process.stderr.write(`switchyard: invalid configuration\n${err.message}\n`);
  else process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
