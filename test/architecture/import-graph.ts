/** Reads the project's import graph (type imports included) with TypeScript's own pre-processor: no extra dependency. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportGraph {
  /** file (repo-relative) -> files it imports (repo-relative) */
  local: Map<string, string[]>;
  /** file -> bare or node: specifiers it imports */
  external: Map<string, string[]>;
}

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...sourceFiles(root, rel));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

function resolveLocal(root: string, from: string, spec: string): string {
  const abs = resolve(root, dirname(from), spec);
  const rel = relative(root, abs);
  return rel.replace(/\.m?js$/, (ext) => (ext === '.mjs' ? '.mjs' : '.ts'));
}

export function readImportGraph(root: string, dirs: readonly string[]): ImportGraph {
  const local = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  for (const file of dirs.flatMap((d) => sourceFiles(root, d))) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const specs = info.importedFiles.map((f) => f.fileName);
    local.set(
      file,
      specs.filter((s) => s.startsWith('.')).map((s) => resolveLocal(root, file, s)),
    );
    external.set(
      file,
      specs.filter((s) => !s.startsWith('.')),
    );
  }
  return { local, external };
}

/** Every file reachable from `start` through local imports (start included). */
export function reachable(graph: ImportGraph, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const f = stack.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const g of graph.local.get(f) ?? []) stack.push(g);
  }
  return seen;
}

/** Strongly connected components with more than one file (or a self-import): each is a cycle. */
export function cycles(graph: ImportGraph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.local.get(v) ?? []) {
      if (!graph.local.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.local.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.local.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Pairs of folders that import each other (a folder is a file's directory). */
export function mutualFolders(graph: ImportGraph): string[] {
  const edges = new Set<string>();
  for (const [from, tos] of graph.local) {
    for (const to of tos) {
      const a = dirname(from);
      const b = dirname(to);
      if (a !== b) edges.add(`${a} -> ${b}`);
    }
  }
  const pairs: string[] = [];
  for (const e of edges) {
    const [a, b] = e.split(' -> ') as [string, string];
    if (a < b && edges.has(`${b} -> ${a}`)) pairs.push(`${a} <-> ${b}`);
  }
  return pairs.sort();
}
