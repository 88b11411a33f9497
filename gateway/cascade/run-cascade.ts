/**
 * The edge-first cascade: the edge answers (whole, with logprobs), the answer is scored, and it is kept at or above
 * the threshold; below it the request goes to the escalation candidates (already privacy-filtered: a private request
 * whose data may not leave the edge has none, and keeps the edge answer). The client sees only the final answer; a
 * streaming client gets a kept answer replayed as chunks, an escalated one streamed from its destination.
 */
import type { CascadePlan, Decision } from '../core/decision.js';
import { dispatch, type Resilience } from '../core/dispatch.js';
import type { InferenceRequest } from '../core/inference-request.js';
import type { RequestContext } from '../core/request-context.js';
import type { JsonObject } from '../core/types.js';
import { usageOf, type UpstreamResult } from '../core/upstream.js';
import { replayAsChunks } from '../cache/stream-answer.js';
import { answerText, meanLogprob, yesProbability } from './answer-score.js';
import type { CancelSignal } from '../core/cancel.js';

export interface CascadeInput {
  request: InferenceRequest;
  body: JsonObject;
  decision: Decision;
  plan: CascadePlan;
  ctx: RequestContext;
  resilience: Resilience;
  signal: CancelSignal;
}

export async function runCascade(i: CascadeInput): Promise<UpstreamResult> {
  const { request, plan, ctx } = i;
  const chat = request.endpoint === 'chat.completions';
  const onEdge = { ...i.decision, candidates: plan.first, hedge: false };
  const send = (body: JsonObject, decision: Decision, stream: boolean) =>
    dispatch({ endpoint: request.endpoint, body, stream, signal: i.signal, decision, ctx, resilience: i.resilience });

  // Logprobs are asked for the score; the client's own logprobs setting decides whether it sees them.
  const wantsLogprobs = chat ? i.body['logprobs'] === true : typeof i.body['logprobs'] === 'number';
  const { stream_options: _so, ...rest } = i.body;
  const scored: JsonObject = { ...rest, stream: false, logprobs: chat ? true : Math.max(1, Number(i.body['logprobs'] ?? 1)) };
  const first = await send(scored, onEdge, false);
  if (first.kind !== 'json') throw new Error('the edge streamed an answer asked for whole');
  const score = plan.check === 'logprob' ? (meanLogprob(first.body) ?? -Infinity) : await selfCheck(i, first.body, onEdge, send);
  ctx.cascadeScore = score;
  const keep = score >= plan.threshold || plan.escalate.length === 0;
  ctx.cascade = keep ? 'kept' : 'escalated';
  ctx.headers['x-switchyard-cascade'] = `${ctx.cascade}; score=${Number.isFinite(score) ? score.toFixed(4) : String(score)}`;
  if (keep) {
    const body = wantsLogprobs ? first.body : withoutLogprobs(first.body);
    if (!request.stream) return { kind: 'json', body, usage: first.usage ?? usageOf(body) };
    return { kind: 'stream', events: toAsync(replayAsChunks(body)) };
  }
  ctx.fallbackUsed = true;
  return send(i.body, { ...i.decision, candidates: plan.escalate }, request.stream);
}

/** Asks the edge whether its answer is right; the score is the probability of "yes" as the first token. */
async function selfCheck(
  i: CascadeInput,
  answer: JsonObject,
  onEdge: Decision,
  send: (body: JsonObject, decision: Decision, stream: boolean) => Promise<UpstreamResult>,
): Promise<number> {
  const question = lastUserText(i.body);
  const prompt = `Question:\n${question}\n\nAnswer:\n${answerText(answer)}\n\nIs this answer correct and complete? Reply with yes or no.`;
  const check = await send(
    { model: i.body['model'] ?? '', messages: [{ role: 'user', content: prompt }], max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 5 },
    onEdge,
    false,
  );
  return check.kind === 'json' ? yesProbability(check.body) : 0;
}

function lastUserText(body: JsonObject): string {
  const msgs = Array.isArray(body['messages']) ? body['messages'] : [];
  for (let k = msgs.length - 1; k >= 0; k--) {
    const m = msgs[k];
    if (m && typeof m === 'object' && !Array.isArray(m) && m['role'] === 'user')
      return typeof m['content'] === 'string' ? m['content'] : JSON.stringify(m['content']);
  }
  return typeof body['prompt'] === 'string' ? body['prompt'] : '';
}

function withoutLogprobs(body: JsonObject): JsonObject {
  const choices = Array.isArray(body['choices']) ? body['choices'] : [];
  return { ...body, choices: choices.map((c) => (c && typeof c === 'object' && !Array.isArray(c) ? { ...c, logprobs: null } : c)) };
}

async function* toAsync(chunks: Iterable<string>): AsyncGenerator<string> {
  yield* chunks;
}
