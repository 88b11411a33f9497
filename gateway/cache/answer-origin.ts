/**
 * Which destination produced a cached answer, stored beside it, so a hit is attributed to where the answer came from
 * (records count it as saved against the all-cloud price). The field never reaches a client.
 */
import type { JsonObject } from '../core/types.js';

const FIELD = 'x_switchyard_origin';

export interface AnswerOrigin {
  upstream: string;
  upstreamModel?: string;
}

export function withOrigin(answer: JsonObject, origin: Partial<AnswerOrigin>): JsonObject {
  if (!origin.upstream) return answer;
  return { ...answer, [FIELD]: { upstream: origin.upstream, ...(origin.upstreamModel ? { upstream_model: origin.upstreamModel } : {}) } };
}

export function splitOrigin(stored: JsonObject): { answer: JsonObject; origin?: AnswerOrigin } {
  const raw = stored[FIELD];
  if (raw === undefined) return { answer: stored };
  const { [FIELD]: _dropped, ...answer } = stored;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || typeof raw['upstream'] !== 'string') return { answer };
  const model = raw['upstream_model'];
  return { answer, origin: { upstream: raw['upstream'], ...(typeof model === 'string' ? { upstreamModel: model } : {}) } };
}
