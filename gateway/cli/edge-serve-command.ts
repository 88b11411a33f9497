/** `switchyard edge serve`: one model folder as a standalone OpenAI-compatible edge server, drained on SIGINT/SIGTERM. */
import { basename } from 'node:path';
import { loadModelFolder, startEngine } from '../../edge-runtime/index.js';
import { configSchema } from '../config/schema.js';
import { EdgeUpstream } from '../upstreams/edge/edge-upstream.js';
import { listen } from '../wiring/listen.js';
import { createNodeLogger, LOG_FORMATS } from '../wiring/node-logger.js';
import { createEdgeServerApp } from './edge-server-app.js';
import { choiceFlag, intFlag, stringFlag, UsageError, type ParsedCommand } from './command-line.js';

export async function run({ values }: ParsedCommand): Promise<void> {
  const model = stringFlag(values, 'model');
  if (!model) throw new UsageError('--model DIR is required (build one with `switchyard edge build-model`)');
  // The engine validates the variant and, when its file is missing, names the files the folder has.
  const variant = stringFlag(values, 'variant') ?? 'auto';
  const port = intFlag(values, 'port', { min: 0, max: 65535 })!;
  const kvBudgetMb = intFlag(values, 'kv-budget-mb', { min: 1 })!;
  const maxNumSeqs = intFlag(values, 'max-num-seqs', { min: 1 })!;
  const maxBatchedTokens = intFlag(values, 'max-batched-tokens', { min: 1 })!;
  const graceMs = intFlag(values, 'shutdown-grace-ms', { min: 0 })!;
  const host = stringFlag(values, 'host')!;
  loadModelFolder(model); // fail fast, naming the file and field, before starting a worker
  const logger = createNodeLogger('info', undefined, choiceFlag(values, 'log-format', LOG_FORMATS));
  const id = stringFlag(values, 'id') ?? basename(model.replace(/\/+$/, ''));
  logger.info({ model: id, dir: model, variant }, 'loading edge model');
  const t0 = Date.now();
  const engine = startEngine({ modelDir: model, modelId: id, variant, kvBudgetBytes: kvBudgetMb * 1024 * 1024, maxNumSeqs, maxBatchedTokens });
  await engine.loaded;
  logger.info({ model: id, ms: Date.now() - t0 }, 'edge model loaded');
  const app = createEdgeServerApp(new EdgeUpstream('edge', engine, [id]), logger);
  const server = configSchema.parse({ server: { host, port, shutdown_grace_ms: graceMs } }).server;
  let listening;
  try {
    listening = await listen(app.fetch, server, logger);
  } catch (err) {
    await engine.close();
    throw err;
  }
  logger.info({ url: listening.url, model: id }, 'switchyard edge server listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return; // a second signal must not cut the drain short
    stopping = true;
    logger.info({ signal }, 'signal received: draining');
    void listening
      .drain()
      .then(() => engine.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
