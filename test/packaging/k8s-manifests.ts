/** deploy/k8s/*.yaml read as Kubernetes objects, and validated offline against kubernetes-models' schemas. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as models from 'kubernetes-models';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './dockerfile-stages.js';

export const k8sDir = join(repoRoot, 'deploy', 'k8s');

export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export function readManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(k8sDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as Manifest | null;
      if (value) out.push({ ...value, file });
    }
  }
  return out;
}

type ModelClass = new (data: object) => { validate(): void };

/** `apps/v1` + Deployment -> models.apps.v1.Deployment; `v1` (core) -> models.v1; `policy/v1`, `autoscaling/v2` alike. */
export function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [undefined, apiVersion];
  const ns = group ? group.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/\./g, '') : undefined;
  const root = models as unknown as Record<string, Record<string, Record<string, ModelClass>>>;
  const byVersion = ns ? root[ns]?.[version!] : (root as unknown as Record<string, Record<string, ModelClass>>)[version!];
  return byVersion?.[kind];
}

/**
 * Validates one manifest: the schema's types, required fields and enums (the model's validate()), plus fields the
 * schema does not know (validate() alone accepts them, as `kubectl apply` would silently drop them). Unknown fields
 * are found by watching which properties the generated validator reads: it reads every property its schema declares.
 */
export function validateManifest(m: Manifest): string[] {
  const Model = modelFor(m.apiVersion, m.kind);
  if (!Model) return [`${m.file}: no schema for ${m.apiVersion} ${m.kind}`];
  const { file: _file, ...data } = m;
  const instance = new Model(data) as unknown as Record<string, unknown>;
  const read = new Map<string, Set<string>>();
  const present = new Map<string, string[]>();
  const track = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const seen = new Set<string>();
    if (!Array.isArray(value)) {
      present.set(path, Object.keys(value));
      read.set(path, seen);
    }
    const copy: Record<string, unknown> = Array.isArray(value) ? ([] as unknown as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(value)) copy[k] = track(v, `${path}.${k}`);
    return new Proxy(copy, {
      get(target, prop, receiver) {
        if (typeof prop === 'string') seen.add(prop);
        return Reflect.get(target, prop, receiver);
      },
    });
  };
  const top = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'data', 'stringData', 'binaryData', 'type', 'immutable']);
  const errors = Object.keys(instance)
    .filter((k) => !top.has(k))
    .map((k) => `${m.file}: ${m.kind}/${m.metadata.name}: unknown field ${k}`);
  for (const k of Object.keys(instance)) instance[k] = track(instance[k], k);
  try {
    (instance as unknown as { validate(): void }).validate();
  } catch (e) {
    errors.push(`${m.file}: ${m.kind}/${m.metadata.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [path, keys] of present) {
    const seen = read.get(path)!;
    for (const k of keys) if (!seen.has(k)) errors.push(`${m.file}: ${m.kind}/${m.metadata.name}: unknown field ${path}.${k}`);
  }
  return errors;
}
