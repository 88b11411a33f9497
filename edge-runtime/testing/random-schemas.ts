/** Random JSON schemas for constrained-decoding property tests: objects, arrays, enums, bounded strings and integers. */
import fc from 'fast-check';

export type JsonSchema = Record<string, unknown>;

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const leaf: fc.Arbitrary<JsonSchema> = fc.oneof(
  fc.record({ type: fc.constant('string'), maxLength: fc.integer({ min: 0, max: 8 }) }),
  // Any small range (exact through the enum rewrite), and wide ranges of the form -(10^a - 1) .. 10^b - 1, which
  // xgrammar's range regex compiles exactly (see docs/ARCHITECTURE.md, "Agent fronts").
  fc
    .record({ lo: fc.integer({ min: -60, max: 60 }), span: fc.integer({ min: 0, max: 200 }) })
    .map(({ lo, span }) => ({ type: 'integer', minimum: lo, maximum: lo + span })),
  fc
    .record({ lo: fc.integer({ min: 0, max: 3 }), hi: fc.integer({ min: 3, max: 5 }) })
    .map(({ lo, hi }) => ({ type: 'integer', minimum: -(10 ** lo - 1), maximum: 10 ** hi - 1 })),
  fc.constant({ type: 'boolean' }),
  fc.constant({ type: 'null' }),
  fc
    .uniqueArray(fc.oneof(fc.stringMatching(/^[a-z ]{1,6}$/), fc.integer({ min: -99, max: 99 })), { minLength: 1, maxLength: 4 })
    .map((e) => ({ enum: e })),
);

/** Random object schemas whose every valid instance is short (bounded strings, integers and arrays). */
export const randomSchema: fc.Arbitrary<JsonSchema> = fc.letrec<{ node: JsonSchema; object: JsonSchema; array: JsonSchema }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
  object: fc.uniqueArray(fc.tuple(name, tie('node'), fc.boolean()), { minLength: 1, maxLength: 4, selector: ([k]) => k }).map((props) => ({
    type: 'object',
    properties: Object.fromEntries(props.map(([k, s]) => [k, s])),
    required: props.filter(([, , req]) => req).map(([k]) => k),
    additionalProperties: false,
  })),
  array: fc
    .tuple(tie('node'), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([items, min, extra]) => ({ type: 'array', items, minItems: min, maxItems: min + extra })),
})).object;
