/**
 * Event iterators that can hand over what they already hold without a promise per event. An SSE response batches the
 * events that are ready into one write; asking `nextIfReady` is a plain call, where probing an async generator for
 * readiness costs a promise race per event (the largest per-chunk item of the shared-stream path in the profile).
 */

export interface ReadyEvents extends AsyncIterableIterator<string> {
  /** The next step if it is known now (an event, or the end; a failure is thrown), undefined if it must be waited for. */
  nextIfReady(): IteratorResult<string, undefined> | undefined;
}

export function hasReadyEvents(it: AsyncIterator<string>): it is ReadyEvents {
  return typeof (it as Partial<ReadyEvents>).nextIfReady === 'function';
}

const END: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Events known in full up front (a cached answer replayed) as ReadyEvents. */
export function readyEventsOf(items: Iterable<string>): ReadyEvents {
  const it = items[Symbol.iterator]();
  let ended = false;
  const step = (): IteratorResult<string, undefined> => {
    if (ended) return END;
    const r = it.next();
    if (r.done) {
      ended = true;
      return END;
    }
    return { done: false, value: r.value };
  };
  return {
    nextIfReady: step,
    next: async () => step(),
    return: async () => {
      ended = true;
      return END;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
