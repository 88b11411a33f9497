/** Prometheus gauges for one edge engine (prom-client), read from the stats the worker reports. */
import { Gauge, Registry } from 'prom-client';
import type { EngineStats } from '../../edge-runtime/engine/protocol.js';

export class EdgeMetrics {
  readonly registry = new Registry();
  private readonly gauges: Record<string, Gauge>;

  constructor(private readonly read: () => EngineStats | undefined) {
    const g = (name: string, help: string) => new Gauge({ name, help, labelNames: ['model'], registers: [this.registry] });
    this.gauges = {
      waiting: g('switchyard_edge_queue_depth', 'Requests waiting for admission'),
      running: g('switchyard_edge_running_sequences', 'Sequences in the running batch'),
      blocksUsed: g('switchyard_edge_kv_blocks_used', 'KV blocks held by sequences'),
      blocksFree: g('switchyard_edge_kv_blocks_free', 'KV blocks free (cached ones included)'),
      blocksCachedFree: g('switchyard_edge_kv_blocks_cached_free', 'Free KV blocks still holding a cached prefix'),
      kvUsage: g('switchyard_edge_kv_usage_ratio', 'Fraction of KV blocks in use'),
      prefixHitRate: g('switchyard_edge_prefix_cache_hit_ratio', 'Prompt tokens served from the prefix cache'),
      tokensPerSecond: g('switchyard_edge_tokens_per_second', 'Output tokens per second (recent window)'),
      predictedQueueWaitMs: g('switchyard_edge_predicted_queue_wait_ms', 'Predicted wait before a new request starts'),
      preempted: g('switchyard_edge_preemptions_total', 'Sequences preempted and recomputed'),
      totalGenerated: g('switchyard_edge_generated_tokens_total', 'Output tokens generated'),
    };
  }

  async text(): Promise<string> {
    const s = this.read();
    if (s) {
      for (const [field, gauge] of Object.entries(this.gauges)) {
        const v = s[field as keyof EngineStats];
        if (typeof v === 'number') gauge.set({ model: s.model }, v);
      }
    }
    return this.registry.metrics();
  }
}
