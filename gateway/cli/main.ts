/** The `switchyard` command line: dispatches to one verb per file. */
import { ConfigError } from '../config/load-config.js';
import { serveCommand } from './serve-command.js';
import { edgeCommand } from './edge-command.js';
import { keysCommand } from './keys-command.js';
import { reportCommand } from './report-command.js';
import { policiesCommand } from './policies-command.js';

const USAGE = `usage: switchyard <command> [options]

commands:
  serve [--config FILE] [--port N] [--host H]   start the gateway (embedded defaults without a config)
  edge build-model --preset P --seed N --out D   write a random-weight model folder (tiny-llama, tiny-gpt2, small-llama, bench-50m)
  edge serve --model DIR [--port N]              serve one model folder as a standalone OpenAI-compatible edge server
  keys create [--id ID] [--tenant T]             print a new virtual key once, and its config line
  policies check FILE [--config C]               validate a routing policy (errors name file, line and field)
  policies explain FILE REQUEST.json [--config C] print the routing decision and trace, calling no model
  report [--since 1h | --from T --to T] [--dir records | --redis URL] [--group destination,model,tenant,rule]
         [--format table|json|csv|html] [--out FILE]   cost, latency and routing tables from request records
`;

type Verb = (argv: string[]) => Promise<void>;

const verbs: Record<string, Verb> = {
  serve: serveCommand,
  edge: edgeCommand,
  keys: keysCommand,
  report: reportCommand,
  policies: policiesCommand,
};

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const run = verbs[verb];
  if (!run) {
    process.stderr.write(`switchyard: unknown command '${verb}'\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`switchyard: invalid configuration\n${err.message}\n`);
  else process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
