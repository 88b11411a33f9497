/** Cache keys for compiled grammars. */
import type { OutputConstraint } from '../engine/protocol.js';

export type { OutputConstraint } from '../engine/protocol.js';

export function constraintKey(c: OutputConstraint): string {
  return c.kind === 'json_object' ? 'json_object' : `json_schema:${c.schema}`;
}
