/** `switchyard serve`: runs the gateway until SIGTERM/SIGINT, then drains. */
import { readFileSync } from 'node:fs';
import { defaultConfig, parseConfig } from '../config/load-config.js';
import { startGateway } from '../node.js';
import { unpricedCloudModels } from '../records/request-record.js';
import { createNodeLogger, LOG_FORMATS } from '../wiring/node-logger.js';
import { choiceFlag, intFlag, stringFlag, type ParsedCommand } from './command-line.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export async function run({ values }: ParsedCommand): Promise<void> {
  const path = stringFlag(values, 'config') ?? process.env['SWITCHYARD_CONFIG'];
  const config = path ? parseConfig(readFileSync(path, 'utf8'), path) : defaultConfig();
  const port = intFlag(values, 'port', { min: 0, max: 65535 });
  if (port !== undefined) config.server.port = port;
  const host = stringFlag(values, 'host');
  if (host !== undefined) config.server.host = host;
  const level = choiceFlag(values, 'log-level', LEVELS) ?? config.logging.level;
  const logger = createNodeLogger(level, undefined, choiceFlag(values, 'log-format', LOG_FORMATS));
  const gw = await startGateway(config, { logger });
  const unpriced = unpricedCloudModels(gw.upstreams, config.prices);
  if (unpriced.length > 0) {
    logger.warn(
      { models: unpriced.map((u) => `${u.upstream}/${u.model}`) },
      'cloud models without a price: their cost and savings read $0 in records and reports (add them under prices.models)',
    );
  }
  let draining = false;
  const stop = (signal: string) => {
    // A second signal (a process group kill reaches both a wrapper and us) must not cut the drain short.
    if (draining) return;
    draining = true;
    logger.info({ signal }, 'signal received: draining');
    void gw.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
