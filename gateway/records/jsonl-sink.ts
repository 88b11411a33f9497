/** Records as JSON lines, one file per UTC day, rotated by size (records-2026-11-24.jsonl, .1.jsonl, ...). */
import { mkdir, open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordSink } from './record-queue.js';
import { requestRecordSchema, type RequestRecord } from './request-record.js';

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

interface DayFile {
  part: number;
  file: string;
  size: number;
  handle: FileHandle | undefined;
}

export class JsonlSink implements RecordSink {
  /**
   * The file each day is being appended to: its size stat'ed once, then counted, and kept open. A mkdir + stat +
   * appendFile (open, write, close) per batch were four thread-pool round trips per few requests under load.
   */
  private current = new Map<string, DayFile>();
  private dirReady: Promise<unknown> | undefined;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  private async fileFor(d: string): Promise<DayFile> {
    const cur = this.current.get(d);
    if (cur && cur.size < this.maxBytes) return cur;
    if (cur) await this.release(d, cur);
    // Another day's file is finished once a newer day starts.
    for (const [other, f] of this.current) if (other < d) await this.release(other, f);
    let n = cur ? cur.part + 1 : 0;
    for (;;) {
      const file = join(this.dir, `records-${d}${n > 0 ? `.${n}` : ''}.jsonl`);
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (size < this.maxBytes) {
        const next: DayFile = { part: n, file, size, handle: await open(file, 'a') };
        this.current.set(d, next);
        return next;
      }
      n++;
    }
  }

  private async release(d: string, f: DayFile): Promise<void> {
    if (this.current.get(d) === f) this.current.delete(d);
    const h = f.handle;
    f.handle = undefined;
    await h?.close();
  }

  async write(batch: readonly RequestRecord[]): Promise<void> {
    this.dirReady ??= mkdir(this.dir, { recursive: true });
    await this.dirReady;
    const byDay = new Map<string, string[]>();
    for (const r of batch) {
      // Appended in place: copying the day's list per record made a batch quadratic.
      const d = day(r.time);
      const lines = byDay.get(d);
      if (lines) lines.push(JSON.stringify(r));
      else byDay.set(d, [JSON.stringify(r)]);
    }
    for (const [d, lines] of byDay) {
      // Encoded once: the bytes written are the bytes counted.
      const bytes = Buffer.from(lines.join('\n') + '\n');
      const target = await this.fileFor(d);
      try {
        await target.handle!.appendFile(bytes);
      } catch (err) {
        // A failed write forgets the file: the next batch opens it again (and makes the directory if it went away).
        await this.release(d, target).catch(() => undefined);
        this.dirReady = undefined;
        throw err;
      }
      target.size += bytes.byteLength;
    }
  }

  async close(): Promise<void> {
    for (const [d, f] of [...this.current]) await this.release(d, f);
  }
}

/** Reads every record in [from, to) from a JSONL directory; malformed lines are counted, not fatal. */
export async function readJsonlRecords(
  dir: string,
  from: number,
  to: number,
): Promise<{ records: RequestRecord[]; malformed: number; files: number }> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^records-\d{4}-\d{2}-\d{2}(\.\d+)?\.jsonl$/.test(f));
  const records: RequestRecord[] = [];
  let malformed = 0;
  for (const f of files) {
    const d = Date.parse(f.slice(8, 18));
    if (d + 86_400_000 <= from || d >= to) continue;
    const parsed = parseJsonlRecords(await readFile(join(dir, f), 'utf8'), from, to);
    for (const r of parsed.records) records.push(r);
    malformed += parsed.malformed;
  }
  return { records: records.sort((a, b) => a.time - b.time), malformed, files: files.length };
}

/** The records of one JSONL text within [from, to); malformed lines and lines outside the window are counted. */
export function parseJsonlRecords(text: string, from: number, to: number): { records: RequestRecord[]; malformed: number; outside: number } {
  const records: RequestRecord[] = [];
  let malformed = 0;
  let outside = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: RequestRecord;
    try {
      r = requestRecordSchema.parse(JSON.parse(line));
    } catch {
      malformed++;
      continue;
    }
    if (r.time >= from && r.time < to) records.push(r);
    else outside++;
  }
  return { records, malformed, outside };
}
