/** `switchyard report`: cost, latency and routing tables from request records, as table, JSON, CSV or an HTML page. */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { readJsonlRecords } from '../records/jsonl-sink.js';
import { readStreamRecords } from '../records/redis-stream-sink.js';
import { buildReport, GROUPS, type GroupBy } from '../report/report.js';
import { formatCsv, formatJson, formatTable } from '../report/format-report.js';
import { dashboardHtml } from '../dashboard/dashboard-html.js';
import { chartJsSource } from '../wiring/start-records.js';

function parseSince(v: string): number {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (!m) throw new Error(`--since: expected e.g. 30m, 1h, 7d (got '${v}')`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function parseTime(v: string, flag: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${flag}: not a date/time: '${v}'`);
  return t;
}

export async function reportCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      since: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      dir: { type: 'string', default: 'records' },
      redis: { type: 'string' },
      stream: { type: 'string', default: 'switchyard:records' },
      group: { type: 'string' },
      format: { type: 'string', default: 'table' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const to = values.to ? parseTime(values.to, '--to') : Date.now() + 1;
  const from = values.from ? parseTime(values.from, '--from') : to - parseSince(values.since ?? '1h');
  if (from >= to) throw new Error('--from must be before --to');
  const groups = (values.group?.split(',') ?? [...GROUPS]) as GroupBy[];
  const bad = groups.filter((g) => !GROUPS.includes(g));
  if (bad.length) throw new Error(`--group: unknown ${bad.join(', ')} (choose from ${GROUPS.join(', ')})`);
  let records;
  const notes: string[] = [];
  if (values.redis) {
    const redis = new Redis(values.redis, { maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
    const r = await readStreamRecords(redis, values.stream, from, to);
    redis.disconnect();
    records = r.records;
    if (r.truncated) notes.push('the window reaches past what the stream retains');
  } else {
    const r = await readJsonlRecords(values.dir, from, to);
    records = r.records;
    if (r.malformed) notes.push(`${r.malformed} malformed record line(s) skipped`);
  }
  const report = buildReport(records, from, to, groups, notes);
  const text =
    values.format === 'json'
      ? formatJson(report)
      : values.format === 'csv'
        ? formatCsv(report)
        : values.format === 'html'
          ? dashboardHtml({ report, chartJs: chartJsSource() })
          : values.format === 'table'
            ? formatTable(report)
            : (() => {
                throw new Error(`--format: table, json, csv or html (got '${values.format}')`);
              })();
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
}
