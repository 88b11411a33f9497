/** The Worker entry reaches no Node-only module (the same list the architecture test holds the app factory to). */
import { describe, expect, it } from 'vitest';
import { reachable, readImportGraph } from '../architecture/import-graph.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const NODE_ONLY =
  /^(node:|fs$|fs\/|path$|http$|https$|net$|os$|crypto$|worker_threads$|child_process$|undici|ioredis|opossum|pino|onnxruntime-node|prom-client|@hono\/node-server)/;

describe('the Worker entry', () => {
  it('imports no Node-only module, directly or through anything it reaches', () => {
    const graph = readImportGraph(ROOT, ['gateway', 'edge-runtime']);
    const files = reachable(graph, 'gateway/worker.ts');
    expect(files.has('gateway/app.ts')).toBe(true);
    expect(files.has('gateway/upstreams/openai/fetch-upstream.ts')).toBe(true);
    const bad = [...files].flatMap((f) => (graph.external.get(f) ?? []).filter((s) => NODE_ONLY.test(s)).map((s) => `${f} imports ${s}`));
    expect(bad).toEqual([]);
  });
});
