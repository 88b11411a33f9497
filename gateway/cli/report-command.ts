/** `switchyard report`: cost, savings, latency and routing tables from request records (table, JSON, CSV or HTML). */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisClient, type RedisTarget } from '../redis/redis-connection.js';
import { parseConfig } from '../config/load-config.js';
import type { RequestRecord } from '../records/request-record.js';
import { readJsonlRecords } from '../records/jsonl-sink.js';
import { readStreamRecords } from '../records/redis-stream-sink.js';
import { buildReport, GROUPS, type GroupBy } from '../report/report.js';
import { formatCsv, formatJson, formatTable } from '../report/format-report.js';
import { dashboardHtml } from '../dashboard/dashboard-html.js';
import { chartJsSource } from '../wiring/start-records.js';
import { choiceFlag, listFlag, stringFlag, UsageError, type ParsedCommand } from './command-line.js';

const FORMATS = ['table', 'json', 'csv', 'html'] as const;

export function parseDuration(v: string, flag: string): number {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (!m) throw new UsageError(`${flag}: expected e.g. 30m, 1h, 7d (got '${v}')`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function parseTime(v: string, flag: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`${flag}: not a date/time: '${v}' (ISO 8601, e.g. 2026-11-24T00:00Z)`);
  return t;
}

/** Where the records are: flags first, then the config's `records:` section. */
export function recordSource(values: ParsedCommand['values']): { redis?: RedisTarget; stream: string; dir: string; dirFrom: string } {
  const cfgPath = stringFlag(values, 'config') ?? process.env['SWITCHYARD_CONFIG'];
  // Only the records section matters here: unset secrets read as placeholders.
  const config = cfgPath ? parseConfig(readFileSync(cfgPath, 'utf8'), cfgPath, process.env, 'placeholder') : undefined;
  const fromConfig = config?.records.sink === 'redis' ? config.redis : undefined;
  const dir = stringFlag(values, 'dir');
  return {
    redis: ((url) => (url ? { url } : undefined))(stringFlag(values, 'redis')) ?? (dir ? undefined : fromConfig),
    stream: values['stream'] !== 'switchyard:records' || !config ? String(values['stream']) : config.records.redis_stream,
    dir: dir ?? config?.records.dir ?? 'records',
    dirFrom: dir ? '--dir' : config ? `records.dir in ${cfgPath}` : 'the default (./records)',
  };
}

export async function readRedis(
  target: RedisTarget,
  stream: string,
  from: number,
  to: number,
): Promise<{ records: RequestRecord[]; notes: string[] }> {
  if (!target.url) {
    // Cluster or Sentinel from the config: the gateway's own client (it finds the stream's node or the current master).
    const client = createRedisClient(target, { commandTimeout: 5_000, maxRetriesPerRequest: 1, enableOfflineQueue: true });
    try {
      const r = await readStreamRecords(client, stream, from, to);
      return { records: r.records, notes: r.truncated ? ['the window reaches past what the stream retains'] : [] };
    } finally {
      client.disconnect();
    }
  }
  const url = target.url;
  // One attempt, no reconnect loop, and the error handled here: a down Redis is one line, not ioredis noise.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null, connectTimeout: 3000 });
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err));
  try {
    await redis.connect();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${url}: ${(cause ?? (err instanceof Error ? err : new Error(String(err)))).message}`);
  }
  try {
    const r = await readStreamRecords(redis, stream, from, to);
    return { records: r.records, notes: r.truncated ? ['the window reaches past what the stream retains'] : [] };
  } finally {
    redis.disconnect();
  }
}

export async function readDir(dir: string, dirFrom: string, from: number, to: number): Promise<{ records: RequestRecord[]; notes: string[] }> {
  const abs = resolve(dir);
  // A wrong directory must not read as "0 requests".
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new Error(
      `no records directory at ${abs} (from ${dirFrom}): pass --dir, or --config with the gateway's config (records.dir is relative to where the gateway runs)`,
    );
  }
  const r = await readJsonlRecords(abs, from, to);
  const notes = r.malformed ? [`${r.malformed} malformed record line(s) skipped`] : [];
  if (r.files === 0) notes.push(`${abs} holds no record files (records-YYYY-MM-DD.jsonl)`);
  return { records: r.records, notes };
}

export async function run({ values }: ParsedCommand): Promise<void> {
  const to = typeof values['to'] === 'string' ? parseTime(values['to'], '--to') : Date.now() + 1;
  const from = typeof values['from'] === 'string' ? parseTime(values['from'], '--from') : to - parseDuration(String(values['since']), '--since');
  if (from >= to) throw new UsageError('--from must be before --to');
  const groups = (listFlag(values, 'group') ?? [...GROUPS]) as GroupBy[];
  const bad = groups.filter((g) => !GROUPS.includes(g));
  if (bad.length) throw new UsageError(`--group: unknown ${bad.join(', ')} (choose from ${GROUPS.join(', ')})`);
  const format = choiceFlag(values, 'format', FORMATS)!;
  const src = recordSource(values);
  const { records, notes } = src.redis ? await readRedis(src.redis, src.stream, from, to) : await readDir(src.dir, src.dirFrom, from, to);
  const report = buildReport(records, from, to, groups, notes);
  const text =
    format === 'json'
      ? formatJson(report)
      : format === 'csv'
        ? formatCsv(report)
        : format === 'html'
          ? dashboardHtml({ report, chartJs: chartJsSource() })
          : formatTable(report);
  const out = stringFlag(values, 'out');
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}
