/** The edge engine gauges, defined once: the gateway's /metrics and the standalone edge server's /metrics both use them. */
import { Gauge, type Registry } from 'prom-client';
import type { Upstream, UpstreamEngineStats } from '../core/upstream.js';

const GAUGES: ReadonlyArray<[name: string, help: string, field: keyof Omit<UpstreamEngineStats, 'model' | 'load'>]> = [
  ['switchyard_edge_queue_depth', 'Edge requests waiting for admission', 'waiting'],
  ['switchyard_edge_running_sequences', 'Sequences in the edge running batch', 'running'],
  ['switchyard_edge_kv_blocks_used', 'Edge KV blocks held by sequences', 'blocksUsed'],
  ['switchyard_edge_kv_blocks_free', 'Edge KV blocks free (cached ones included)', 'blocksFree'],
  ['switchyard_edge_kv_blocks_cached_free', 'Free edge KV blocks still holding a cached prefix', 'blocksCachedFree'],
  ['switchyard_edge_kv_usage_ratio', 'Fraction of edge KV blocks in use', 'kvUsage'],
  ['switchyard_edge_prefix_cache_hit_ratio', 'Edge prompt tokens served from the prefix cache', 'prefixHitRate'],
  ['switchyard_edge_tokens_per_second', 'Edge output tokens per second (recent window)', 'tokensPerSecond'],
  ['switchyard_edge_predicted_queue_wait_ms', 'Predicted wait before a new edge request starts', 'predictedQueueWaitMs'],
  ['switchyard_edge_preemptions_total', 'Edge sequences preempted and recomputed', 'preempted'],
  ['switchyard_edge_generated_tokens_total', 'Output tokens the edge generated', 'totalGenerated'],
];

/** Registers every edge gauge, read at scrape time from the upstreams that report engine stats. */
export function registerEdgeGauges(registry: Registry, upstreams: readonly Upstream[]): void {
  const edge = upstreams.filter((u) => u.engineStats !== undefined);
  if (edge.length === 0) return;
  new Gauge({
    name: 'switchyard_edge_execution_path',
    help: 'The execution path (paged, assembled, assembled-grouped) and weight variant each edge model runs: 1',
    labelNames: ['upstream', 'model', 'path', 'variant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const u of edge) {
        const s = u.engineStats?.();
        if (s?.load) this.set({ upstream: u.id, model: s.model, path: s.load.path, variant: s.load.variant }, 1);
      }
    },
  });
  for (const [name, help, field] of GAUGES) {
    new Gauge({
      name,
      help,
      labelNames: ['upstream', 'model'],
      registers: [registry],
      collect() {
        for (const u of edge) {
          const s = u.engineStats?.();
          if (s) this.set({ upstream: u.id, model: s.model }, s[field]);
        }
      },
    });
  }
}
