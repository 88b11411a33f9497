/** The text-bearing fields of a request and their redaction: what detectors scan and what `redact` rewrites. */
import type { JsonObject, JsonValue } from '../core/types.js';
import { redact, scan, type DetectorSpec, type Finding } from './detectors.js';

/**
 * Every field that carries text a client wrote and an upstream receives: messages (with tool results and assistant
 * tool-call arguments), prompt / suffix / input, the end-user id, tool and legacy function definitions (descriptions,
 * parameter schemas), predicted output, metadata values and response_format schemas.
 */
const TEXT_FIELDS = ['messages', 'prompt', 'suffix', 'input', 'user', 'tools', 'functions', 'prediction', 'metadata', 'response_format'] as const;

/** Keys whose values are protocol words, not text: never rewritten (a masked `role` or `type` breaks the request). */
const STRUCTURAL_KEYS = new Set(['role', 'type']);

/** All text of a request's text-bearing fields. */
export function requestText(body: JsonObject): string {
  const parts: string[] = [];
  const walk = (v: JsonValue | undefined) => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const k of TEXT_FIELDS) walk(body[k]);
  return parts.join('\n');
}

/**
 * Every string of the text-bearing fields scanned once (identical strings, e.g. a repeated system prompt, once in all):
 * the findings tag the request and the same per-string findings redact it, so nothing is scanned twice. Scanning each
 * string rather than the joined text also means a request is tagged only for what redaction can mask.
 */
export function scanRequest(body: JsonObject, detectors: readonly DetectorSpec[]): { findings: Finding[]; perString: Map<string, Finding[]> } {
  const perString = new Map<string, Finding[]>();
  const findings: Finding[] = [];
  const walk = (v: JsonValue | undefined) => {
    if (typeof v === 'string') {
      if (perString.has(v)) return;
      const f = scan(v, detectors);
      perString.set(v, f);
      findings.push(...f);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const k of TEXT_FIELDS) walk(body[k]);
  return { findings, perString };
}

/**
 * A copy of the body with every detected span masked; `masks` (when given) records mask -> original for unmasking.
 * `scanned` (from scanRequest) saves scanning the strings again.
 */
export function redactBody(
  body: JsonObject,
  detectors: readonly DetectorSpec[],
  masks?: Map<string, string>,
  scanned?: ReadonlyMap<string, readonly Finding[]>,
): JsonObject {
  const fix = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return redact(v, scanned?.get(v) ?? scan(v, detectors), masks);
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, STRUCTURAL_KEYS.has(k) ? x : fix(x)]));
    return v;
  };
  const out: JsonObject = { ...body };
  for (const k of TEXT_FIELDS) {
    const v = body[k];
    if (v !== undefined) out[k] = fix(v);
  }
  return out;
}
