/**
 * One edge server of the fleet bench: `switchyard edge serve` as composed by the CLI (the gateway's edge server app
 * around one EdgeUpstream), with what the bench needs that the CLI has no flag for: one intra-op thread.
 * Usage: node --import tsx bench/lib/fleet-edge-server.ts MODEL_DIR PORT KV_MB
 */
import { startEngine } from '../../edge-runtime/index.js';
import { createEdgeServerApp } from '../../gateway/cli/edge-server-app.js';
import { configSchema } from '../../gateway/config/schema.js';
import { silentLogger } from '../../gateway/core/logger.js';
import { EdgeUpstream } from '../../gateway/upstreams/edge/edge-upstream.js';
import { listen } from '../../gateway/wiring/listen.js';

const [dir, port, kvMb] = process.argv.slice(2);
const engine = startEngine({
  modelDir: dir!,
  modelId: 'fleet-model',
  variant: 'q4',
  kvBudgetBytes: Number(kvMb) * 1024 * 1024,
  maxNumSeqs: 16,
  maxBatchedTokens: 512,
  threads: 1,
});
await engine.loaded;
const app = createEdgeServerApp(new EdgeUpstream('edge', engine, ['fleet-model']), silentLogger);
const server = configSchema.parse({ server: { host: '127.0.0.1', port: Number(port), shutdown_grace_ms: 0 } }).server;
const listening = await listen(app.fetch, server, silentLogger);
console.log(`READY ${listening.url}`);
const stop = () =>
  void listening
    .drain()
    .then(() => engine.close())
    .then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
