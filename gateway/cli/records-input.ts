/** Where `audit` and `policies replay` read records: one JSONL file (--records), else what `report` reads. */
import { existsSync, readFileSync } from 'node:fs';
import type { RequestRecord } from '../records/request-record.js';
import { parseJsonlRecords } from '../records/jsonl-sink.js';
import { readDir, readRedis, recordSource } from './report-command.js';
import { stringFlag, UsageError, type ParsedCommand } from './command-line.js';

export async function loadRecords(values: ParsedCommand['values'], from: number, to: number): Promise<{ records: RequestRecord[]; notes: string[] }> {
  const file = stringFlag(values, 'records');
  if (file) {
    if (!existsSync(file)) throw new Error(`no records file at ${file}`);
    const { records, malformed, outside } = parseJsonlRecords(readFileSync(file, 'utf8'), from, to);
    // A gate that checked nothing must not pass: a file whose records all fall before --since is an error.
    if (records.length === 0 && outside > 0)
      throw new UsageError(`none of the ${outside} record(s) in ${file} fall within --since ${String(values['since'])}: widen --since`);
    return { records, notes: malformed ? [`${malformed} malformed record line(s) skipped`] : [] };
  }
  const src = recordSource(values);
  return src.redis ? readRedis(src.redis, src.stream, from, to) : readDir(src.dir, src.dirFrom, from, to);
}
