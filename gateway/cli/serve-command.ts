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
  const stop = (signal: string) => {
    process.stderr.write(`switchyard: ${signal} received, draining\n`);
    void gw.shutdown().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
