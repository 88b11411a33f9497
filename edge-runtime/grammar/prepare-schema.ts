/**
 * Makes a client's JSON Schema safe and exact for xgrammar 0.1.27, found by the constrained-decoding property test:
 * - a string with minLength/maxLength compiles to a character class that admits raw control characters (invalid in
 *   JSON strings) and byte sequences that decode to U+FFFD (so the length check fails), so it is rewritten to a
 *   `pattern` of printable ASCII without quote or backslash: a subset of what the schema allows, always valid;
 * - `type: [a, b]` aborts the WASM module ("Type should be a string"), so it becomes `anyOf` of one type each;
 * - string enums where one value extends a later one admit endless extensions: strings are sorted;
 * - integer ranges are over-approximated by its range regex (maximum 120 admits 121..129): small ranges become enums;
 * - any other malformed keyword would also abort inside WASM, so the shape is checked here first, naming the path.
 */

type Schema = Record<string, unknown>;

/** Integer ranges up to this many values become an enum (exact); larger ones keep xgrammar's range. */
const SMALL_INTEGER_RANGE = 256;

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);

export class SchemaShapeError extends Error {}

function fail(path: string, what: string): never {
  throw new SchemaShapeError(`${path}: ${what}`);
}

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sub(v: unknown, path: string): unknown {
  if (typeof v === 'boolean') return v;
  if (!isSchema(v)) fail(path, 'must be a schema (an object or a boolean)');
  return prepareSchema(v, path);
}

export function prepareSchema(schema: Schema, path = 'schema'): Schema {
  const out: Schema = { ...schema };
  const type = out['type'];
  if (Array.isArray(type)) {
    if (type.length === 0 || !type.every((t) => typeof t === 'string' && TYPES.has(t))) fail(`${path}.type`, 'must name JSON types');
    delete out['type'];
    if (type.length === 1) return prepareSchema({ ...out, type: type[0] }, path);
    return { anyOf: type.map((t, i) => prepareSchema({ ...out, type: t }, `${path}.type[${i}]`)) };
  }
  if (type !== undefined && (typeof type !== 'string' || !TYPES.has(type))) fail(`${path}.type`, 'must be one of ' + [...TYPES].join(', '));
  const props = out['properties'];
  if (props !== undefined) {
    if (!isSchema(props)) fail(`${path}.properties`, 'must be an object of schemas');
    out['properties'] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sub(v, `${path}.properties.${k}`)]));
  }
  const required = out['required'];
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string')))
    fail(`${path}.required`, 'must be a list of names');
  for (const k of ['items', 'additionalProperties', 'not']) if (out[k] !== undefined) out[k] = sub(out[k], `${path}.${k}`);
  for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const list = out[k];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) fail(`${path}.${k}`, 'must be a non-empty list of schemas');
    out[k] = list.map((s, i) => sub(s, `${path}.${k}[${i}]`));
  }
  for (const k of ['$defs', 'definitions']) {
    const defs = out[k];
    if (defs === undefined) continue;
    if (!isSchema(defs)) fail(`${path}.${k}`, 'must be an object of schemas');
    out[k] = Object.fromEntries(Object.entries(defs).map(([n, v]) => [n, sub(v, `${path}.${k}.${n}`)]));
  }
  if (out['enum'] !== undefined && !(Array.isArray(out['enum']) && out['enum'].length > 0)) fail(`${path}.enum`, 'must be a non-empty list');
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems']) {
    if (out[k] !== undefined && typeof out[k] !== 'number') fail(`${path}.${k}`, 'must be a number');
  }
  // After one enum string that extends another listed after it ("xa" before "x"), xgrammar keeps allowing the
  // longer one's characters ("xaa..."); listed shortest-prefix first it is exact. Enum order has no meaning in JSON
  // Schema, so strings are sorted (a prefix sorts before its extensions).
  if (Array.isArray(out['enum'])) {
    const values = out['enum'] as unknown[];
    const strings = values.filter((v): v is string => typeof v === 'string').sort();
    out['enum'] = [...strings, ...values.filter((v) => typeof v !== 'string')];
  }
  // xgrammar's range regex over-approximates some bounds (maximum 120 also admits 121..129); a small range is
  // written out as the exact list of its integers instead.
  if (type === 'integer' && out['enum'] === undefined && typeof out['minimum'] === 'number' && typeof out['maximum'] === 'number') {
    const lo = Math.ceil(out['minimum']);
    const hi = Math.floor(out['maximum']);
    if (hi >= lo && hi - lo < SMALL_INTEGER_RANGE) {
      out['enum'] = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
      delete out['minimum'];
      delete out['maximum'];
    }
  }
  if (
    type === 'string' &&
    out['pattern'] === undefined &&
    out['format'] === undefined &&
    (out['minLength'] !== undefined || out['maxLength'] !== undefined)
  ) {
    const min = Math.max(0, Math.floor(Number(out['minLength'] ?? 0)));
    const max = out['maxLength'] === undefined ? '' : String(Math.floor(Number(out['maxLength'])));
    out['pattern'] = `^[\\u0020\\u0021\\u0023-\\u005b\\u005d-\\u007e]{${min},${max}}$`;
    delete out['minLength'];
    delete out['maxLength'];
  }
  return out;
}
