/** Where `audit` and `policies replay` read records: one JSONL file (--records), else what `report` reads. */
import { existsSync, readFileSync } from 'node:fs';
import { requestRecordSchema, type RequestRecord } from '../records/request-record.js';
import { readDir, readRedis, recordSource } from './report-command.js';
import { stringFlag, type ParsedCommand } from './command-line.js';

export async function loadRecords(values: ParsedCommand['values'], from: number, to: number): Promise<{ records: RequestRecord[]; notes: string[] }> {
  const file = stringFlag(values, 'records');
  if (file) {
    if (!existsSync(file)) throw new Error(`no records file at ${file}`);
    const records: RequestRecord[] = [];
    let malformed = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const parsed = requestRecordSchema.safeParse(safeJson(line));
      if (!parsed.success) malformed++;
      else if (parsed.data.time >= from && parsed.data.time < to) records.push(parsed.data);
    }
    return { records, notes: malformed ? [`${malformed} malformed record line(s) skipped`] : [] };
  }
  const src = recordSource(values);
  return src.redis ? readRedis(src.redis, src.stream, from, to) : readDir(src.dir, src.dirFrom, from, to);
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
