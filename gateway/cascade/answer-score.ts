/** Scores an edge answer for the cascade from the logprobs the edge returned: mean token log-probability, or P("yes"). */
import type { JsonObject } from '../core/types.js';
import { isJsonObject } from '../core/validate.js';

/** Mean log-probability per generated token of the first choice (chat or completions shape); undefined without logprobs. */
export function meanLogprob(answer: JsonObject): number | undefined {
  const choice = Array.isArray(answer['choices']) ? answer['choices'][0] : undefined;
  if (!isJsonObject(choice) || !isJsonObject(choice['logprobs'])) return undefined;
  const lp = choice['logprobs'];
  const values = Array.isArray(lp['content'])
    ? lp['content'].map((t) => (isJsonObject(t) ? t['logprob'] : undefined))
    : Array.isArray(lp['token_logprobs'])
      ? lp['token_logprobs']
      : [];
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (nums.length === 0) return undefined;
  return nums.reduce((a, b) => a + b, 0) / nums.length;
}

/** Probability the first generated token is "yes" (any case/spacing), from the first position's top alternatives. */
export function yesProbability(answer: JsonObject): number {
  const choice = Array.isArray(answer['choices']) ? answer['choices'][0] : undefined;
  if (!isJsonObject(choice) || !isJsonObject(choice['logprobs']) || !Array.isArray(choice['logprobs']['content'])) return 0;
  const first = choice['logprobs']['content'][0];
  if (!isJsonObject(first)) return 0;
  const alts = Array.isArray(first['top_logprobs']) ? first['top_logprobs'] : [first];
  let p = 0;
  for (const a of alts) {
    if (isJsonObject(a) && typeof a['token'] === 'string' && typeof a['logprob'] === 'number' && a['token'].trim().toLowerCase() === 'yes')
      p += Math.exp(a['logprob']);
  }
  return Math.min(1, p);
}

/** The text of the first choice (chat message content or completion text). */
export function answerText(answer: JsonObject): string {
  const choice = Array.isArray(answer['choices']) ? answer['choices'][0] : undefined;
  if (!isJsonObject(choice)) return '';
  const msg = choice['message'];
  if (isJsonObject(msg) && typeof msg['content'] === 'string') return msg['content'];
  return typeof choice['text'] === 'string' ? choice['text'] : '';
}
