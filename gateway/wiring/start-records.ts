/** Node wiring of records, metrics and the report page: sinks, readers, prom-client and Chart.js from the package. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { ConfigError } from '../config/load-config.js';
import type { RequestContext } from '../core/request-context.js';
import type { Upstream } from '../core/upstream.js';
import type { OperatorDeps } from '../services.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { buildReport, GROUPS } from '../report/report.js';
import { JsonlSink, readJsonlRecords } from '../records/jsonl-sink.js';
import type { RequestRecord } from '../records/request-record.js';
import { RecordQueue } from '../records/record-queue.js';
import { RedisStreamSink, readStreamRecords } from '../records/redis-stream-sink.js';
import { toRecord } from '../records/request-record.js';
import { createRedisClient } from '../redis/redis-connection.js';

export interface RecordsWiring {
  onComplete(ctx: RequestContext): void;
  operator: OperatorDeps;
  queue: RecordQueue | undefined;
  /** Records of the last `windowMs` (flushed first), for policy replay; absent without a sink. */
  read?(windowMs: number): Promise<RequestRecord[]>;
  close(): Promise<void>;
}

export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

export function startRecords(
  config: GatewayConfig,
  upstreams: readonly Upstream[],
  breakerStates?: () => Array<{ upstream: string; state: string }>,
): RecordsWiring {
  const rc = config.records;
  if (rc.sink === 'redis' && !config.redis) throw new ConfigError('records.sink is redis but no `redis:` section is configured');
  const redis =
    rc.sink === 'redis' && config.redis
      ? createRedisClient(config.redis, { maxRetriesPerRequest: 1, commandTimeout: 2000, enableOfflineQueue: true })
      : undefined;
  const sink =
    rc.sink === 'jsonl' ? new JsonlSink(rc.dir, rc.max_file_bytes) : redis ? new RedisStreamSink(redis, rc.redis_stream, rc.max_len) : undefined;
  const queue = sink ? new RecordQueue(sink, rc.queue_max) : undefined;
  const metrics = new GatewayMetrics(upstreams, {
    recordsDropped: () => queue?.dropped ?? 0,
    breakerStates,
    models: Object.keys(config.prices.models),
  });
  const zoneOf = (id: string) => upstreams.find((u) => u.id === id)?.zone ?? null;
  const read = async (windowMs: number): Promise<RequestRecord[]> => {
    await queue?.flush();
    const to = Date.now() + 1;
    const from = to - windowMs;
    return redis ? (await readStreamRecords(redis, rc.redis_stream, from, to)).records : (await readJsonlRecords(rc.dir, from, to)).records;
  };
  return {
    queue,
    ...(queue ? { read } : {}),
    onComplete(ctx) {
      queue?.push(toRecord(ctx, zoneOf, config.prices));
      metrics.observe(ctx);
    },
    operator: {
      metricsText: () => metrics.text(),
      chartJs: chartJsSource(),
      report: queue
        ? async (windowMs) => {
            await queue.flush();
            const to = Date.now() + 1;
            const from = to - windowMs;
            if (redis) {
              const r = await readStreamRecords(redis, rc.redis_stream, from, to);
              return buildReport(r.records, from, to, GROUPS, r.truncated ? ['the window reaches past what the stream retains'] : []);
            }
            const r = await readJsonlRecords(rc.dir, from, to);
            return buildReport(r.records, from, to, GROUPS, r.malformed ? [`${r.malformed} malformed record line(s) skipped`] : []);
          }
        : undefined,
    },
    async close() {
      await queue?.close();
    },
  };
}
