/**
 * Batch overflow to a cloud upstream's own Batch API: when the edge has had no idle capacity for a while, lines the
 * policy lets go to that upstream are sent as one cloud batch, priced at its batch rate. Each line is decided by the
 * same router as an interactive request: an edge-only (tagged) line, or one whose candidates do not include the
 * target, never goes; a redacting rule's body is the one sent.
 */
import type { Decision, Router } from '../core/decision.js';
import { inferenceRequestFromBody } from '../core/inference-request.js';
import type { Principal } from '../core/principal.js';
import type { RequestContext } from '../core/request-context.js';
import type { Endpoint } from '../core/types.js';
import { usageOf } from '../core/upstream.js';
import { isJsonObject } from '../core/validate.js';
import type { CloudBatchClient } from './cloud-batch-client.js';
import type { BatchEndpoint, BatchLine, BatchResultLine, OverflowLineMeta } from './batch-types.js';

export interface BatchOverflow {
  /** How long the edge must have had no idle capacity before lines overflow. */
  afterMs: number;
  maxLines: number;
  /** The line as the cloud would get it, or undefined when policy keeps it off that upstream. */
  prepare(line: BatchLine, principal: Principal): Promise<{ line: BatchLine; meta: OverflowLineMeta } | undefined>;
  submit(endpoint: BatchEndpoint, lines: readonly BatchLine[]): Promise<string>;
  collect(remoteId: string, signal: AbortSignal): Promise<BatchResultLine[]>;
  /** Called once per answered line: records it at the batch price. */
  recorded(meta: OverflowLineMeta, result: BatchResultLine, principal: Principal): void;
}

const ENDPOINTS: Record<BatchEndpoint, Endpoint> = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};

export function cloudOverflow(o: {
  upstreamId: string;
  client: CloudBatchClient;
  /** Batch price as a fraction of the upstream's normal price (OpenAI: 0.5). */
  discount: number;
  afterMs: number;
  maxLines: number;
  pollMs: number;
  router: Router;
  onComplete: (ctx: RequestContext) => void;
}): BatchOverflow {
  return {
    afterMs: o.afterMs,
    maxLines: o.maxLines,
    async prepare(line, principal) {
      let decision: Decision;
      try {
        const request = inferenceRequestFromBody(line.body as never, ENDPOINTS[line.url]);
        decision = await o.router.decide({ request, headers: new Headers(), principal });
      } catch {
        return undefined; // invalid or refused by policy: the local path answers it with the proper error
      }
      const target = decision.candidates.find((c) => c.upstream.id === o.upstreamId && c.zone === 'cloud');
      if (decision.edgeOnly || !target) return undefined;
      const { stream: _s, stream_options: _so, ...body } = { ...(decision.body ?? (line.body as Record<string, unknown>)) };
      return {
        line: { ...line, body: { ...body, model: target.upstreamModel } },
        meta: {
          custom_id: line.custom_id,
          endpoint: ENDPOINTS[line.url],
          model: String(line.body['model'] ?? ''),
          upstreamModel: target.upstreamModel,
          ruleId: decision.ruleId,
          policyVersion: decision.policyVersion,
          tags: [...decision.tags],
        },
      };
    },
    submit: (endpoint, lines) => o.client.submit(endpoint, lines),
    collect: (remoteId, signal) => o.client.collect(remoteId, o.pollMs, signal),
    recorded(meta, result, principal) {
      const body = result.response?.body;
      o.onComplete({
        id: result.response?.request_id || result.id,
        startedAt: Date.now(),
        endpoint: meta.endpoint,
        recorded: true,
        model: meta.model,
        stream: false,
        principal,
        ruleId: meta.ruleId,
        policyVersion: meta.policyVersion,
        tags: meta.tags,
        cache: 'bypass',
        upstream: o.upstreamId,
        upstreamModel: meta.upstreamModel,
        status: result.response?.status_code ?? 502,
        errorCode: result.error?.code ?? undefined,
        usage: isJsonObject(body) ? usageOf(body) : undefined,
        attempts: 1,
        headers: {},
        priceFactor: o.discount,
      });
    },
  };
}
