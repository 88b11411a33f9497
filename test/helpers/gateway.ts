/** Starts a real gateway (Node entry, ephemeral port, silent logs) for integration tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { configSchema, type GatewayConfig } from '../../gateway/config/schema.js';
import { startGateway, type RunningGateway, type StartOptions } from '../../gateway/node.js';
import { silentLogger } from '../../gateway/core/logger.js';

export interface TestGateway extends RunningGateway {
  baseURL: string;
  client: OpenAI;
  config: GatewayConfig;
}

/** `raw` is the config as YAML would give it (snake_case), validated by the real schema. */
export async function startTestGateway(raw: Record<string, unknown>, opts: StartOptions = {}): Promise<TestGateway> {
  // The edge runtime is off unless a test asks for it: it starts a worker thread and loads a model.
  const config = configSchema.parse({
    ...raw,
    server: { port: 0, shutdown_grace_ms: 2000, ...(raw['server'] as object | undefined) },
    edge: { enabled: false, ...(raw['edge'] as object | undefined) },
    // Records stay out of the working tree unless a test asks for them.
    records: { sink: 'none', ...(raw['records'] as object | undefined) },
    // Batch files in a fresh temp folder per gateway, so tests never share or leave state.
    batch: { dir: mkdtempSync(join(tmpdir(), 'switchyard-batch-')), ...(raw['batch'] as object | undefined) },
  });
  const gw = await startGateway(config, { logger: silentLogger, ...opts });
  const baseURL = `${gw.url}/v1`;
  const client = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0, timeout: 30_000 });
  return { ...gw, baseURL, client, config };
}
