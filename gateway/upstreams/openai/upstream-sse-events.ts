/**
 * An upstream's SSE body (undici) as ReadyEvents: each network read is parsed once and its events queued, so a reader
 * takes all of them with plain calls (`nextIfReady`) instead of one promise hop per event through a generator.
 * Ends at `[DONE]`; a body that ends without it was cut (an error). After `[DONE]` the rest of the body is drained,
 * not destroyed: destroying a response before its end resets the keep-alive connection.
 */
import type { Dispatcher } from 'undici';
import type { ReadyEvents } from '../../core/ready-events.js';
import { SseParser } from './sse-parser.js';

type Body = Dispatcher.ResponseData['body'];

const END: IteratorReturnResult<undefined> = { done: true, value: undefined };
/** How long the tail after [DONE] may take to arrive before the connection is given up. */
const DRAIN_GRACE_MS = 5_000;
/** How much of a tail after [DONE] is read to keep the connection; a longer one is not worth it. */
const DRAIN_LIMIT_BYTES = 65_536;

export interface UpstreamSseHooks {
  /** Maps a read failure to the error the client sees. */
  failure(err: unknown): Error;
  /** The error for a body that ended without [DONE]. */
  cut(): Error;
  /** Runs once, when the events are over for any reason. */
  release(): void;
}

export class UpstreamSseEvents implements ReadyEvents {
  private readonly parser = new SseParser();
  private readonly source: AsyncIterator<Uint8Array>;
  private queue: string[] = [];
  private head = 0;
  /** open: more may come; done: [DONE] seen; failed: `error` after the queue; closed: over, nothing more. */
  private state: 'open' | 'done' | 'failed' | 'closed' = 'open';
  private error: Error | undefined;

  constructor(
    private readonly body: Body,
    private readonly hooks: UpstreamSseHooks,
  ) {
    // An error listener must exist before any destroy, or undici's abort error escapes as an uncaught exception.
    body.on('error', () => {});
    this.source = body.iterator({ destroyOnReturn: false }) as AsyncIterator<Uint8Array>;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  nextIfReady(): IteratorResult<string, undefined> | undefined {
    if (this.head < this.queue.length) return { done: false, value: this.queue[this.head++]! };
    switch (this.state) {
      case 'open':
        return undefined;
      case 'failed': {
        const err = this.error!;
        this.close(false);
        throw err;
      }
      default:
        this.close(this.state === 'done');
        return END;
    }
  }

  async next(): Promise<IteratorResult<string, undefined>> {
    for (;;) {
      const r = this.nextIfReady();
      if (r) return r;
      await this.read();
    }
  }

  async return(): Promise<IteratorResult<string, undefined>> {
    this.close(false);
    return END;
  }

  /** One network read: its events are queued; [DONE], the end or a failure settle the state. */
  private async read(): Promise<void> {
    let data: string[];
    try {
      const r = await this.source.next();
      if (this.state === 'closed') return;
      data = r.done ? this.parser.end() : this.parser.push(r.value);
      if (r.done) this.state = 'failed'; // unless [DONE] is among the last events (below)
    } catch (err) {
      // A read failing because the reader closed us (client gone) is no news.
      if (this.state !== 'closed') this.fail(this.hooks.failure(err));
      return;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    for (const d of data) {
      if (d === '[DONE]') {
        this.state = 'done';
        return;
      }
      this.queue.push(d);
    }
    if (this.state === 'failed') this.fail(this.hooks.cut());
  }

  private fail(err: Error): void {
    this.state = 'failed';
    this.error = err;
  }

  private close(clean: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue = [];
    this.head = 0;
    const body = this.body;
    if (clean && !body.destroyed && !body.readableEnded) drain(body);
    else if (!body.destroyed) body.destroy();
    this.hooks.release();
  }
}

/**
 * Reads and drops what follows [DONE] (usually only the end of the chunked body), so the connection is reused.
 * Read in paused mode: the left-behind async iterator still listens to 'readable', which keeps 'data' from flowing.
 */
function drain(body: Body): void {
  let bytes = 0;
  const timer = setTimeout(() => body.destroy(), DRAIN_GRACE_MS);
  timer.unref?.();
  const readAll = () => {
    for (let chunk = body.read() as Uint8Array | null; chunk !== null; chunk = body.read() as Uint8Array | null) {
      bytes += chunk.byteLength;
      if (bytes > DRAIN_LIMIT_BYTES) return void body.destroy();
    }
  };
  body.on('readable', readAll);
  body.once('close', () => clearTimeout(timer));
  readAll();
}
