/**
 * Single-flight for identical requests: the first runs the upstream call, the rest await the same answer. The shared
 * call is detached from any one client and cancelled only when every client that joined it has gone.
 */
import type { JsonObject } from '../core/types.js';
import { abortError, onAbort } from '../core/abort.js';
import { Cancel, type CancelSignal } from '../core/cancel.js';

interface Flight {
  promise: Promise<JsonObject>;
  waiters: number;
  controller: Cancel;
}

export class SingleFlight {
  private readonly flights = new Map<string, Flight>();

  get size(): number {
    return this.flights.size;
  }

  async run(
    key: string,
    clientSignal: CancelSignal,
    call: (signal: CancelSignal) => Promise<JsonObject>,
  ): Promise<{ body: JsonObject; shared: boolean }> {
    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (!flight) {
      const controller = new Cancel();
      const f: Flight = { controller, waiters: 0, promise: Promise.resolve({}) };
      f.promise = call(controller.signal).finally(() => {
        if (this.flights.get(key) === f) this.flights.delete(key);
      });
      f.promise.catch(() => undefined);
      this.flights.set(key, f);
      flight = f;
    }
    const f = flight;
    f.waiters++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      if (--f.waiters === 0) f.controller.abort(new Error('every client of this request has gone'));
    };
    try {
      const body = await new Promise<JsonObject>((resolve, reject) => {
        if (clientSignal.aborted) return reject(clientSignal.reason);
        const unlink = onAbort(clientSignal, () => {
          leave();
          reject(abortError(clientSignal, 'client disconnected'));
        });
        f.promise.then(resolve, reject).finally(unlink);
      });
      return { body, shared };
    } finally {
      left = true;
    }
  }
}
