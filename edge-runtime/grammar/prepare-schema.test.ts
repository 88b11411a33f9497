/**
 * The xgrammar 0.1.27 gaps the property test found, pinned as exact cases: each asks the real matcher (tiny model's
 * byte-level vocabulary) which bytes may follow a prefix. Each fails without its rewrite in prepare-schema.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testModel } from '../testing/test-models.js';
import { tokenVocabulary } from './token-vocabulary.js';
import { XGrammarConstraints } from './xgrammar-constraints.js';
import { prepareSchema, SchemaShapeError } from './prepare-schema.js';

let grammars: XGrammarConstraints;

beforeAll(async () => {
  const dir = await testModel('tiny-llama', 1);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as object;
  grammars = new XGrammarConstraints(tokenVocabulary(json, 259), 259, [258]);
});

/** Bytes (ids < 256 are bytes in this vocabulary) the grammar allows after `prefix`. */
async function allowedAfter(schema: object, prefix: string): Promise<string[]> {
  const m = await grammars.matcher({ kind: 'json_schema', schema: JSON.stringify(schema) });
  for (const b of Buffer.from(prefix)) expect(m.accept(b)).toBe(true);
  const mask = await m.nextMask();
  m.dispose();
  const out: string[] = [];
  for (let i = 0; i < 256; i++) if ((mask[i >> 5]! >>> (i & 31)) & 1) out.push(String.fromCharCode(i));
  return out;
}

describe('schema preparation for xgrammar', () => {
  it('a string enum value that extends another is not extended forever', async () => {
    expect(await allowedAfter({ enum: ['xa', 'x'] }, '"xa')).toEqual(['"']);
    expect(await allowedAfter({ enum: ['a b', 'a', 'a bc'] }, '"a b')).toEqual(['"', 'c']);
  });

  it('bounded strings admit no control characters, quotes-in-string or non-ASCII bytes', async () => {
    const allowed = await allowedAfter({ type: 'string', maxLength: 3 }, '"');
    expect(allowed).not.toContain('\t');
    expect(allowed).not.toContain('\u0000');
    expect(allowed).not.toContain('\u00c3');
    expect(allowed).toContain('a');
    expect(await allowedAfter({ type: 'string', maxLength: 2 }, '"ab')).toEqual(['"']);
  });

  it('small integer ranges are exact (maximum 120 does not admit 125)', async () => {
    expect(await allowedAfter({ type: 'integer', minimum: 0, maximum: 120 }, '12')).toEqual(['0']);
  });

  it('type lists become anyOf, and malformed schemas are refused before they reach WASM', () => {
    expect(prepareSchema({ type: ['string', 'null'] })).toEqual({ anyOf: [{ type: 'string' }, { type: 'null' }] });
    expect(() => prepareSchema({ type: 12 })).toThrow(SchemaShapeError);
    expect(() => prepareSchema({ properties: { a: { type: 'object', required: 'a' } } })).toThrow(/schema\.properties\.a\.required/);
  });
});
