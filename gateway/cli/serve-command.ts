/** `switchyard serve [--config FILE] [--port N] [--host H]`: runs the gateway until SIGTERM/SIGINT. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfig, parseConfig } from '../config/load-config.js';
import { startGateway } from '../node.js';

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
  });
  const path = values.config ?? process.env['SWITCHYARD_CONFIG'];
  const config = path ? parseConfig(readFileSync(path, 'utf8'), path) : defaultConfig();
  if (values.port !== undefined) config.server.port = Number(values.port);
  if (values.host !== undefined) config.server.host = values.host;
  const gw = await startGateway(config);
  let draining = false;
  const stop = (signal: string) => {
    // A second signal (a process group kill reaches both tsx and us) must not cut the drain short.
    if (draining) return;
    draining = true;
    process.stderr.write(`switchyard: ${signal} received, draining\n`);
    void gw.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
