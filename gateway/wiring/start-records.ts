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
import { toRecord } from '../records/request-record.js';

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

/** The Redis stream side of records, loaded only when records go to Redis (ioredis is ~25 MB of RSS otherwise unused). */
async function redisRecords(config: GatewayConfig) {
  const rc = config.records;
  if (rc.sink !== 'redis') return undefined;
  if (!config.redis) throw new ConfigError('records.sink is redis but no `redis:` section is configured');
  const [{ createRedisClient }, { RedisStreamSink, readStreamRecords }] = await Promise.all([
    import('../redis/redis-connection.js'),
    import('../records/redis-stream-sink.js'),
  ]);
  const client = createRedisClient(config.redis, { maxRetriesPerRequest: 1, commandTimeout: 2000, enableOfflineQueue: true });
  return {
    sink: new RedisStreamSink(client, rc.redis_stream, rc.max_len),
    read: (from: number, to: number) => readStreamRecords(client, rc.redis_stream, from, to),
  };
}

export async function startRecords(
  config: GatewayConfig,
  upstreams: readonly Upstream[],
  breakerStates?: () => Array<{ upstream: string; state: string }>,
): Promise<RecordsWiring> {
  const rc = config.records;
  const redis = await redisRecords(config);
  const sink = rc.sink === 'jsonl' ? new JsonlSink(rc.dir, rc.max_file_bytes) : redis?.sink;
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
    return redis ? (await redis.read(from, to)).records : (await readJsonlRecords(rc.dir, from, to)).records;
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
              const r = await redis.read(from, to);
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
