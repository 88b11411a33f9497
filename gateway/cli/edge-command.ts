/** `switchyard edge build-model|serve`: build random-weight model folders; serve one model as a standalone edge server. */
import { serve } from '@hono/node-server';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import {
  buildModelFolder,
  ENGINE_DEFAULTS,
  loadModelFolder,
  parameterCount,
  PRESET_NAMES,
  startEngine,
  type PresetName,
  type WeightFormat,
} from '../../edge-runtime/index.js';
import { EdgeUpstream } from '../upstreams/edge/edge-upstream.js';
import { createEdgeServerApp } from './edge-server-app.js';
import { createNodeLogger } from '../wiring/node-logger.js';

const FORMATS: WeightFormat[] = ['fp32', 'int8', 'q4'];

async function buildModel(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string', default: 'tiny-llama' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      variants: { type: 'string', default: 'fp32,int8,q4' },
      'accuracy-level': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const preset = values.preset as PresetName;
  if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(', ')}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const variants = values.variants.split(',') as WeightFormat[];
  const bad = variants.filter((v) => !FORMATS.includes(v));
  if (bad.length > 0) throw new Error(`--variants: unknown ${bad.join(', ')} (choose from ${FORMATS.join(', ')})`);
  const out = resolve(values.out ?? `models/${preset}-seed${seed}`);
  const t0 = Date.now();
  const { shape } = await buildModelFolder({ preset, seed, outDir: out, variants, accuracyLevel: Number(values['accuracy-level']) });
  const params = parameterCount(shape);
  process.stdout.write(
    `built ${preset} (seed ${seed}, ${(params / 1e6).toFixed(1)}M parameters, vocab ${shape.vocab}) in ${Date.now() - t0} ms: ${out}\n`,
  );
}

async function serveEdge(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      id: { type: 'string' },
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      variant: { type: 'string', default: ENGINE_DEFAULTS.variant },
      'kv-budget-mb': { type: 'string', default: String(ENGINE_DEFAULTS.kvBudgetMb) },
      'max-num-seqs': { type: 'string', default: String(ENGINE_DEFAULTS.maxNumSeqs) },
      'max-batched-tokens': { type: 'string', default: String(ENGINE_DEFAULTS.maxBatchedTokens) },
    },
    strict: true,
  });
  if (!values.model) throw new Error('--model DIR is required (build one with `switchyard edge build-model`)');
  loadModelFolder(values.model); // fail fast, with the file and field, before starting a worker
  const logger = createNodeLogger('info');
  const id = values.id ?? values.model.replace(/\/+$/, '').split('/').pop()!;
  const engine = startEngine({
    modelDir: values.model,
    modelId: id,
    variant: values.variant as WeightFormat,
    kvBudgetBytes: Number(values['kv-budget-mb']) * 1024 * 1024,
    maxNumSeqs: Number(values['max-num-seqs']),
    maxBatchedTokens: Number(values['max-batched-tokens']),
  });
  await engine.loaded;
  const app = createEdgeServerApp(new EdgeUpstream('edge', engine, [id]), logger);
  const server = serve({ fetch: app.fetch, hostname: values.host, port: Number(values.port) });
  logger.info({ url: `http://${values.host}:${values.port}`, model: id }, 'switchyard edge server listening');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    void engine.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export async function edgeCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'build-model') return buildModel(rest);
  if (sub === 'serve') return serveEdge(rest);
  throw new Error(
    'usage: switchyard edge build-model [--preset tiny-llama|tiny-gpt2|small-llama|bench-50m] [--seed N] [--out DIR] [--variants fp32,int8,q4]\n       switchyard edge serve --model DIR [--port N] [--variant q4|int8|fp32] [--kv-budget-mb N]',
  );
}
