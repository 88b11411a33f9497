/** Reads the YAML config: `${ENV}` interpolation, zod validation, and errors that name the file, line and field. */
import { LineCounter, parseDocument, isScalar, type Document } from 'yaml';
import { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.js';
import { formatPath } from '../core/validate.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** What to do with `${NAME}` when NAME is unset and has no default: an error, or a placeholder (checking names only). */
export type UnsetEnv = 'error' | 'placeholder';

/** Replaces `${NAME}` (and `${NAME:-default}`) in string scalars; a missing variable without default is an error. */
function interpolate(
  doc: Document,
  env: Record<string, string | undefined>,
  missing: Array<{ name: string; offset: number | undefined }>,
  unset: UnsetEnv,
): void {
  const visit = (node: unknown): void => {
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('${')) {
        node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def?: string) => {
          const v = env[name];
          if (v !== undefined && v !== '') return v;
          if (def !== undefined) return def;
          if (unset === 'placeholder') return `unset-${name}`;
          missing.push({ name, offset: node.range?.[0] });
          return '';
        });
      }
      return;
    }
    if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      for (const item of (node as { items: unknown[] }).items) {
        if (item && typeof item === 'object' && 'value' in item && 'key' in item) visit((item as { value: unknown }).value);
        else visit(item);
      }
    }
  };
  visit(doc.contents);
}

function lineOf(doc: Document, counter: LineCounter, path: PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

export { formatPath };

/** Parses config text; `source` names the file in error messages. */
export function parseConfig(
  text: string,
  source: string,
  env: Record<string, string | undefined> = process.env,
  unset: UnsetEnv = 'error',
): GatewayConfig {
  return parseYamlFile(text, source, configSchema, env, unset);
}

/** YAML text -> zod-validated value; every problem becomes `file:line: field: message`. */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  env?: Record<string, string | undefined>,
  unset: UnsetEnv = 'error',
): z.infer<S> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(`${source}${line ? `:${line}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const missing: Array<{ name: string; offset: number | undefined }> = [];
  if (env) interpolate(doc, env, missing, unset);
  if (missing.length > 0) {
    // One line per use, each naming its line: `${NAME:-default}` gives a default.
    const lines = missing.map(({ name, offset }) => {
      const line = offset !== undefined ? counter.linePos(offset).line : undefined;
      return `${source}${line ? `:${line}` : ''}: environment variable ${name} is not set (set it, or write \${${name}:-default})`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue: z.core.$ZodIssue) => {
      const line = lineOf(doc, counter, issue.path);
      return `${source}${line ? `:${line}` : ''}: ${formatPath(issue.path) || '(root)'}: ${issue.message}`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  return parsed.data;
}

/** The embedded defaults: no file at all. */
export function defaultConfig(): GatewayConfig {
  return configSchema.parse({});
}
