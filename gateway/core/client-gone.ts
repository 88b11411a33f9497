/** The client going away, from the entry's own hook when it has one, else from the Web-standard Request signal. */
import { onAbort } from './abort.js';

export interface ClientGoneHook {
  /** Runs `fn` if the client's connection closes before the answer is complete; returns the unlink. */
  onClientGone?: (fn: () => void) => () => void;
}

/** Runs `fn` once if the client disconnects before its answer is complete; returns a function that stops listening. */
export function onClientGone(env: ClientGoneHook | undefined, request: Request, fn: () => void): () => void {
  const hook = env?.onClientGone;
  return hook ? hook(fn) : onAbort(request.signal, fn);
}
