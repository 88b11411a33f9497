/** Records leave the request path through a bounded queue: written in batches in the background, dropped (and counted) when the sink falls behind. */
import type { RequestRecord } from './request-record.js';

export interface RecordSink {
  write(batch: readonly RequestRecord[]): Promise<void>;
  close(): Promise<void>;
}

const BATCH_WINDOW_MS = 20;

export class RecordQueue {
  private queue: RequestRecord[] = [];
  private flushing: Promise<void> | undefined;
  dropped = 0;
  written = 0;
  failed = 0;

  constructor(
    private readonly sink: RecordSink,
    private readonly max: number,
  ) {}

  push(r: RequestRecord): void {
    if (this.queue.length >= this.max) {
      this.dropped++;
      return;
    }
    this.queue.push(r);
    // A short window gathers a batch: one write per ~BATCH_WINDOW_MS instead of one per event-loop turn under load.
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, BATCH_WINDOW_MS)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.sink.write(batch);
        this.written += batch.length;
      } catch {
        this.failed += batch.length;
      }
    }
    this.flushing = undefined;
  }

  /** Waits for everything queued so far to be written (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await (this.flushing ?? this.drain());
  }

  async close(): Promise<void> {
    await this.flush();
    await this.sink.close();
  }
}
