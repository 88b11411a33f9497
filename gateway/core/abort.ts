/** Abort wiring in one place: listen once, and always hand back the unlink so no listener outlives its request. */
import type { CancelSignal } from './cancel.js';

/** Runs `fn` when `signal` aborts (at once if it already has); returns a function that removes the listener. */
export function onAbort(signal: CancelSignal, fn: (reason: unknown) => void): () => void {
  if (signal.aborted) {
    fn(signal.reason);
    return () => undefined;
  }
  const listener = () => fn(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** The abort reason as an Error (signals may carry anything). */
export function abortError(signal: CancelSignal, fallback = 'aborted'): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(fallback);
}
