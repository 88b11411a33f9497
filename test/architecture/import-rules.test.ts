/** The house's import rules, read from the real import graph (type imports included). */
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, mutualFolders, reachable, readImportGraph } from './import-graph.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const graph = readImportGraph(ROOT, ['gateway', 'edge-runtime']);
const NODE_ONLY =
  /^(node:|fs$|fs\/|path$|http$|https$|net$|os$|crypto$|worker_threads$|child_process$|undici|ioredis|opossum|pino|onnxruntime-node|prom-client|@hono\/node-server)/;

describe('import rules', () => {
  it('reads a graph of the real size', () => {
    expect(graph.local.size).toBeGreaterThan(100);
    expect(graph.local.get('gateway/app.ts')).toContain('gateway/services.ts');
  });

  it('the edge runtime imports nothing from the gateway', () => {
    const bad = [...graph.local].flatMap(([f, tos]) =>
      f.startsWith('edge-runtime/') ? tos.filter((t) => t.startsWith('gateway/')).map((t) => `${f} -> ${t}`) : [],
    );
    expect(bad).toEqual([]);
  });

  it('the gateway enters the edge runtime only through edge-runtime/index.ts', () => {
    const bad = [...graph.local].flatMap(([f, tos]) =>
      f.startsWith('gateway/') ? tos.filter((t) => t.startsWith('edge-runtime/') && t !== 'edge-runtime/index.ts').map((t) => `${f} -> ${t}`) : [],
    );
    expect(bad).toEqual([]);
  });

  it('no Node-only module is reachable from the app factory both entries use', () => {
    const files = reachable(graph, 'gateway/app.ts');
    expect(files.size).toBeGreaterThan(20);
    const bad = [...files].flatMap((f) => (graph.external.get(f) ?? []).filter((s) => NODE_ONLY.test(s)).map((s) => `${f} imports ${s}`));
    expect(bad).toEqual([]);
  });

  it('no import cycle between files', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('no two rooms import each other (the package roots, gateway/ and edge-runtime/, hold the composition and entries)', () => {
    const roots = new Set(['gateway', 'edge-runtime']);
    const pairs = mutualFolders(graph).filter((p) => !p.split(' <-> ').some((d) => roots.has(d)));
    expect(pairs).toEqual([]);
  });

  it('rooms import the package root only for the services and env types (never the app or an entry)', () => {
    const bad = [...graph.local].flatMap(([f, tos]) =>
      dirname(f) === 'gateway' ? [] : tos.filter((t) => dirname(t) === 'gateway' && t !== 'gateway/services.ts').map((t) => `${f} -> ${t}`),
    );
    // The CLI composes entries (it is the Node process's front door), so it may import the app and the Node entry.
    expect(bad.filter((b) => !b.startsWith('gateway/cli/'))).toEqual([]);
  });
});
