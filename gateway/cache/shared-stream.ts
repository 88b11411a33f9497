/**
 * Single-flight for streams: identical concurrent streaming requests share one upstream stream. A pump reads the
 * upstream into a buffer that every joined client reads at its own pace (late joiners get what came before first);
 * the upstream call is cancelled only when every client has gone. Errors before the first byte reach every joiner as
 * ordinary errors; later ones end every client's stream with an error event.
 */
import type { UpstreamResult } from '../core/upstream.js';
import { onAbort } from '../core/abort.js';
import { Cancel, type CancelSignal } from '../core/cancel.js';
import { hasReadyEvents, type ReadyEvents } from '../core/ready-events.js';

class Flight {
  readonly chunks: string[] = [];
  done = false;
  error: unknown;
  clients = 0;
  readonly controller = new Cancel();
  private wake: Array<() => void> = [];

  notify(): void {
    // Called per upstream chunk: nothing to allocate while no reader waits (readers drain ready chunks synchronously).
    if (this.wake.length === 0) return;
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  waitForMore(): Promise<void> {
    return new Promise((r) => this.wake.push(r));
  }
}

const END: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** One client's position in a flight's buffer. `leave` runs once, when the client's stream ends for any reason. */
class FlightReader implements ReadyEvents {
  private i = 0;
  private closed = false;

  constructor(
    private readonly flight: Flight,
    private readonly leave: () => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  nextIfReady(): IteratorResult<string, undefined> | undefined {
    if (this.closed) return END;
    const f = this.flight;
    if (this.i < f.chunks.length) return { done: false, value: f.chunks[this.i++]! };
    if (f.error !== undefined) {
      this.close();
      throw f.error;
    }
    if (f.done) {
      this.close();
      return END;
    }
    return undefined;
  }

  async next(): Promise<IteratorResult<string, undefined>> {
    for (;;) {
      const r = this.nextIfReady();
      if (r) return r;
      await this.flight.waitForMore();
    }
  }

  async return(): Promise<IteratorResult<string, undefined>> {
    this.close();
    return END;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.leave();
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
    clientSignal: CancelSignal,
    start: (signal: CancelSignal) => Promise<UpstreamResult>,
    onComplete: (chunks: readonly string[]) => void,
  ): Promise<{ events: AsyncIterable<string>; shared: boolean }> {
    let entry = this.flights.get(key);
    const shared = entry !== undefined;
    if (!entry) {
      const flight = new Flight();
      const started = start(flight.controller.signal).then((r) => {
        if (r.kind !== 'stream') throw new Error('expected a stream');
        void (async () => {
          const it = r.events[Symbol.asyncIterator]();
          const ready = hasReadyEvents(it) ? it : undefined;
          try {
            for (let step = await it.next(); !step.done; step = await it.next()) {
              flight.chunks.push(step.value);
              // Everything the same upstream read carried joins before readers are woken: one wake-up per read.
              for (let more = ready?.nextIfReady(); more && !more.done; more = ready!.nextIfReady()) flight.chunks.push(more.value);
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
      events: new FlightReader(flight, () => {
        unlink();
        leave();
      }),
      shared,
    };
  }
}
