/**
 * Single-flight for streams: identical concurrent streaming requests share one upstream stream. A pump reads the
 * upstream into a buffer that every joined client reads at its own pace (late joiners get what came before first);
 * the upstream call is cancelled only when every client has gone. Errors before the first byte reach every joiner as
 * ordinary errors; later ones end every client's stream with an error event.
 */
import type { UpstreamResult } from '../core/upstream.js';
import { onAbort } from '../core/abort.js';

class Flight {
  readonly chunks: string[] = [];
  done = false;
  error: unknown;
  clients = 0;
  readonly controller = new AbortController();
  private wake = new Set<() => void>();

  notify(): void {
    const w = this.wake;
    this.wake = new Set();
    for (const f of w) f();
  }

  waitForMore(): Promise<void> {
    return new Promise((r) => this.wake.add(r));
  }

  async *read(leave: () => void): AsyncGenerator<string> {
    let i = 0;
    try {
      for (;;) {
        while (i < this.chunks.length) yield this.chunks[i++]!;
        if (this.error !== undefined) throw this.error;
        if (this.done) return;
        await this.waitForMore();
      }
    } finally {
      leave();
    }
  }
}

export class SharedStreams {
  private readonly flights = new Map<string, { flight: Flight; started: Promise<void> }>();

  /**
   * Joins (or starts) the stream for `key`. `start` makes the upstream call; `onComplete` sees every chunk once the
   * stream has finished cleanly (to cache it).
   */
  async join(
    key: string,
    clientSignal: AbortSignal,
    start: (signal: AbortSignal) => Promise<UpstreamResult>,
    onComplete: (chunks: readonly string[]) => void,
  ): Promise<{ events: AsyncIterable<string>; shared: boolean }> {
    let entry = this.flights.get(key);
    const shared = entry !== undefined;
    if (!entry) {
      const flight = new Flight();
      const started = start(flight.controller.signal).then((r) => {
        if (r.kind !== 'stream') throw new Error('expected a stream');
        void (async () => {
          try {
            for await (const d of r.events) {
              flight.chunks.push(d);
              flight.notify();
            }
            flight.done = true;
            onComplete(flight.chunks);
          } catch (err) {
            flight.error = err;
          } finally {
            if (this.flights.get(key)?.flight === flight) this.flights.delete(key);
            flight.notify();
          }
        })();
      });
      started.catch(() => {
        if (this.flights.get(key)?.flight === flight) this.flights.delete(key);
      });
      entry = { flight, started };
      this.flights.set(key, entry);
    }
    const { flight, started } = entry;
    flight.clients++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      if (--flight.clients === 0 && !flight.done) flight.controller.abort(new Error('every client of this stream has gone'));
    };
    const unlink = onAbort(clientSignal, leave);
    try {
      await started;
    } catch (err) {
      leave();
      unlink();
      throw err;
    }
    return {
      events: flight.read(() => {
        unlink();
        leave();
      }),
      shared,
    };
  }
}
