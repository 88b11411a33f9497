/** Node wiring of batch overflow: the `batch.overflow` config section -> a cloud Batch API client and its policy checks. */
import type { GatewayConfig } from '../config/schema.js';
import type { Router } from '../core/decision.js';
import type { RequestContext } from '../core/request-context.js';
import type { Upstream } from '../core/upstream.js';
import { CloudBatchClient } from '../batch/cloud-batch-client.js';
import { cloudOverflow, type BatchOverflow } from '../batch/cloud-overflow.js';

/** The overflow the config asks for, or undefined; the target must be a cloud upstream of this config. */
export function overflowFromConfig(
  config: GatewayConfig,
  upstreams: readonly Upstream[],
  router: Router,
  onComplete: (ctx: RequestContext) => void,
): BatchOverflow | undefined {
  const o = config.batch.overflow;
  if (!o) return undefined;
  const target = config.upstreams.find((u) => u.id === o.to);
  if (!target || upstreams.find((u) => u.id === o.to)?.zone !== 'cloud')
    throw new Error(
      `batch.overflow.to: '${o.to}' is not a cloud upstream in this config (upstreams: ${config.upstreams.map((u) => u.id).join(', ') || 'none'})`,
    );
  return cloudOverflow({
    upstreamId: target.id,
    client: new CloudBatchClient(target.url, target.api_key),
    discount: target.batch_discount,
    afterMs: o.after_ms,
    maxLines: o.max_lines,
    pollMs: o.poll_ms,
    router,
    onComplete,
  });
}
