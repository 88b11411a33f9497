/** Records as JSON lines, one file per UTC day, rotated by size (records-2026-11-24.jsonl, .1.jsonl, ...). */
import { appendFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordSink } from './record-queue.js';
import { requestRecordSchema, type RequestRecord } from './request-record.js';

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

export class JsonlSink implements RecordSink {
  /** The file each day is being appended to, and its size: stat'ed once, then counted (a stat per batch was a
   * thread-pool round trip per ~10 requests under load). */
  private current = new Map<string, { part: number; file: string; size: number }>();
  private dirReady: Promise<unknown> | undefined;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  private async fileFor(d: string): Promise<{ part: number; file: string; size: number }> {
    const cur = this.current.get(d);
    if (cur && cur.size < this.maxBytes) return cur;
    let n = cur ? cur.part + 1 : 0;
    for (;;) {
      const file = join(this.dir, `records-${d}${n > 0 ? `.${n}` : ''}.jsonl`);
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (size < this.maxBytes) {
        const next = { part: n, file, size };
        this.current.set(d, next);
        return next;
      }
      n++;
    }
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
      const text = lines.join('\n') + '\n';
      const target = await this.fileFor(d);
      try {
        await appendFile(target.file, text);
      } catch (err) {
        // The directory went away (cleaned up under us): make it again once, and start counting afresh.
        if ((err as { code?: string }).code !== 'ENOENT') throw err;
        this.current.clear();
        await mkdir(this.dir, { recursive: true });
        await appendFile(target.file, text);
      }
      target.size += Buffer.byteLength(text);
    }
  }

  async close(): Promise<void> {}
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
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
      if (!line) continue;
      try {
        const r = requestRecordSchema.parse(JSON.parse(line));
        if (r.time >= from && r.time < to) records.push(r);
      } catch {
        malformed++;
      }
    }
  }
  return { records: records.sort((a, b) => a.time - b.time), malformed, files: files.length };
}
