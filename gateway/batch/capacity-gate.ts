/** When batch lines may start: below the concurrency cap, and only into idle edge capacity. */
import type { Upstream } from '../core/upstream.js';
import type { BatchConfig } from './batch-config.js';
import type { CapacityGate } from './batch-service.js';

/**
 * No line starts while any edge engine has interactive requests waiting, or runs as many sequences as `edge_share`
 * of its slots (`maxSeqs`); so a batch never queues ahead of an interactive request, and an interactive request
 * arriving mid-batch waits at most for the engine step in progress (chunked prefill bounds a step).
 */
export function edgeIdleGate(upstreams: readonly Upstream[], cfg: BatchConfig, maxSeqs: number): CapacityGate {
  const edges = upstreams.filter((u) => u.engineStats !== undefined);
  const slots = Math.max(1, Math.floor(cfg.edge_share * maxSeqs));
  return (running) => {
    let free = cfg.max_concurrency - running;
    for (const u of edges) {
      const s = u.engineStats?.();
      if (!s) continue;
      if (s.waiting > 0) return 0;
      free = Math.min(free, slots - s.running);
    }
    return Math.max(0, free);
  };
}
